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
  LlmProvider,
  Pricing,
  type Reservation,
  Retry,
  type WithReservationOptions
} from "@fleetguard/core"
import { TestProvider } from "@fleetguard/testing"
import { Cause, Effect, Exit, FastCheck as fc, Layer, Option, Stream } from "effect"
import { breakAt, hostile, nearRequest as nearAnyRequest, wellFormedRequest } from "../../packages/core/test/hostile.js"
import { client, clientOver, defaultGuards, request } from "../support/client.js"

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
// Requests of every kind (tools, tool choices, thinking, blocks of every kind), well formed or with one place wrong.
const input = fc.oneof(fc.anything(), nearRequest, wellFormedRequest, nearAnyRequest)

/** Every object and array inside `u`, `u` included. */
const objectsIn = (u: unknown): Array<object> =>
  typeof u === "object" && u !== null ? [u, ...Object.values(u).flatMap(objectsIn)] : []

const numRuns = 150
// The hostile samples build a client or a ledger each: fewer, since every kind of break is small.
const hostileRuns = 60

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

  // Guards.layer and AnthropicProvider.layer read their options themselves before decoding them.
  const decodingLayers = layers.filter(([name]) => name !== "Guards.layer" && name !== "AnthropicProvider.layer")
  const guardOptions = fc.record({
    limitUsd: fc.integer({ min: 1, max: 100 }),
    maxConcurrency: fc.integer({ min: 1, max: 8 }),
    maxDepth: fc.integer({ min: 1, max: 5 }),
    maxFanOut: fc.integer({ min: 1, max: 5 }),
    failureThreshold: fc.integer({ min: 1, max: 5 }),
    resetAfter: fc.constant("1 second"),
    halfOpenMaxCalls: fc.integer({ min: 1, max: 3 }),
    pricing: fc.dictionary(
      fc.constantFrom("m1", "m2"),
      fc.record({
        input: fc.nat(),
        output: fc.nat(),
        cacheWrite5m: fc.nat(),
        cacheWrite1h: fc.nat(),
        cacheRead: fc.nat()
      })
    )
  })

  it.effect.prop(
    "a throwing getter or a Proxy anywhere in a request: a completion or a typed failure, never a defect",
    { broken: hostile(fc.oneof(nearRequest, fc.constant(request()), wellFormedRequest, nearAnyRequest)) },
    ({ broken }) =>
      Effect.gen(function* () {
        const given = () => breakAt(broken.value, broken.path, broken.kind) as CompletionRequest
        expectTyped(yield* Effect.exit(LlmClient.complete(given())))
        expectTyped(yield* Effect.exit(Stream.runDrain(LlmClient.stream(given()))))
        expectTyped(yield* Effect.exit(Pricing.estimate(given())))
        expect((yield* Budget.snapshot).reservedUsd).toBe(0)
      }).pipe(Effect.provide(client(TestProvider.always(TestProvider.reply())))),
    { fastCheck: { numRuns: hostileRuns } }
  )

  it.effect.prop(
    "a throwing getter or a Proxy in options, reservations, fan-out items: a typed failure, never a defect",
    {
      reservationOptions: hostile(fc.record({ usd: fc.constant(0.5), actualUsd: fc.constant(() => 0.1) })),
      reservation: hostile(fc.record({ id: fc.nat({ max: 3 }), agentId: fc.constant("a"), usd: fc.constant(0.5) })),
      items: hostile(fc.array(fc.nat(), { maxLength: 4 })),
      options: hostile(guardOptions)
    },
    ({ reservationOptions, reservation, items, options }) =>
      Effect.gen(function* () {
        const guarded = Budget.withReservation(
          breakAt(
            reservationOptions.value,
            reservationOptions.path,
            reservationOptions.kind
          ) as WithReservationOptions<void>
        )(Effect.void)
        expectTyped(yield* Effect.exit(guarded))
        const forged = breakAt(reservation.value, reservation.path, reservation.kind) as Reservation
        expectTyped(yield* Effect.exit(Budget.commit(forged, 0.1)))
        expectTyped(yield* Effect.exit(Budget.release(forged)))
        const listed = breakAt(items.value, items.path, items.kind) as Iterable<number>
        expectTyped(yield* Effect.exit(Depth.fanOut(listed, () => Effect.void)))
        expect((yield* Budget.snapshot).reservedUsd).toBe(0)
        for (const [name, layer] of decodingLayers) {
          const built = yield* Effect.exit(
            Effect.scoped(
              Effect.suspend(() => Layer.build(layer(breakAt(options.value, options.path, options.kind) as never)))
            )
          )
          expectTyped(built)
          if (Exit.isFailure(built)) {
            const error = Option.getOrUndefined(Cause.failureOption(built.cause)) as { readonly option?: unknown }
            expect(typeof error.option, name).toBe("string")
          }
        }
      }).pipe(Effect.provide(Layer.merge(Budget.layer({ limitUsd: 10 }), Depth.layer({ maxDepth: 3, maxFanOut: 4 })))),
    { fastCheck: { numRuns: hostileRuns } }
  )

  it.effect.prop(
    "a well-formed request of every kind is completed, and the provider gets it as given, sharing no object with it",
    { request: wellFormedRequest },
    ({ request }) =>
      Effect.suspend(() => {
        // A provider that keeps what it is given: the property is the boundary's copy, not what a
        // provider makes of random image bytes (TestProvider, like the API, refuses those).
        const received: Array<CompletionRequest> = []
        const recording = LlmProvider.layer({
          complete: (r) =>
            Effect.sync(() => {
              received.push(r)
              return {
                text: "ok",
                content: [{ type: "text", text: "ok" }],
                model: r.model,
                stopReason: "end_turn",
                usage: { inputTokens: 1, outputTokens: 1, cacheCreationInputTokens: 0, cacheReadInputTokens: 0 }
              }
            })
        })
        return Effect.gen(function* () {
          const completion = yield* LlmClient.complete(request)
          expect(completion.costUsd).toBeGreaterThanOrEqual(0)
          expect(received).toHaveLength(1)
          expect(received[0]).toEqual(request)
          const given = new Set(objectsIn(request))
          expect(objectsIn(received[0]).filter((o) => given.has(o))).toEqual([])
        }).pipe(Effect.provide(clientOver(recording)))
      }),
    { fastCheck: { numRuns: hostileRuns } }
  )

  it.effect("the guards in the README build from their options", () =>
    Effect.exit(Effect.scoped(Layer.build(Guards.layer(defaultGuards)))).pipe(
      Effect.map((exit) => expect(exit._tag).toBe("Success"))
    )
  )
})
