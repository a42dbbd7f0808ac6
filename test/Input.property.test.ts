import { describe, expect, it } from "@effect/vitest"
import { AnthropicProvider } from "@fleetguard/anthropic"
import {
  Budget,
  CircuitBreaker,
  type CompletionRequest,
  Concurrency,
  Depth,
  Guards,
  LlmClient,
  Pricing,
  type Reservation,
  Retry
} from "@fleetguard/core"
import { TestProvider } from "@fleetguard/testing"
import { Cause, Effect, Exit, FastCheck as fc, Layer, Option, Stream } from "effect"
import { client, defaultGuards } from "./helpers.js"

/** The tags a caller may see; anything else (a defect, an unknown failure) breaks the contract. */
const typed = new Set([
  "InvalidRequest",
  "InvalidAmount",
  "InvalidOption",
  "UnknownModel",
  "BudgetExceeded",
  "DepthLimitExceeded",
  "CircuitOpen"
])

/** A success, or a failure that is one typed error: no defect, no interruption, no stray value. */
const expectTyped = (exit: Exit.Exit<unknown, unknown>) => {
  if (Exit.isSuccess(exit)) return
  expect(Option.getOrUndefined(Cause.dieOption(exit.cause))).toBeUndefined()
  const failure = Option.getOrUndefined(Cause.failureOption(exit.cause)) as { readonly _tag?: unknown } | undefined
  expect(typed.has(String(failure?._tag)), `unexpected failure: ${Cause.pretty(exit.cause)}`).toBe(true)
}

/** Anything at all, or something close to a request with any field wrong. */
const anyOr = <A>(arb: fc.Arbitrary<A>) => fc.oneof(arb, fc.anything())
const block = fc.record({ type: anyOr(fc.constant("text")), text: anyOr(fc.string()) }, { requiredKeys: [] })
const content = anyOr(fc.oneof(fc.string(), fc.array(block, { maxLength: 3 })))
const nearRequest = fc.record(
  {
    model: anyOr(fc.constantFrom("claude-haiku-4-5", "claude-sonnet-4-6", "no-such-model")),
    maxTokens: anyOr(fc.integer({ min: -2, max: 4_000 })),
    messages: anyOr(
      fc.array(fc.record({ role: anyOr(fc.constantFrom("user", "assistant")), content }, { requiredKeys: [] }), {
        maxLength: 3
      })
    ),
    system: content,
    cache: anyOr(fc.constantFrom("5m", "1h"))
  },
  { requiredKeys: ["model", "maxTokens", "messages"] }
)
const input = fc.oneof(fc.anything(), nearRequest)

const numRuns = 150

