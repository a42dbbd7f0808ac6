import { describe, expect, it } from "@effect/vitest"
import {
  Agent,
  Backend,
  Budget,
  CircuitBreaker,
  CircuitOpen,
  Concurrency,
  Depth,
  Events,
  InvalidRequest,
  LlmClient,
  Pricing,
  ProviderUnavailable,
  RateLimited
} from "@fleetguard/core"
import { TestProvider } from "@fleetguard/testing"
import { Chunk, Clock, Duration, Effect, Either, Exit, Fiber, Queue, Random, TestClock, Tracer } from "effect"
import { paths, request } from "../support/client.js"

const range = (n: number) => Array.from({ length: n }, (_, i) => i)

const guardsAreClean = Effect.gen(function* () {
  const budget = yield* Budget.snapshot
  const concurrency = yield* Concurrency.snapshot
  const provider = yield* TestProvider.TestProvider
  expect(budget.reservedUsd).toBe(0)
  expect(concurrency).toMatchObject({ inFlight: 0, waiting: 0 })
  expect(yield* provider.inFlight).toBe(0)
  expect((yield* CircuitBreaker.snapshot).tracked).toBe(0)
})

describe.each(paths)("the guards LlmClient is given ($name)", ({ name, client }) => {
  // What makes the methods-only runs of these suites worth having: the client cannot take a fast path.
  it.effect(name === "fast path" ? "each offers its fast path" : "none offers a fast path", () =>
    Effect.gen(function* () {
      const guards = yield* Effect.all([Budget, Concurrency, CircuitBreaker, Pricing])
      expect(guards.map((guard) => Backend.fastPathOf(guard) !== undefined)).toEqual(
        guards.map(() => name === "fast path")
      )
    }).pipe(Effect.provide(client(TestProvider.always(TestProvider.reply()))))
  )
})

describe.each(paths)("LlmClient: coordinated retries ($name)", ({ client }) => {
  const T = 10_000

  /** The article's danger pattern: each agent retries alone, with its own jitter. */
  const unguardedAgent = (provider: TestProvider.TestProviderService) =>
    Effect.gen(function* () {
      for (let attempt = 0; attempt < 10; attempt++) {
        const result = yield* Effect.either(provider.complete(request()))
        if (Either.isRight(result)) return result.right
        const jitter = yield* Random.nextIntBetween(0, 1_000)
        yield* Effect.sleep(Duration.millis(2 ** attempt * 1_000 + jitter))
      }
      return yield* Effect.fail("gave up")
    })

  it.effect(
    "20 agents, rate-limited until T: at most one 429 per permit, silence until T, every agent finishes, far fewer calls",
    () =>
      Effect.gen(function* () {
        const fleet = yield* Effect.fork(
          Effect.forEach(range(20), (i) => Agent.run(`agent-${i}`, LlmClient.complete(request())), {
            concurrency: "unbounded"
          })
        )
        yield* TestClock.adjust(Duration.seconds(30))
        const completions = yield* Fiber.join(fleet)
        expect(completions).toHaveLength(20)

        const provider = yield* TestProvider.TestProvider
        const calls = yield* provider.calls
        const limited = calls.filter((c) => c.step === "Fail")
        expect(limited.length).toBeGreaterThanOrEqual(1)
        expect(limited.length).toBeLessThanOrEqual(5)
        const first429 = Math.min(...limited.map((c) => c.at))
        expect(calls.filter((c) => c.at > first429 && c.at < T)).toEqual([])
        // Released spread over the window, not all in one instant.
        expect(new Set(calls.filter((c) => c.at >= T).map((c) => c.at)).size).toBeGreaterThan(1)
        yield* guardsAreClean

        // The same script, each agent retrying on its own.
        const restart = yield* Clock.currentTimeMillis
        const alone = yield* TestProvider.make(TestProvider.rateLimitedUntil(restart + T))
        const storm = yield* Effect.fork(
          Effect.forEach(range(20), () => unguardedAgent(alone), { concurrency: "unbounded" })
        )
        yield* TestClock.adjust(Duration.minutes(30))
        yield* Fiber.join(storm)
        const unguardedCalls = (yield* alone.calls).length
        expect(unguardedCalls / calls.length).toBeGreaterThanOrEqual(3)
      }).pipe(Effect.provide(client(TestProvider.rateLimitedUntil(T))))
  )

  it.effect("a retry budget stops a storm of Overloaded from multiplying calls", () =>
    Effect.gen(function* () {
      const fleet = yield* Effect.fork(
        Effect.forEach(range(50), () => Effect.either(LlmClient.complete(request())), { concurrency: "unbounded" })
      )
      yield* TestClock.adjust(Duration.minutes(5))
      const results = yield* Fiber.join(fleet)
      expect(results.every(Either.isLeft)).toBe(true)
      const calls = (yield* (yield* TestProvider.TestProvider).calls).length
      // 50 first attempts; retries only while more than half of the 15 tokens remain.
      expect(calls).toBeLessThanOrEqual(50 + 8)
      yield* guardsAreClean
    }).pipe(
      Effect.provide(
        client(TestProvider.always(TestProvider.fail(new ProviderUnavailable({ message: "down" }), 10)), {
          breaker: { failureThreshold: 1_000, resetAfter: "1 second", halfOpenMaxCalls: 1 }
        })
      )
    )
  )

  it.effect("client errors and guard rejections are never retried", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(LlmClient.complete(request()))
      expect(error).toBeInstanceOf(InvalidRequest)
      expect((yield* (yield* TestProvider.TestProvider).calls).length).toBe(1)
      expect(yield* CircuitBreaker.state).toBe("Closed")
    }).pipe(
      Effect.provide(
        client(
          TestProvider.always(
            TestProvider.fail(new InvalidRequest({ errorType: "invalid_request_error", message: "bad", status: 400 }))
          )
        )
      )
    )
  )
})

