/**
 * A burst of 429s pauses the fleet; it never opens the breaker (DESIGN: "Defaults a first fleet can
 * live with"), through LlmClient and Guards.wrap, whatever the breaker's isFailure says: on both
 * paths (test/support/client.ts), and with the breaker alone used through its methods (as a store
 * kept elsewhere is) beside the other guards.
 */
import { describe, expect, it } from "@effect/vitest"
import {
  Agent,
  CircuitBreaker,
  type CircuitBreakerOptions,
  GuardEvents,
  type GuardServices,
  Guards,
  LlmClient,
  Overloaded,
  RateLimited
} from "@fleetguard/core"
import { TestProvider } from "@fleetguard/testing"
import { ConfigProvider, Effect, Either, Fiber, Layer, TestClock } from "effect"
import { fastPathGuards, methodsOnly, paths, request } from "../support/client.js"

const range = (n: number) => Array.from({ length: n }, (_, i) => i)

/** The breaker `options` make, seen only through its methods: no fast path to take. */
const breakerMethodsOnly = (options: CircuitBreakerOptions) =>
  methodsOnly(CircuitBreaker.layer(options), [fastPathGuards.breaker])

/** What FLEETGUARD_BUDGET_USD=1 alone gives: every other guard at its default. */
const fromEnvDefaults = Guards.layerConfig().pipe(
  Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map([["FLEETGUARD_BUDGET_USD", "1"]]))))
)

/** The breaker's layerConfig defaults. */
const breakerDefaults: CircuitBreakerOptions = { failureThreshold: 5, resetAfter: "30 seconds", halfOpenMaxCalls: 1 }

/** The layerConfig defaults, spelled out, with `breaker` in place of the in-memory breaker. */
const defaultsWith = <E>(breaker: Layer.Layer<CircuitBreaker, E>) =>
  Layer.merge(
    Guards.layer({
      budget: { limitUsd: 1 },
      concurrency: { maxConcurrency: 8 },
      depth: { maxDepth: 4, maxFanOut: 8 },
      breaker: breakerDefaults
    }),
    // Merged last, so it wins over the in-memory one.
    breaker
  )

const clientOver = <E>(guards: Layer.Layer<GuardServices, E>, script: TestProvider.Script) =>
  LlmClient.layer.pipe(
    Layer.provideMerge(Layer.mergeAll(guards, TestProvider.layer(script))),
    Layer.provideMerge(GuardEvents.layer())
  )

/**
 * 429s for the first `millis` of the run (with or without a retry-after), then answers; each after
 * a round trip, so that a permit's worth of calls is in flight when the first 429 comes back.
 */
const burst =
  (millis: number, retryAfterMillis?: number): TestProvider.Script =>
  ({ at }) =>
    at < millis
      ? TestProvider.fail(new RateLimited({ message: "rate limited", retryAfterMillis }), "20 millis")
      : TestProvider.reply({ latency: "20 millis" })

/** Runs `self` to its end, moving the clock past every pause. */
const ended = <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.flatMap(Effect.fork(Effect.either(self)), (fiber) =>
    Effect.zipRight(TestClock.adjust("1 minute"), Fiber.join(fiber))
  )

const fleetOf20 = Effect.gen(function* () {
  const results = yield* ended(
    Effect.forEach(range(20), (i) => Effect.either(Agent.run(`agent-${i}`, LlmClient.complete(request()))), {
      concurrency: "unbounded"
    })
  ).pipe(Effect.map(Either.getOrThrow))
  const calls = yield* (yield* TestProvider.TestProvider).calls
  return { results, limited: calls.filter((c) => c.step === "Fail").length }
})