describe("unknown input never produces a defect", () => {
  it.effect.prop(
    "LlmClient.complete and LlmClient.stream: a completion or a typed failure",
    { request: input },
    ({ request }) =>
      Effect.gen(function* () {
        expectTyped(yield* Effect.exit(LlmClient.complete(request as CompletionRequest)))
        expectTyped(yield* Effect.exit(Stream.runDrain(LlmClient.stream(request as CompletionRequest))))
        expectTyped(yield* Effect.exit(Pricing.estimate(request as CompletionRequest)))
        // Whatever was asked, nothing is left reserved.
        expect((yield* Budget.snapshot).reservedUsd).toBe(0)
      }).pipe(Effect.provide(client(TestProvider.always(TestProvider.reply())))),
    { fastCheck: { numRuns } }
  )

  it.effect.prop(
    "Budget.reserve, commit and release: a reservation or InvalidAmount, and the ledger stays whole",
    { agentId: anyOr(fc.string()), usd: anyOr(fc.double()), actual: anyOr(fc.double()), forged: fc.anything() },
    ({ agentId, usd, actual, forged }) =>
      Effect.gen(function* () {
        const reserved = yield* Effect.exit(Budget.reserve(agentId as string, usd as number))
        expectTyped(reserved)
        if (Exit.isSuccess(reserved)) {
          expectTyped(yield* Effect.exit(Budget.commit(reserved.value, actual as number)))
          yield* Budget.release(reserved.value)
        }
        expectTyped(yield* Effect.exit(Budget.commit(forged as Reservation, actual as number)))
        expectTyped(yield* Effect.exit(Budget.release(forged as Reservation)))
        const ledger = yield* Budget.snapshot
        expect(ledger.reservedUsd).toBe(0)
        // A commit above its reservation is recorded as it is, so spend is not bounded by the limit here.
        expect(Number.isFinite(ledger.spentUsd)).toBe(true)
      }).pipe(Effect.provide(Budget.layer({ limitUsd: 10, perAgentLimitUsd: 10 }))),
    { fastCheck: { numRuns } }
  )

  const layers: ReadonlyArray<readonly [string, (options: never) => Layer.Layer<never, unknown>]> = [
    ["Concurrency.layer", Concurrency.layer],
    ["Budget.layer", Budget.layer],
    ["Depth.layer", Depth.layer],
    ["CircuitBreaker.layer", CircuitBreaker.layer],
    ["Retry.layer", Retry.layer],
    ["Pricing.layer", Pricing.layer],
    ["Guards.layer", Guards.layer],
    ["AnthropicProvider.layer", AnthropicProvider.layer]
  ]
  const options = fc.oneof(
    fc.anything(),
    fc.record({
      ...Object.fromEntries(
        ["maxConcurrency", "releaseWindow", "maxPause", "limitUsd", "perAgentLimitUsd", "alertAt"].map((k) => [
          k,
          anyOr(fc.oneof(fc.double(), fc.integer({ min: -3, max: 20 }), fc.constantFrom("1 second", "-1 seconds")))
        ])
      ),
      maxDepth: anyOr(fc.integer({ min: -1, max: 5 })),
      maxFanOut: anyOr(fc.integer({ min: -1, max: 5 })),
      failureThreshold: anyOr(fc.integer({ min: -1, max: 5 })),
      resetAfter: anyOr(fc.constantFrom("1 second", 0, -1, Number.NaN)),
      halfOpenMaxCalls: anyOr(fc.integer({ min: -1, max: 3 })),
      failureRate: anyOr(
        fc.record(
          { threshold: fc.double(), windowSize: fc.integer(), minimumCalls: fc.integer() },
          { requiredKeys: [] }
        )
      ),
      budget: anyOr(fc.record({ limitUsd: anyOr(fc.double()) }, { requiredKeys: [] })),
      concurrency: anyOr(fc.record({ maxConcurrency: anyOr(fc.integer()) }, { requiredKeys: [] })),
      depth: fc.anything(),
      breaker: fc.anything(),
      pricing: anyOr(fc.dictionary(fc.string(), fc.anything())),
      apiKey: fc.anything(),
      baseURL: fc.anything(),
      timeout: fc.anything()
    })
  )

  it.effect.prop(
    "every layer's options: the layer, or InvalidOption naming the option",
    { options },
    ({ options }) =>
      Effect.forEach(
        layers,
        ([name, layer]) =>
          Effect.gen(function* () {
            const built = yield* Effect.exit(Effect.scoped(Effect.suspend(() => Layer.build(layer(options as never)))))
            expectTyped(built)
            if (Exit.isFailure(built)) {
              const error = Option.getOrUndefined(Cause.failureOption(built.cause)) as { readonly option?: unknown }
              expect(typeof error.option, name).toBe("string")
              expect(error.option, name).not.toMatch(/\.options$/)
            }
          }),
        { discard: true }
      ),
    { fastCheck: { numRuns } }
  )

  it.effect("the guards in the README build from their options", () =>
    Effect.exit(Effect.scoped(Layer.build(Guards.layer(defaultGuards)))).pipe(
      Effect.map((exit) => expect(exit._tag).toBe("Success"))
    )
  )
})