describe.each(paths)("LlmClient: the breaker stops cost already in flight ($name)", ({ client }) => {
  const script: TestProvider.Script = ({ request: r }) =>
    r.messages[0]?.content === "hang"
      ? TestProvider.hang
      : r.messages[0]?.content === "fail"
        ? TestProvider.fail(new ProviderUnavailable({ message: "upstream down", status: 503 }), 100)
        : TestProvider.reply({ latency: Duration.seconds(1) })

  it.effect("15 in flight at the trip: all interrupted in the same instant, each caller sees CircuitOpen", () =>
    Effect.gen(function* () {
      const provider = yield* TestProvider.TestProvider
      const events = yield* Events.subscribe
      const hanging = yield* Effect.fork(
        Effect.forEach(range(15), (i) => Effect.either(Agent.run(`hang-${i}`, LlmClient.complete(request("hang")))), {
          concurrency: "unbounded"
        })
      )
      const failing = yield* Effect.fork(
        Effect.forEach(range(3), () => Effect.either(LlmClient.complete(request("fail"))), { concurrency: "unbounded" })
      )
      yield* TestClock.adjust(Duration.millis(100))
      const hung = yield* Fiber.join(hanging)
      expect((yield* Fiber.join(failing)).every((r) => Either.isLeft(r) && r.left._tag === "ProviderUnavailable")).toBe(
        true
      )
      for (const result of hung) {
        expect(Either.isLeft(result) && result.left).toEqual(
          new CircuitOpen({ interrupted: true, retryAfterMillis: 10_000 })
        )
      }
      const calls = yield* provider.calls
      const interrupted = calls.filter((c) => c.outcome === "interrupted")
      expect(interrupted).toHaveLength(15)
      expect(new Set(interrupted.map((c) => c.endedAt))).toEqual(new Set([100]))
      const opened = Chunk.toReadonlyArray(yield* Queue.takeAll(events)).filter((e) => e._tag === "BreakerOpened")
      expect(opened).toMatchObject([{ interrupted: 15, interruptedAgents: 15, reopenAt: 10_100, trips: 1 }])
      // The interrupted calls were sent: each is charged its full reservation.
      const reservation = yield* Pricing.estimate(request("hang"))
      const spend = yield* Budget.snapshot
      expect(spend.spentUsd).toBeCloseTo(15 * reservation, 12)
      expect(spend.reservedUsd).toBe(0)

      // Open: nothing reaches the provider until resetAfter.
      yield* TestClock.adjust(Duration.seconds(5))
      const early = yield* Effect.flip(LlmClient.complete(request("ok")))
      expect(early).toEqual(new CircuitOpen({ interrupted: false, retryAfterMillis: 5_000 }))
      expect((yield* provider.calls).length).toBe(calls.length)

      // Half-open: at most halfOpenMaxCalls probes at once; their success closes it.
      yield* TestClock.adjust(Duration.millis(5_100))
      const probes = yield* Effect.fork(
        Effect.forEach(range(5), () => Effect.either(LlmClient.complete(request("ok"))), { concurrency: "unbounded" })
      )
      yield* TestClock.adjust(Duration.millis(10))
      expect(yield* provider.inFlight).toBe(2)
      expect(yield* CircuitBreaker.state).toBe("HalfOpen")
      yield* TestClock.adjust(Duration.seconds(1))
      const probed = yield* Fiber.join(probes)
      expect(probed.filter(Either.isRight)).toHaveLength(2)
      expect(probed.filter(Either.isLeft).map((e) => Either.isLeft(e) && e.left._tag)).toEqual([
        "CircuitOpen",
        "CircuitOpen",
        "CircuitOpen"
      ])
      expect(yield* CircuitBreaker.state).toBe("Closed")
      yield* guardsAreClean
    }).pipe(
      Effect.scoped,
      Effect.provide(
        client(
          script,
          {
            concurrency: { maxConcurrency: 20 },
            breaker: { failureThreshold: 3, resetAfter: "10 seconds", halfOpenMaxCalls: 2 }
          },
          { maxAttempts: 1 }
        )
      )
    )
  )

  it.effect("a trip interrupts whole agents tracked through Agent.run, not only their calls", () =>
    Effect.gen(function* () {
      let spawnedAfterTrip = 0
      const agent = Agent.run(
        "looping",
        Effect.forever(
          Effect.zipRight(
            Effect.sleep("30 millis"),
            Effect.sync(() => spawnedAfterTrip++)
          )
        )
      )
      const fiber = yield* Effect.fork(agent)
      yield* Effect.fork(Effect.either(LlmClient.complete(request("fail"))))
      yield* TestClock.adjust(Duration.millis(100))
      const exit = yield* Fiber.await(fiber)
      expect(exit).toEqual(Exit.fail(new CircuitOpen({ interrupted: true, retryAfterMillis: 10_000 })))
      const before = spawnedAfterTrip
      yield* TestClock.adjust(Duration.seconds(1))
      expect(spawnedAfterTrip).toBe(before)
    }).pipe(
      Effect.provide(
        client(
          script,
          { breaker: { failureThreshold: 1, resetAfter: "10 seconds", halfOpenMaxCalls: 1 } },
          { maxAttempts: 1 }
        )
      )
    )
  )

  it.effect("guard rejections and client errors leave the breaker Closed and reach no provider", () =>
    Effect.gen(function* () {
      for (let i = 0; i < 5; i++) {
        expect((yield* Effect.flip(LlmClient.complete({ ...request(), maxTokens: 100_000_000 })))._tag).toBe(
          "BudgetExceeded"
        )
        expect((yield* Effect.flip(LlmClient.complete(request("x", "claude-haiku-5-5"))))._tag).toBe("UnknownModel")
        const deep = Depth.nested(Depth.nested(Depth.nested(LlmClient.complete(request()))))
        expect((yield* Effect.flip(deep))._tag).toBe("DepthLimitExceeded")
      }
      expect(yield* CircuitBreaker.state).toBe("Closed")
      expect((yield* (yield* TestProvider.TestProvider).calls).length).toBe(0)
    }).pipe(
      Effect.provide(client(script, { breaker: { failureThreshold: 1, resetAfter: "1 second", halfOpenMaxCalls: 1 } }))
    )
  )
})

