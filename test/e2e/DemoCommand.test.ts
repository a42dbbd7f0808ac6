import { NodeContext } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect } from "effect"
import { inProcess } from "../support/cli.js"

// No environment at all: ANTHROPIC_API_KEY is unset whatever the machine has.
const noEnvironment = Effect.withConfigProvider(ConfigProvider.fromMap(new Map()))

describe("fleetguard demo, its command line", () => {
  it.effect("refuses a bad value as a usage error (exit 2, as status does): one line naming it, then the usage", () =>
    Effect.gen(function* () {
      const usage = (stderr: string) => stderr.split("\n").slice(1).join("\n")
      const scenario = yield* inProcess(["demo", "--scenario", "storms"])
      expect(scenario.code).toBe(2)
      expect(scenario.stdout).toBe("")
      expect(scenario.stderr.split("\n")[0]).toBe(
        '--scenario "storms": not a scenario (storm, budget, fanout, trip, all)'
      )
      expect(usage(scenario.stderr)).toContain("usage: fleetguard demo")
      for (const limit of ["abc", "0", "-1", "1e3", "11"]) {
        const refused = yield* inProcess(["demo", "--live", "--limit", limit])
        expect(refused.code).toBe(2)
        expect(refused.stderr.split("\n")[0]).toBe(
          `--limit ${JSON.stringify(limit)}: must be an amount of USD above 0 and at most 10`
        )
        expect(usage(refused.stderr)).toContain("usage: fleetguard demo")
      }
      // The same rule as status: a bad argument is a usage error.
      expect((yield* inProcess(["status", "--since", "soon"])).code).toBe(2)
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
