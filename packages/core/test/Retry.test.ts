import { describe, expect, it } from "@effect/vitest"
import { Effect, FastCheck as fc } from "effect"
import { Retry } from "../src/index.js"
import * as Policy from "../src/internal/policy/retry.js"

describe("retry policy", () => {
  it.prop(
    "full-jitter backoff stays in [0, min(max, base · 2^(attempt-1)))",
    {
      attempt: fc.integer({ min: 1, max: 40 }),
      base: fc.integer({ min: 1, max: 5_000 }),
      max: fc.integer({ min: 1, max: 120_000 }),
      random: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true })
    },
    ({ attempt, base, max, random }) => {
      const delay = Policy.backoffMillis(attempt, base, max, random)
      expect(delay).toBeGreaterThanOrEqual(0)
      expect(delay).toBeLessThan(Math.max(1, Math.min(max, base * 2 ** (attempt - 1))))
    }
  )

  it.prop(
    "the retry budget allows at most maxTokens / 2 + successes × ratio retries, whatever the order",
    {
      maxTokens: fc.integer({ min: 1, max: 50 }),
      outcomes: fc.array(fc.boolean(), { maxLength: 300 })
    },
    ({ maxTokens, outcomes }) => {
      let budget = Policy.fullTokens(maxTokens, 0.1)
      let retries = 0
      let successes = 0
      for (const failed of outcomes) {
        if (failed) {
          const [allowed, next] = Policy.onFailure(budget)
          if (allowed) retries++
          budget = next
        } else {
          successes++
          budget = Policy.onSuccess(budget)
        }
        expect(budget.tokens).toBeGreaterThanOrEqual(0)
        expect(budget.tokens).toBeLessThanOrEqual(maxTokens)
      }
      expect(retries).toBeLessThanOrEqual(maxTokens / 2 + successes * 0.1 + 1)
    }
  )

  it.effect("fails on bad options naming the option; sizes the budget from the concurrency limit", () =>
    Effect.gen(function* () {
      expect(yield* Effect.flip(Retry.make({ maxAttempts: 0 }))).toMatchObject({ option: "maxAttempts" })
      expect(yield* Effect.flip(Retry.make({ baseDelay: "-1 second" }))).toMatchObject({ option: "baseDelay" })
      expect(yield* Effect.flip(Retry.make({ budgetTokens: 0 }))).toMatchObject({ option: "budgetTokens" })
      const policy = yield* Retry.make()
      expect(Retry.budgetTokensFor(policy, 2)).toBe(10)
      expect(Retry.budgetTokensFor(policy, 20)).toBe(60)
      expect(Retry.budgetTokensFor(yield* Retry.make({ budgetTokens: 7 }), 20)).toBe(7)
    })
  )
})