describe.each(paths)("LlmClient: settlement ($name)", ({ client }) => {
  it.effect("a success is charged the price of its usage, and says so", () =>
    Effect.gen(function* () {
      const completion = yield* Agent.run("writer", LlmClient.complete(request("one two three four")))
      // 18 bytes → 5 input tokens; "reply 0" → 2 output tokens; Haiku 4.5 at $1 / $5 per million.
      expect(completion.usage).toMatchObject({ inputTokens: 5, outputTokens: 2 })
      expect(completion.costUsd).toBeCloseTo((5 * 1 + 2 * 5) / 1e6, 12)
      expect((yield* Budget.snapshot).agents.writer).toEqual({ spentUsd: completion.costUsd, reservedUsd: 0 })
    }).pipe(Effect.provide(client(TestProvider.always(TestProvider.reply()))))
  )

  it.effect("a cancelled agent is charged its reservation once its request is out, nothing before; nothing leaks", () =>
    Effect.gen(function* () {
      const inFlight = yield* Effect.fork(Agent.run("sent", LlmClient.complete(request())))
      yield* TestClock.adjust(Duration.millis(10))
      yield* Concurrency.pauseFor(Duration.seconds(10))
      const gated = yield* Effect.fork(Agent.run("waiting", LlmClient.complete(request())))
      yield* TestClock.adjust(Duration.millis(10))
      expect((yield* Budget.snapshot).agents.waiting?.reservedUsd).toBeGreaterThan(0)
      yield* Fiber.interrupt(inFlight)
      yield* Fiber.interrupt(gated)
      const budget = yield* Budget.snapshot
      expect(budget.agents.sent?.spentUsd).toBeGreaterThan(0)
      expect(budget.agents.waiting).toEqual({ spentUsd: 0, reservedUsd: 0 })
      yield* guardsAreClean
    }).pipe(Effect.provide(client(TestProvider.always(TestProvider.hang))))
  )

  it.effect("a provider error response is charged nothing and settles its reservation", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(LlmClient.complete(request()))
      expect(error).toBeInstanceOf(RateLimited)
      expect(yield* Budget.snapshot).toMatchObject({ spentUsd: 0, reservedUsd: 0 })
    }).pipe(
      Effect.provide(
        client(
          TestProvider.always(TestProvider.fail(new RateLimited({ message: "slow down" }))),
          {},
          { maxAttempts: 1 }
        )
      )
    )
  )
})

