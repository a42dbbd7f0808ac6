import { NodeContext } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect } from "effect"
import { inProcess } from "./cli.js"

// No environment at all: ANTHROPIC_API_KEY is unset whatever the machine has.
const noEnvironment = Effect.withConfigProvider(ConfigProvider.fromMap(new Map()))

describe("fleetguard demo, its command line", () => {
  it.effect("refuses a bad option in one line naming it, before running anything", () =>
    Effect.gen(function* () {
      const scenario = yield* inProcess(["demo", "--scenario", "storms"])
      expect(scenario).toMatchObject({
        code: 1,
        stdout: "",
        stderr: 'fleetguard: --scenario "storms": not a scenario (storm, budget, fanout, trip, all)\n'
      })
      for (const limit of ["abc", "0", "-1", "1e3", "11"]) {
        const refused = yield* inProcess(["demo", "--live", "--limit", limit])
        expect(refused.code).toBe(1)
        expect(refused.stderr).toBe(
          `fleetguard: --limit ${JSON.stringify(limit)}: must be an amount of USD above 0 and at most 10\n`
        )
      }
    }).pipe(Effect.provide(NodeContext.layer))
  )

  it.effect("--live without ANTHROPIC_API_KEY refuses with one plain line, no trace", () =>
    Effect.gen(function* () {
      const live = yield* inProcess(["demo", "--live"])
      expect(live.code).toBe(1)
      expect(live.stdout).toBe("")
      expect(live.stderr.trim().split("\n")).toEqual([
        "fleetguard: --live needs ANTHROPIC_API_KEY set: it runs against the real API (and spends at most --limit USD)"
      ])
    }).pipe(noEnvironment, Effect.provide(NodeContext.layer))
  )
})
