// docs/writing-a-backend.md as a user follows it: its store (block 1), its contract test (block 2)
// and its program (block 3) are written side by side as the page names them, type-checked, the
// program run, and the store held to every check of the published Budget contract.
import { execFile } from "node:child_process"
import { mkdirSync, writeFileSync } from "node:fs"
import { describe, expect, it } from "@effect/vitest"
import type { BudgetOptions } from "@fleetguard/core"
import { Contract } from "@fleetguard/testing/contract"
import { Effect, type Layer } from "effect"
import { blocks, generated, root, run } from "./examples.js"

const page = "docs/writing-a-backend.md"
const dir = `${generated}writing-a-backend/`
const files = ["casBudget.ts", "casBudget.contract.ts", "program.ts"] as const

const written = (() => {
  mkdirSync(dir, { recursive: true })
  const code = blocks(page)
  return files.map((file, index) => {
    writeFileSync(`${dir}${file}`, code[index] ?? "")
    return `${dir}${file}`
  })
})()

interface Store {
  readonly layer: (options: BudgetOptions, store: unknown, key: string) => Layer.Layer<never, unknown>
  readonly inMemoryStore: () => unknown
}

describe(page, () => {
  it("has the three blocks the page walks through", () => {
    expect(blocks(page)).toHaveLength(files.length)
  })

  it("type-checks as written", async () => {
    writeFileSync(
      `${dir}tsconfig.json`,
      JSON.stringify({
        extends: "../../../tsconfig.base.json",
        compilerOptions: { noEmit: true, noUnusedLocals: false },
        files: [...files]
      })
    )
    const output = await new Promise<string>((resolve) =>
      execFile(
        process.execPath,
        [`${root}node_modules/typescript/bin/tsc`, "-p", `${dir}tsconfig.json`],
        { cwd: root, timeout: 110_000 },
        (error, stdout, stderr) => resolve(error === null ? "" : `${stdout}${stderr}` || String(error))
      )
    )
    expect(output).toBe("")
  }, 120_000)

  it("its program runs over the store and charges the call", async () => {
    const { code, stdout, stderr } = await run(written[2] ?? "")
    expect(stderr).toBe("")
    expect(code).toBe(0)
    expect(stdout).toMatch(/^charged \$0\.\d+; the store holds \$0\.\d+ spent\n$/)
  })

  it.effect("its store keeps every check of the published Budget contract", () =>
    Effect.gen(function* () {
      const store: Store = yield* Effect.promise(() => import(written[0] ?? ""))
      const checks = Contract.budgetChecks((options) => store.layer(options, store.inMemoryStore(), "fleet") as never, {
        samples: (n) => Math.ceil(n / 3)
      })
      expect(checks.length).toBeGreaterThan(5)
      const failed: Array<string> = []
      for (const check of checks) {
        const exit = yield* Effect.exit(check.run)
        if (exit._tag === "Failure") failed.push(check.name)
      }
      expect(failed).toEqual([])
    })
  )
})
