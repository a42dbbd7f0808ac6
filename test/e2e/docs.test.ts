// The runnable examples of the docs pages, read from the markdown and run as written in a process
// of their own (see examples.ts); and every TypeScript block of these pages and of the README,
// type-checked as written.

import { execFile } from "node:child_process"
import { readdirSync, writeFileSync } from "node:fs"
import { relative } from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { FakeAnthropic } from "@fleetguard/testing"
import { Effect } from "effect"
import { fences, imports, installs, parseSpec, section, specs } from "../../scripts/verify-install/markdown.js"
import { blocks, generated, read, root, run, write } from "./examples.js"

const packageReadmes = readdirSync(`${root}packages`).map((name) => `packages/${name}/README.md`)

// @effect/ai is a dependency of @fleetguard/effect-ai's only: its README's example is written where that resolves.
const effectAiReadme = "packages/effect-ai/README.md"
const effectAiGenerated = `${root}packages/effect-ai/test/generated/`
const writeBlock = (doc: string, index: number) =>
  doc === effectAiReadme ? write(doc, index, effectAiGenerated) : write(doc, index)

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
    [
      /^(\d+ characters, \$0\.\d+\n){3}agents: 3, reserved now: \$0\n$/,
      /^answered: 10, 429s: [1-5]\n$/,
      /^"lorem ipsum dolor sit amet" after 529, 200\n$/
    ]
  ],
  ["docs/guards.md", [/^echo: hello: spent \$0\.002, reserved \$0\n$/]],
  [
    "docs/tools.md",
    [
      /^reserved before the call: at most \$\d+\.\d{4}\nrefused: temperature\nrefused: toolChoice\.name\n$/,
      /^answer: the report, from 4 findings \(2 sub-queries dropped\)\ncalls: 6, by 5 agents\ntook 6s on the TestClock\n$/,
      /^tool_use: plan in 5 pieces, \{"queries":\["costs","rate limits"\]\}\nparsed: \{"queries":\["costs","rate limits"\]\}\n$/
    ]
  ],
  ["docs/architecture.md", []],
  ["docs/configuration.md", []],
  ["docs/failure-modes.md", []],
  ["packages/core/README.md", [/^spent \$0\.03 of \$1\n$/]],
  ["packages/testing/README.md", [/^\d+ characters, \$0\.\d+\n$/]]
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

