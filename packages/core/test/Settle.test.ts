import { describe, expect, it } from "@effect/vitest"
import { Effect, FastCheck as fc } from "effect"
import { Backend, Budget } from "../src/index.js"
import { Reservations } from "../src/internal/call/fleet.js"
import { costEffect, cost as costOf, partialUsage, reportedModel } from "../src/internal/call/settle.js"

const usage = fc.record({
  inputTokens: fc.nat({ max: 1_000_000 }),
  outputTokens: fc.nat({ max: 100_000 }),
  cacheCreationInputTokens: fc.nat({ max: 1_000_000 }),
  cacheReadInputTokens: fc.nat({ max: 1_000_000 })
})

describe("partialUsage: what a stream cut short is charged", () => {
  it.prop(
    "never below what was reported or received (within maxTokens), never above maxTokens unless reported; input untouched",
    { reported: usage, bytes: fc.nat({ max: 1_000_000 }), maxTokens: fc.integer({ min: 1, max: 200_000 }) },
    ({ reported, bytes, maxTokens }) => {
      const charged = partialUsage(reported, false, bytes, maxTokens)
      expect(charged.inputTokens).toBe(reported.inputTokens)
      expect(charged.cacheCreationInputTokens).toBe(reported.cacheCreationInputTokens)
      expect(charged.outputTokens).toBeGreaterThanOrEqual(Math.min(reported.outputTokens, maxTokens))
      expect(charged.outputTokens).toBeGreaterThanOrEqual(Math.min(bytes, maxTokens))
      expect(charged.outputTokens).toBeLessThanOrEqual(maxTokens)
    }
  )

  it.prop("the final count is taken as it is", { reported: usage, bytes: fc.nat() }, ({ reported, bytes }) => {
    expect(partialUsage(reported, true, bytes, 1)).toEqual(reported)
  })
})

/** What settling is given as a cost: any number, or a cost that throws. */
const anyCost = fc.oneof(
  fc.integer({ min: 0, max: 2_000 }).map((cents) => cents / 100),
  fc.double(),
  fc.constantFrom(
    Number.NaN,
    Number.POSITIVE_INFINITY,
    -0.01,
    // 1e13 output tokens at $25 per million, and tokens taken for dollars.
    (1e13 * 25) / 1e6,
    4_096,
    9_007_199,
    9_007_200,
    1e300,
    "throws" as const
  )
)

/** The in-memory ledger, or the same ledger through its methods only (as a store kept elsewhere is used). */
const ledgers = ["engine", "methods"] as const

describe("settle: a cost the ledger cannot hold", () => {
  it.effect.prop(
    "charges at least min(cost, reservation), exactly the cost when it can be held, exactly the reservation when not",
    {
      reservedCents: fc.integer({ min: 1, max: 1_000 }),
      cost: anyCost,
      effectful: fc.boolean(),
      ledger: fc.constantFrom(...ledgers)
    },
    ({ reservedCents, cost, effectful, ledger }) =>
      Effect.gen(function* () {
        const budget = yield* Budget.make({ limitUsd: 100, perAgentLimitUsd: 100 })
        const through = new Reservations(ledger === "engine" ? budget : Backend.methodsOnly(budget))
        const reservation = yield* budget.reserve("a", reservedCents / 100)
        const usd = () => {
          if (cost === "throws") throw new Error("no cost")
          return cost
        }
        const owed = effectful ? costEffect(Effect.sync(usd)) : costOf(usd)
        const charged = yield* through.settle(reservation, owed)
        const spent = (yield* budget.snapshot).spentUsd
        const held = typeof cost === "number" ? Backend.nanosOf("actualUsd", cost) : undefined
        const expected = held !== undefined && held._tag === "Right" ? Backend.usdOf(held.right) : reservation.usd
        expect(spent).toBe(expected + 0) // -0 is charged as 0
        expect(charged).toBeCloseTo(spent, 9)
        // Amounts are whole nanodollars, rounded to the nearest.
        const asked = typeof cost === "number" && cost > 0 ? cost : 0
        expect(spent).toBeGreaterThanOrEqual(Math.min(asked, reservation.usd) - 0.5e-9)
        expect((yield* budget.snapshot).reservedUsd).toBe(0)
      }),
    { fastCheck: { numRuns: 100 } }
  )
})

describe("reportedModel: an answer is charged the dearer of the model asked for and the model it reports", () => {
  const usage = { inputTokens: 1, outputTokens: 1, cacheCreationInputTokens: 0, cacheReadInputTokens: 0 }
  it("reportedModel, else a completion's model, when it is not the one asked for", () => {
    expect(reportedModel("claude-haiku-4-5", { usage })).toBeUndefined()
    expect(reportedModel("claude-haiku-4-5", { usage, reportedModel: "claude-haiku-4-5" })).toBeUndefined()
    expect(reportedModel("claude-haiku-4-5", { usage, reportedModel: "claude-opus-4-1" })).toBe("claude-opus-4-1")
    const completion = { text: "", model: "claude-haiku-4-5-20251001", stopReason: null, usage }
    expect(reportedModel("claude-haiku-4-5", completion)).toBe("claude-haiku-4-5-20251001")
    expect(reportedModel("claude-haiku-4-5", { ...completion, reportedModel: "m" })).toBe("m")
    expect(reportedModel("claude-haiku-4-5", { usage, model: 42 } as never)).toBeUndefined()
  })
})