describe.each(paths)("LlmClient: a burst of 429s never opens the breaker ($name)", ({ wrap }) => {
  for (const [name, guards] of [
    ["FLEETGUARD_BUDGET_USD=1 alone", fromEnvDefaults],
    ["the same defaults, the breaker through its methods only", defaultsWith(breakerMethodsOnly(breakerDefaults))]
  ] as const) {
    for (const [after, retryAfter] of [
      ["with a retry-after", 800],
      ["without a retry-after", undefined]
    ] as const) {
      it.effect(`${name}, 429s for 0.8 s ${after}: all 20 agents succeed, the breaker stays closed`, () =>
        Effect.gen(function* () {
          const { results, limited } = yield* fleetOf20
          expect(limited).toBeGreaterThanOrEqual(5)
          expect(results.filter(Either.isLeft).map((r) => r.left)).toEqual([])
          expect(yield* CircuitBreaker.snapshot).toMatchObject({ state: "Closed", trips: 0 })
        }).pipe(Effect.provide(clientOver(wrap(guards), burst(800, retryAfter))))
      )
    }
  }

  for (const seconds of [5, 30]) {
    it.effect(`a storm of ${seconds} s of 429s on the defaults: every agent waits it out and finishes`, () =>
      Effect.gen(function* () {
        const results = yield* Effect.fork(
          Effect.forEach(range(20), (i) => Effect.either(Agent.run(`agent-${i}`, LlmClient.complete(request()))), {
            concurrency: "unbounded"
          })
        )
        yield* TestClock.adjust(`${seconds + 5} seconds`)
        expect((yield* Fiber.join(results)).filter(Either.isLeft).map((r) => r.left)).toEqual([])
        expect(yield* CircuitBreaker.snapshot).toMatchObject({ state: "Closed", trips: 0 })
      }).pipe(Effect.provide(clientOver(wrap(fromEnvDefaults), burst(seconds * 1000, 1000))))
    )
  }

  it.effect("a storm longer than maxPause: a call gives up maxPause after its first 429, RateLimited", () =>
    Effect.gen(function* () {
      const call = yield* Effect.fork(Effect.either(LlmClient.complete(request())))
      yield* TestClock.adjust("59 seconds")
      expect(call.unsafePoll()).toBe(null)
      yield* TestClock.adjust("2 seconds")
      const result = yield* Fiber.join(call)
      expect(Either.flip(result).pipe(Either.getOrThrow)).toBeInstanceOf(RateLimited)
    }).pipe(Effect.provide(clientOver(wrap(fromEnvDefaults), burst(10 * 60_000, 1000))))
  )

  it.effect("a 429 never counts, whatever isFailure says; other upstream failures still do", () =>
    Effect.gen(function* () {
      const limited = yield* ended(LlmClient.complete(request("limited")))
      expect(Either.flip(limited).pipe(Either.getOrThrow)).toBeInstanceOf(RateLimited)
      expect(yield* CircuitBreaker.state).toBe("Closed")
      yield* ended(LlmClient.complete(request("overloaded")))
      expect(yield* CircuitBreaker.state).toBe("Open")
    }).pipe(
      Effect.provide(
        clientOver(
          wrap(defaultsWith(breakerMethodsOnly({ ...breakerDefaults, failureThreshold: 1, isFailure: () => true }))),
          ({ request }) =>
            TestProvider.fail(
              request.messages[0]?.content === "limited"
                ? new RateLimited({ message: "slow down", retryAfterMillis: 1_000 })
                : new Overloaded({ message: "busy" })
            )
        )
      )
    )
  )

  it.effect("a half-open probe that draws a 429 is ignored: the breaker neither closes nor reopens", () =>
    Effect.gen(function* () {
      yield* ended(LlmClient.complete(request("overloaded")))
      expect(yield* CircuitBreaker.state).toBe("Open")
      yield* TestClock.adjust("30 seconds")
      const limited = yield* ended(LlmClient.complete(request("limited")))
      expect(Either.flip(limited).pipe(Either.getOrThrow)).toBeInstanceOf(RateLimited)
      expect(yield* CircuitBreaker.state).toBe("HalfOpen")
      // The probe slot came back: the next probe is admitted, and its success closes the breaker.
      expect(Either.isRight(yield* ended(LlmClient.complete(request("fine"))))).toBe(true)
      expect(yield* CircuitBreaker.state).toBe("Closed")
    }).pipe(
      Effect.provide(
        clientOver(
          wrap(defaultsWith(breakerMethodsOnly({ ...breakerDefaults, failureThreshold: 1 }))),
          ({ request }) => {
            const content = request.messages[0]?.content
            return content === "limited"
              ? TestProvider.fail(new RateLimited({ message: "slow down", retryAfterMillis: 1_000 }))
              : content === "overloaded"
                ? TestProvider.fail(new Overloaded({ message: "busy" }))
                : TestProvider.reply()
          }
        )
      )
    )
  )
})

describe.each(paths)("Guards.wrap: a RateLimited from the wrapped effect never counts ($name)", ({ wrap }) => {
  const rateLimited = Guards.wrap({ estimateUsd: 0.01, actualUsd: () => 0 })(
    Effect.fail(new RateLimited({ message: "slow down" }))
  )

  for (const [name, breaker] of [
    ["the in-memory breaker", CircuitBreaker.layer(breakerDefaults)],
    ["the breaker through its methods only", breakerMethodsOnly(breakerDefaults)]
  ] as const) {
    it.effect(`${name}: 20 agents' 429s leave the breaker closed; each caller sees its RateLimited`, () =>
      Effect.gen(function* () {
        const results = yield* Effect.forEach(range(20), (i) => Effect.flip(Agent.run(`agent-${i}`, rateLimited)), {
          concurrency: "unbounded"
        })
        expect(results.every((error) => error instanceof RateLimited)).toBe(true)
        expect(yield* CircuitBreaker.snapshot).toMatchObject({ state: "Closed", trips: 0 })
      }).pipe(Effect.provide(wrap(defaultsWith(breaker))))
    )
  }
})
