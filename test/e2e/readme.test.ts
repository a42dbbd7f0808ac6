// Every TypeScript block of README.md, read from the README and run as written in a process of
// its own (see examples.ts): the README's code cannot drift from what is tested.

import { describe, expect, it } from "@effect/vitest"
import { FakeAnthropic } from "@fleetguard/testing"
import { Effect } from "effect"
import { blocks, run, write } from "./examples.js"

const readme = "README.md"

describe.concurrent("README.md", () => {
  it("has the three examples these tests run, and no other TypeScript block", () => {
    expect(blocks(readme)).toHaveLength(3)
  })

  it("the first example charges every call to its agent and logs what the fleet spent", async () => {
    const { code, stdout, stderr } = await run(write(readme, 0))
    expect(stderr).toBe("")
    expect(code).toBe(0)
    expect(stdout).toContain("spent $0.12 of $10")
  })

  it("the LlmClient example answers both agents, each with what it cost", async () => {
    const { code, stdout, stderr } = await run(write(readme, 1))
    expect(stderr).toBe("")
    expect(code).toBe(0)
    expect(stdout.match(/_tag: 'Right'/g)).toHaveLength(2)
    expect(stdout.match(/costUsd: \d/g)).toHaveLength(2)
  })

  it.effect(
    "the streaming example streams from FakeAnthropic through the SDK, then prints the cost on a line of its own",
    () =>
      Effect.gen(function* () {
        const fake = yield* FakeAnthropic.make({ outputTokens: 5 })
        const { code, stdout, stderr } = yield* Effect.promise(() =>
          run(write(readme, 2), {
            ANTHROPIC_API_KEY: fake.apiKey,
            ANTHROPIC_BASE_URL: fake.baseURL,
            FLEETGUARD_BUDGET_USD: "1"
          })
        )
        expect(stderr).toBe("")
        expect(code).toBe(0)
        const lines = stdout.trimEnd().split("\n")
        expect(lines).toHaveLength(2)
        expect(lines[0]?.trim().split(/\s+/)).toHaveLength(5)
        expect(lines[1]).toMatch(/^cost: \$0\.\d+$/)
        expect((yield* fake.requests).map((r) => r.path)).toEqual(["/v1/messages"])
      }).pipe(Effect.scoped)
  )

  it("the streaming example, with no environment, says in one line which variable is missing", async () => {
    const file = write(readme, 2)
    const none = await run(file)
    expect(none.code).toBe(1)
    expect(none.stdout).toBe("")
    expect(none.stderr).toBe(
      "ANTHROPIC_API_KEY is not set: set it to your Anthropic API key (or use FakeAnthropic in tests)\n"
    )
    const noBudget = await run(file, { ANTHROPIC_API_KEY: "sk-test" })
    expect(noBudget).toEqual({ code: 1, stdout: "", stderr: "FLEETGUARD_BUDGET_USD is not set\n" })
    const bad = await run(file, { ANTHROPIC_API_KEY: "sk-test", FLEETGUARD_BUDGET_USD: "0x10" })
    expect(bad).toEqual({
      code: 1,
      stdout: "",
      stderr: 'FLEETGUARD_BUDGET_USD must be a decimal number (e.g. 10 or 0.5), got "0x10"\n'
    })
  })
})
