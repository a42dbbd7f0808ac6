import { describe, expect, it } from "@effect/vitest"
import { Guards } from "@fleetguard/core"
import { ConfigError, ConfigProvider, Effect, Layer } from "effect"
import { Env } from "../src/index.js"

const explainedFrom = (env: Record<string, string>) =>
  Effect.scoped(Layer.build(Guards.layerConfig())).pipe(
    Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))),
    Effect.flip,
    Effect.map((error) => (ConfigError.isConfigError(error) ? Env.explain(error) : `not a ConfigError: ${error}`))
  )

describe("Env.explain", () => {
  it("names the variable of each kind of error, on one line", () => {
    expect(Env.explain(ConfigError.MissingData(["FLEETGUARD_BUDGET_USD"], "Expected it"))).toBe(
      "FLEETGUARD_BUDGET_USD is not set"
    )
    expect(Env.explain(ConfigError.InvalidData(["FLEETGUARD_MAX_CONCURRENCY"], "must be a whole number"))).toBe(
      "FLEETGUARD_MAX_CONCURRENCY must be a whole number"
    )
    expect(Env.explain(ConfigError.MissingData([], "ANTHROPIC_API_KEY is not set: set it"))).toBe(
      "ANTHROPIC_API_KEY is not set: set it"
    )
  })

  it("of two alternatives shows the fallback's; of two failures, the first", () => {
    const missing = ConfigError.MissingData(["A"], "")
    const invalid = ConfigError.InvalidData(["B"], "is wrong")
    expect(Env.explain(ConfigError.Or(missing, invalid))).toBe("B is wrong")
    expect(Env.explain(ConfigError.And(invalid, missing))).toBe("B is wrong")
  })

  it.effect("explains what Guards.layerConfig refuses", () =>
    Effect.gen(function* () {
      expect(yield* explainedFrom({})).toMatch(/^FLEETGUARD_\w+ is not set$/)
      const bad = yield* explainedFrom({
        FLEETGUARD_BUDGET_USD: "0x10",
        FLEETGUARD_AGENT_BUDGET_USD: "1",
        FLEETGUARD_MAX_CONCURRENCY: "4",
        FLEETGUARD_MAX_DEPTH: "3",
        FLEETGUARD_MAX_FAN_OUT: "4"
      })
      expect(bad).toMatch(/^FLEETGUARD_BUDGET_USD .*0x10/)
      expect(bad).not.toContain("\n")
    })
  )
})

describe("every numeric variable out of range fails naming it", () => {
  const required = { FLEETGUARD_BUDGET_USD: "10" }
  const numeric = [
    "FLEETGUARD_BUDGET_USD",
    "FLEETGUARD_AGENT_BUDGET_USD",
    "FLEETGUARD_ALERT_AT",
    "FLEETGUARD_MAX_CONCURRENCY",
    "FLEETGUARD_RELEASE_WINDOW",
    "FLEETGUARD_MAX_PAUSE",
    "FLEETGUARD_MAX_DEPTH",
    "FLEETGUARD_MAX_FANOUT",
    "FLEETGUARD_BREAKER_THRESHOLD",
    "FLEETGUARD_BREAKER_RESET",
    "FLEETGUARD_BREAKER_HALF_OPEN_CALLS",
    "FLEETGUARD_JOURNAL_MAX_BYTES",
    "FLEETGUARD_JOURNAL_MAX_FILES"
  ]
  // Past a double's range (Infinity once read), and past any whole number a guard takes.
  const values = ["1e309", "-1e309", "9".repeat(400), "99999999999999999999"]

  it.effect("Guards.layerConfig: the explanation starts with the variable", () =>
    Effect.gen(function* () {
      for (const variable of numeric) {
        for (const value of values) {
          // The journal's variables are read only with FLEETGUARD_JOURNAL set.
          const journal = variable.startsWith("FLEETGUARD_JOURNAL") ? { FLEETGUARD_JOURNAL: "/tmp/unused.jsonl" } : {}
          const explained = yield* explainedFrom({ ...required, ...journal, [variable]: value })
          expect(explained, `${variable}=${value}`).toMatch(new RegExp(`^${variable} `))
        }
      }
    })
  )

  it.effect("Env.number and Env.int name the variable whatever the value", () =>
    Effect.gen(function* () {
      const cases = [
        [Env.number, ["1e309", "-1e309", "9".repeat(400), "1e400", "ten", ""]],
        [Env.int, values]
      ] as const
      for (const [read, refused] of cases) {
        for (const value of refused) {
          const error = yield* Effect.flip(
            Effect.withConfigProvider(read("FLEETGUARD_X"), ConfigProvider.fromMap(new Map([["FLEETGUARD_X", value]])))
          )
          expect(Env.explain(error), value).toMatch(/^FLEETGUARD_X /)
        }
      }
    })
  )
})
