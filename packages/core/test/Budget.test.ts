import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect } from "effect"
import { Budget } from "../src/index.js"
import { budgetContract } from "./contract/Budget.contract.js"
import { inMemory } from "./contract/backend.js"

describe("Budget", () => {
  it.effect("fails the layer on bad options, naming the option", () =>
    Effect.gen(function* () {
      const cases = [
        [{ limitUsd: 0 }, "limitUsd"],
        [{ limitUsd: Number.NaN }, "limitUsd"],
        [{ limitUsd: 10, alertAt: 0 }, "alertAt"],
        [{ limitUsd: 10, alertAt: 1.5 }, "alertAt"],
        [{ limitUsd: 10, perAgentLimitUsd: 11 }, "perAgentLimitUsd"],
        [{ limitUsd: 10, perAgentLimitUsd: -1 }, "perAgentLimitUsd"]
      ] as const
      for (const [options, option] of cases) {
        const error = yield* Effect.flip(Budget.make(options))
        expect(error).toMatchObject({ _tag: "InvalidOption", option })
      }
      expect((yield* Budget.make({ limitUsd: 10, alertAt: 1 })).perAgentLimitUsd).toBe(2)
    })
  )

  describe("layerConfig", () => {
    const fromEnv = (env: Record<string, string>) =>
      Effect.withConfigProvider(
        Effect.flatMap(Effect.provide(Budget.snapshot, Budget.layerConfig()), Effect.succeed),
        ConfigProvider.fromMap(new Map(Object.entries(env)))
      )

    it.effect("reads FLEETGUARD_BUDGET_USD, FLEETGUARD_AGENT_BUDGET_USD and FLEETGUARD_ALERT_AT", () =>
      Effect.gen(function* () {
        const snap = yield* fromEnv({
          FLEETGUARD_BUDGET_USD: "25",
          FLEETGUARD_AGENT_BUDGET_USD: "5",
          FLEETGUARD_ALERT_AT: "0.5"
        })
        expect(snap).toMatchObject({ limitUsd: 25, perAgentLimitUsd: 5, alertAt: 0.5 })
      })
    )

    it.effect("fails naming the variable and what it expected", () =>
      Effect.gen(function* () {
        const cases: ReadonlyArray<readonly [Record<string, string>, string]> = [
          [{}, "FLEETGUARD_BUDGET_USD"],
          [{ FLEETGUARD_BUDGET_USD: "ten" }, "FLEETGUARD_BUDGET_USD"],
          [{ FLEETGUARD_BUDGET_USD: "-3" }, "FLEETGUARD_BUDGET_USD"],
          [{ FLEETGUARD_BUDGET_USD: "10", FLEETGUARD_ALERT_AT: "2" }, "FLEETGUARD_ALERT_AT"],
          [{ FLEETGUARD_BUDGET_USD: "10", FLEETGUARD_AGENT_BUDGET_USD: "20" }, "FLEETGUARD_AGENT_BUDGET_USD"]
        ]
        for (const [env, variable] of cases) {
          const error = yield* Effect.flip(fromEnv(env))
          expect(String(error)).toContain(variable)
        }
        const negative = yield* Effect.flip(fromEnv({ FLEETGUARD_BUDGET_USD: "-3" }))
        expect(String(negative)).toContain("must be a positive number")
      })
    )
  })
})

budgetContract(inMemory(it.effect))
