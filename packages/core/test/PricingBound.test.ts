import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { type CompletionRequest, type InputTokenCounter, Pricing } from "../src/index.js"
import { fastPathOf, type PricingFastPath } from "../src/internal/backend/fastPath.js"

/** Haiku 4.5: $1 in, $5 out per million tokens. */
const haikuUsd = (input: number, output: number) => (input + 5 * output) / 1e6

const text: CompletionRequest = {
  model: "claude-haiku-4-5",
  maxTokens: 10,
  messages: [{ role: "user", content: "x".repeat(400) }]
}

/** A PDF by URL: nothing in the request bounds it. */
const unbounded: CompletionRequest = {
  model: "claude-haiku-4-5",
  maxTokens: 10,
  messages: [
    { role: "user", content: [{ type: "document", source: { type: "url", url: "https://example.com/a.pdf" } }] }
  ]
}

describe("Pricing: what an estimate reserves for the input", () => {
  it.effect(
    "a count is reserved with its margin even past the bound read from the request, never past the context window",
    () =>
      Effect.gen(function* () {
        const estimate = (count: number) =>
          Effect.provide(
            Pricing.estimate(text),
            Pricing.layer({}, () => Effect.succeed(count))
          )
        // 400 bytes bound the text at 448 tokens; the provider's count knows better than fleetguard's ceilings.
        expect(Pricing.maxInputTokens(text)).toBe(448)
        expect(yield* estimate(1_000)).toBeCloseTo(haikuUsd(1_050, 10), 12)
        expect(yield* estimate(5_000_000)).toBeCloseTo(haikuUsd(Pricing.contextWindowTokens, 10), 12)
      })
  )

  it.effect(
    "without a counter, the fast path prices what cannot be bounded at the context window; with one, it leaves it to the counter",
    () =>
      Effect.gen(function* () {
        const quick = fastPathOf<PricingFastPath>(yield* Pricing.make())
        expect(Pricing.maxInputTokens(unbounded)).toBe(Number.POSITIVE_INFINITY)
        expect(Pricing.inputCeiling(unbounded)).toBe(Pricing.contextWindowTokens)
        expect(quick?.estimate(unbounded)).toBeCloseTo(haikuUsd(Pricing.contextWindowTokens, 10), 12)
        expect(quick?.estimate(text)).toBeCloseTo(haikuUsd(448, 10), 12)
        const counting = fastPathOf<PricingFastPath>(yield* Pricing.make({}, () => Effect.succeed(1)))
        expect(counting?.estimate(unbounded)).toBeUndefined()
        expect(counting?.estimate(text)).toBeUndefined()
      })
  )

  it.effect(
    "what nothing in the request bounds: the count (+5%) when a counter is given; else, or if counting fails, the context window",
    () =>
      Effect.gen(function* () {
        const estimate = (counter?: InputTokenCounter) =>
          Effect.provide(Pricing.estimate(unbounded), Pricing.layer({}, counter))
        expect(yield* estimate()).toBeCloseTo(haikuUsd(Pricing.contextWindowTokens, 10), 12)
        expect(yield* estimate(() => Effect.succeed(20_000))).toBeCloseTo(haikuUsd(21_000, 10), 12)
        expect(yield* estimate(() => Effect.fail("count_tokens down"))).toBeCloseTo(
          haikuUsd(Pricing.contextWindowTokens, 10),
          12
        )
      })
  )
})
