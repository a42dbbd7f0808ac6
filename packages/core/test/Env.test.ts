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