it("every TypeScript block of the README, of these pages and of each package's README type-checks as written", async () => {
  const docs = [...new Set(["README.md", ...pages.map(([doc]) => doc), ...packageReadmes])]
  const files = docs.flatMap((doc) => blocks(doc).map((_, index) => writeBlock(doc, index)))
  writeFileSync(
    `${generated}tsconfig.json`,
    JSON.stringify({
      extends: "../../tsconfig.base.json",
      compilerOptions: { noEmit: true, noUnusedLocals: false },
      files: files.map((file) => relative(generated, file))
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

/** Every page a user reads: the README, docs/*.md and each package's README. */
const everyPage = [
  "README.md",
  ...readdirSync(`${root}docs`)
    .filter((name) => name.endsWith(".md"))
    .map((name) => `docs/${name}`),
  ...packageReadmes
]

/** The version of each package from npm that the workspace is built and tested with. */
const tested: ReadonlyMap<string, string> = new Map(
  ["package.json", ...readdirSync(`${root}packages`).map((name) => `packages/${name}/package.json`)].flatMap((file) => {
    const manifest = JSON.parse(read(file))
    return Object.entries<string>({ ...manifest.dependencies, ...manifest.devDependencies })
      .filter(([, version]) => !version.startsWith("workspace:"))
      .map(([name, version]) => [name, version.replace(/^\^/, "")] as const)
  })
)

/** Whether `range` (a caret range, or an exact version) admits `version` and nothing of another major. */
const admits = (range: string, version: string): boolean => {
  const caret = /^\^(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(range)
  if (caret === null) return range === version
  const floor = [caret[1], caret[2], caret[3]].map((part) => Number(part ?? 0))
  const [major = 0, minor = 0, patch = 0] = version.split(".").map(Number)
  const [fMajor = 0, fMinor = 0, fPatch = 0] = floor
  const atLeast = major !== fMajor ? major > fMajor : minor !== fMinor ? minor > fMinor : patch >= fPatch
  // A caret range stops before its first non-zero part changes (^0.97 admits 0.97.x, not 0.98).
  const sameBreaking =
    fMajor > 0 || caret[2] === undefined
      ? major === fMajor
      : fMinor > 0 || caret[3] === undefined
        ? major === 0 && minor === fMinor
        : major === 0 && minor === 0 && patch === fPatch
  return atLeast && sameBreaking
}

describe("install lines", () => {
  it("every npm install line pins each package from npm to a range that admits the version tested here", () => {
    const problems = everyPage.flatMap((page) =>
      installs(read(page)).flatMap((install) =>
        specs(install)
          .map(parseSpec)
          .filter(({ name }) => !name.startsWith("@fleetguard/"))
          .flatMap(({ name, range }) => {
            const version = tested.get(name)
            if (version === undefined) return [`${page}: ${name} is no version tested here`]
            if (range === undefined) return [`${page}: ${name} has no range (npm would install its latest)`]
            return admits(range, version) ? [] : [`${page}: ${name}@${range} does not admit ${version}`]
          })
      )
    )
    expect(problems).toEqual([])
  })

  it("the README, getting-started.md, effect-ai.md and each package's README install every package their examples import", () => {
    for (const page of ["README.md", "docs/getting-started.md", "docs/effect-ai.md", ...packageReadmes]) {
      const markdown = read(page)
      const installed = new Set(installs(markdown).flatMap((install) => specs(install).map((s) => parseSpec(s).name)))
      expect(
        [...imports(markdown)].filter((name) => !installed.has(name)),
        page
      ).toEqual([])
    }
  })

  it("the README says fleetguard is on Effect 3 next to its install line, and why a pin", () => {
    expect(section(read("README.md"), "Install")).toMatch(/built on Effect 3 \(3\.22\)[^.]*Effect 4[^.]*4\.x/)
  })
})

describe("the pages a newcomer follows", () => {
  it("getting-started.md says how to run an example: tsx, or tsc with a NodeNext, strict tsconfig", () => {
    const running = section(read("docs/getting-started.md"), "Running an example")
    expect(running).toContain("npx tsx example.ts")
    const tsconfig = JSON.parse(fences(running, "json")[0] ?? "{}")
    expect(tsconfig.compilerOptions).toMatchObject({ module: "NodeNext", moduleResolution: "NodeNext", strict: true })
  })

  it("FakeAnthropic is introduced with its own key (fake.apiKey): any other key is answered 401", () => {
    for (const page of ["docs/providers.md", "docs/getting-started.md"]) {
      expect(read(page), page).toMatch(/apiKey: Redacted\.make\(fake\.apiKey\)/)
    }
  })

  it("every page provides the guards with Layer.provideMerge, as the README does, so that they stay usable", () => {
    const provided = everyPage.flatMap((page) =>
      Array.from(read(page).matchAll(/Layer\.(provide\w*)\(\s*Guards\./g), (m) => `${page}: Layer.${m[1]}`)
    )
    expect(provided.filter((use) => !use.endsWith("provideMerge"))).toEqual([])
  })
})

describe("each package's README, which npm shows on the package's page", () => {
  for (const name of readdirSync(`${root}packages`)) {
    it(`packages/${name}: what it is, how to install it, an example, and a link to the docs`, () => {
      const manifest = JSON.parse(read(`packages/${name}/package.json`))
      const markdown = read(`packages/${name}/README.md`)
      expect(markdown.split("\n")[0]).toBe(`# ${manifest.name}`)
      expect(installs(markdown).some((install) => specs(install).includes(manifest.name))).toBe(true)
      expect(fences(markdown, "ts").length + fences(markdown, "sh").length).toBeGreaterThan(1)
      const repository = String(manifest.repository.url)
        .replace(/^git\+/, "")
        .replace(/\.git$/, "")
      expect(markdown).toContain(`${repository}/tree/main/docs/`)
    })
  }
})

it.effect("packages/effect-ai/README.md's example answers through FakeAnthropic, guarded", () =>
  Effect.gen(function* () {
    const fake = yield* FakeAnthropic.make({ outputTokens: 5 })
    const env = { ANTHROPIC_API_KEY: fake.apiKey, ANTHROPIC_BASE_URL: fake.baseURL, FLEETGUARD_BUDGET_USD: "1" }
    const ran = yield* Effect.promise(() => run(writeBlock(effectAiReadme, 0), env))
    expect(ran).toEqual({ code: 0, stdout: "lorem ipsum dolor sit amet\n", stderr: "" })
    expect((yield* fake.requests).map((request) => request.body)).toEqual([
      expect.objectContaining({ model: "claude-haiku-4-5", max_tokens: 300 })
    ])
  }).pipe(Effect.scoped)
)
