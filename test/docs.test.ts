// The runnable examples of the docs pages, read from the markdown and run as written in a process
// of their own (see examples.ts); and every TypeScript block of these pages and of the README,
// type-checked as written.

import { execFile } from "node:child_process"
import { writeFileSync } from "node:fs"
import { describe, expect, it } from "@effect/vitest"
import { blocks, generated, root, run, write } from "./examples.js"

/** Each page, and what each of its TypeScript blocks prints, in order. */
const pages: ReadonlyArray<readonly [doc: string, outputs: ReadonlyArray<RegExp>]> = [
  [
    "docs/budget.md",
    [/^agent "a" budget exceeded: asked \$0\.3, \$0\.1 left of \$0\.6\nfleet: \$0\.5 spent of \$2\n$/]
  ],
  ["docs/concurrency.md", [/^peak in flight: 3\nwaited for the gate: true\n$/]],
  ["docs/depth.md", [/^agents run: 21\nbranches dropped by maxFanOut: 42\nbranches refused at maxDepth: 64\n$/]],
  [
    "docs/circuit-breaker.md",
    [
      /^failed upstream: 3\ninterrupted by the trip: 5, within a second: true\nnext call: CircuitOpen: circuit open for \d+ ms\nstate: Open\n$/
    ]
  ],
  [
    "docs/retry.md",
    [/^attempts: 3, answer: three words here\ncharged the timed-out attempt's reservation and the answer: true\n$/]
  ],
  [
    "docs/getting-started.md",
    [/^(\d+ characters, \$0\.\d+\n){3}agents: 3, reserved now: \$0\n$/, /^answered: 10, 429s: [1-5]\n$/]
  ],
  ["docs/guards.md", [/^echo: hello: spent \$0\.002, reserved \$0\n$/]],
  ["docs/architecture.md", []],
  ["docs/configuration.md", []],
  ["docs/failure-modes.md", []]
]

describe.concurrent("the docs' examples", () => {
  for (const [doc, outputs] of pages) {
    it(`${doc} has one tested example per TypeScript block`, () => {
      expect(blocks(doc)).toHaveLength(outputs.length)
    })
    outputs.forEach((output, index) => {
      it(`${doc}, example ${index + 1}, prints what the page says`, async () => {
        const { code, stdout, stderr } = await run(write(doc, index))
        expect(stderr).toBe("")
        expect(code).toBe(0)
        expect(stdout).toMatch(output)
      })
    })
  }
})

it("every TypeScript block of the README and of these pages type-checks as written", async () => {
  const docs = ["README.md", ...pages.map(([doc]) => doc)]
  const files = docs.flatMap((doc) => blocks(doc).map((_, index) => write(doc, index)))
  writeFileSync(
    `${generated}tsconfig.json`,
    JSON.stringify({
      extends: "../../tsconfig.base.json",
      compilerOptions: { noEmit: true, noUnusedLocals: false },
      files: files.map((file) => file.slice(generated.length))
    })
  )
  const output = await new Promise<string>((resolve) =>
    execFile(
      process.execPath,
      [`${root}node_modules/typescript/bin/tsc`, "-p", `${generated}tsconfig.json`],
      { cwd: root, timeout: 110_000 },
      (error, stdout, stderr) => resolve(error === null ? "" : `${stdout}${stderr}` || String(error))
    )
  )
  expect(output).toBe("")
}, 120_000)