describe.each(paths)("LlmClient.completeWith: a call made through another library ($name)", ({ client }) => {
  const usage = { inputTokens: 1000, outputTokens: 100, cacheCreationInputTokens: 0, cacheReadInputTokens: 0 }

  it.effect("its answer's usage settles it, priced as the model it reports, else as the request's", () =>
    Effect.gen(function* () {
      // Haiku 4.5 at $1 / $5 per million; Opus 4.6 at $5 / $25.
      const asked = yield* LlmClient.completeWith(request(), { send: Effect.succeed({ usage }) })
      expect(asked.costUsd).toBeCloseTo((1000 * 1 + 100 * 5) / 1e6, 12)
      const reported = yield* LlmClient.completeWith(request(), {
        send: Effect.succeed({ usage, reportedModel: "claude-opus-4-6-20260101" })
      })
      expect(reported.costUsd).toBeCloseTo((1000 * 5 + 100 * 25) / 1e6, 12)
      expect((yield* Budget.snapshot).spentUsd).toBeCloseTo(asked.costUsd + reported.costUsd, 12)
    }).pipe(Effect.provide(client(TestProvider.always(TestProvider.reply()))))
  )

  it.effect("a reported model with no price is charged the full reservation, never $0", () =>
    Effect.gen(function* () {
      const answer = yield* LlmClient.completeWith(request(), {
        send: Effect.succeed({ usage, reportedModel: "claude-unpriced-9" })
      })
      expect(answer.costUsd).toBeCloseTo(yield* Pricing.estimate(request()), 12)
    }).pipe(Effect.provide(client(TestProvider.always(TestProvider.reply()))))
  )
})

describe.each(paths)("LlmClient: tracing ($name)", ({ client }) => {
  it.effect("with a tracer installed, each call is one span with its model, agent, attempts and cost", () =>
    Effect.gen(function* () {
      const builtIn = yield* Effect.tracer
      const spans: Array<Tracer.Span> = []
      const recording = Tracer.make({
        span: (name, parent, context, links, startTime, kind, options) => {
          const span = builtIn.span(name, parent, context, links, startTime, kind, options)
          spans.push(span)
          return span
        },
        context: (f) => f()
      })
      const completion = yield* Agent.run("traced", LlmClient.complete(request())).pipe(Effect.withTracer(recording))
      const call = spans.find((s) => s.name === "LlmClient.complete")
      expect(call?.attributes.get("fleetguard.model")).toBe("claude-haiku-4-5")
      expect(call?.attributes.get("fleetguard.agent")).toBe("traced")
      expect(call?.attributes.get("fleetguard.attempts")).toBe(1)
      expect(call?.attributes.get("fleetguard.cost_usd")).toBe(completion.costUsd)
      expect(call?.status._tag).toBe("Ended")
    }).pipe(Effect.provide(client(TestProvider.always(TestProvider.reply()))))
  )
})
