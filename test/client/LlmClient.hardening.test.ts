import { describe, expect, it } from "@effect/vitest"
import {
  Agent,
  Budget,
  type CompletionRequest,
  Concurrency,
  Events,
  LlmClient,
  Pricing,
  ProviderUnavailable,
  RateLimited
} from "@fleetguard/core"
import { TestProvider } from "@fleetguard/testing"
import { Chunk, Duration, Effect, Exit, Fiber, Queue, Stream, TestClock } from "effect"
import { paths, request } from "../support/client.js"

const range = (n: number) => Array.from({ length: n }, (_, i) => i)

/** Everything published on the test's hub while `self` runs. */
const withEvents = <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.gen(function* () {
    const events = yield* Events.subscribe
    const result = yield* self
    return [result, Chunk.toReadonlyArray(yield* Queue.takeAll(events))] as const
  })

const estimateOf = (r: CompletionRequest) => Pricing.estimate(r)

describe.each(paths)("LlmClient: no answer from the API can freeze the fleet ($name)", ({ client }) => {
  const centuries = 99_999_999_999 * 1_000

  it.scoped(
    "a retry-after beyond maxPause fails that call (not retried), closes the gate for maxPause only, and says so",
    () =>
      Effect.gen(function* () {
        const [exit, events] = yield* withEvents(Effect.exit(LlmClient.complete(request())))
        expect(exit).toEqual(Exit.fail(new RateLimited({ retryAfterMillis: centuries, message: "slow down" })))
        const provider = yield* TestProvider.TestProvider
        expect((yield* provider.calls).length).toBe(1)
        expect((yield* Concurrency.snapshot).pausedUntil).toBe(60_000)
        expect(events.filter((e) => e._tag === "RateLimitPause")).toEqual([
          new Events.RateLimitPause({ at: 0, pausedUntil: 60_000, requestedMillis: centuries, capped: true })
        ])
        // The rest of the fleet waits for maxPause, then goes on.
        const fleet = yield* Effect.fork(
          Effect.forEach(range(5), (i) => Agent.run(`agent-${i}`, LlmClient.complete(request())), {
            concurrency: "unbounded"
          })
        )
        yield* TestClock.adjust(Duration.seconds(59))
        expect(fleet.unsafePoll()).toBe(null)
        yield* TestClock.adjust(Duration.seconds(2))
        expect(yield* Fiber.join(fleet)).toHaveLength(5)
        expect(yield* Budget.snapshot).toMatchObject({ reservedUsd: 0 })
      }).pipe(
        Effect.provide(
          client(({ index }) =>
            index === 0
              ? TestProvider.fail(new RateLimited({ retryAfterMillis: centuries, message: "slow down" }))
              : TestProvider.reply()
          )
        )
      )
  )

  it.scoped("maxPause is an option: a shorter one caps a shorter ask", () =>
    Effect.gen(function* () {
      const exit = yield* Effect.exit(LlmClient.complete(request()))
      expect(Exit.isFailure(exit)).toBe(true)
      expect((yield* Concurrency.snapshot).pausedUntil).toBe(5_000)
    }).pipe(
      Effect.provide(
        client(TestProvider.always(TestProvider.fail(new RateLimited({ retryAfterMillis: 6_000 }))), {
          concurrency: { maxConcurrency: 5, maxPause: "5 seconds" }
        })
      )
    )
  )

  for (const [what, retryAfterMillis] of [
    ["infinite (400 digits)", Number.POSITIVE_INFINITY],
    ["NaN", Number.NaN],
    ["negative", -5_000]
  ] as const) {
    it.scoped(
      `a retry-after that is ${what} counts as absent: the backoff closes the gate and the call is retried`,
      () =>
        Effect.gen(function* () {
          const call = yield* Effect.fork(LlmClient.complete(request()))
          yield* TestClock.adjust(Duration.millis(1))
          // The backoff ceiling of the first attempt (500 ms), not centuries and not zero.
          expect((yield* Concurrency.snapshot).pausedUntil).toBe(500)
          yield* TestClock.adjust(Duration.seconds(2))
          expect((yield* Fiber.join(call)).text).toBe("reply 1")
        }).pipe(
          Effect.provide(
            client(({ index }) =>
              index === 0 ? TestProvider.fail(new RateLimited({ retryAfterMillis })) : TestProvider.reply()
            )
          )
        )
    )
  }

  it.scoped("rate-limit headers resetting in the year 9999 close the gate for maxPause, not for ever", () =>
    Effect.gen(function* () {
      const [completion, events] = yield* withEvents(LlmClient.complete(request()))
      expect(completion.text).toBe("reply 0")
      expect((yield* Concurrency.snapshot).pausedUntil).toBe(60_000)
      expect(events.filter((e) => e._tag === "RateLimitPause")).toMatchObject([{ capped: true, pausedUntil: 60_000 }])
      const next = yield* Effect.fork(LlmClient.complete(request()))
      yield* TestClock.adjust(Duration.seconds(61))
      expect((yield* Fiber.join(next)).text).toBe("reply 1")
    }).pipe(
      Effect.provide(
        client(({ index }) =>
          TestProvider.reply(index === 0 ? { rateLimitResetMillis: Date.parse("9999-12-31T00:00:00Z") } : {})
        )
      )
    )
  )

  it.scoped("an operator reopens the gate by hand: every waiter goes at once", () =>
    Effect.gen(function* () {
      yield* Concurrency.pauseFor(Duration.seconds(30))
      const fleet = yield* Effect.fork(
        Effect.forEach(range(4), () => LlmClient.complete(request()), { concurrency: "unbounded" })
      )
      yield* TestClock.adjust(Duration.seconds(1))
      expect(fleet.unsafePoll()).toBe(null)
      const [, events] = yield* withEvents(Concurrency.resume)
      expect(events.map((e) => e._tag)).toEqual(["RateLimitResumed"])
      expect(yield* Fiber.join(fleet)).toHaveLength(4)
      expect((yield* Concurrency.snapshot).pausedUntil).toBe(null)
      const calls = yield* (yield* TestProvider.TestProvider).calls
      expect(calls.map((c) => c.at)).toEqual([1_000, 1_000, 1_000, 1_000])
    }).pipe(Effect.provide(client(TestProvider.always(TestProvider.reply()))))
  )
})

describe.each(paths)("LlmClient: bad input is a typed error, never a defect ($name)", ({ client }) => {
  const cases: ReadonlyArray<readonly [string, unknown, string, string]> = [
    ["maxTokens as a string", { ...request(), maxTokens: "100" }, "InvalidAmount", "maxTokens"],
    [
      "null content",
      { ...request(), messages: [{ role: "user", content: null }] },
      "InvalidRequest",
      "messages[0].content"
    ],
    ["null messages", { ...request(), messages: null }, "InvalidRequest", "messages"],
    ["no model", { maxTokens: 10, messages: [{ role: "user", content: "hi" }] }, "InvalidRequest", "model"],
    [
      "a number as content",
      { ...request(), messages: [{ role: "user", content: 42 }] },
      "InvalidRequest",
      "messages[0].content"
    ],
    [
      "an object as content",
      { ...request(), messages: [{ role: "user", content: { a: 1 } }] },
      "InvalidRequest",
      "messages[0].content"
    ],
    ["system as a number", { ...request(), system: 7 }, "InvalidRequest", "system"],
    [
      "a block without text",
      { ...request(), messages: [{ role: "user", content: [{ type: "text" }] }] },
      "InvalidRequest",
      "messages[0].content[0].text"
    ],
    [
      "an unknown role",
      { ...request(), messages: [{ role: "system", content: "x" }] },
      "InvalidRequest",
      "messages[0].role"
    ]
  ]

  for (const [what, input, tag, field] of cases) {
    it.scoped(`${what}: ${tag} naming ${field}, and nothing is reserved or sent`, () =>
      Effect.gen(function* () {
        const bad = input as CompletionRequest
        const error = yield* Effect.flip(LlmClient.complete(bad))
        expect(error).toMatchObject({ _tag: tag, field })
        expect(error.message).toContain(field)
        const streamed = yield* Effect.flip(Stream.runDrain(LlmClient.stream(bad)))
        expect(streamed).toMatchObject({ _tag: tag, field })
        expect(yield* (yield* TestProvider.TestProvider).calls).toEqual([])
        expect(yield* Budget.snapshot).toMatchObject({ spentUsd: 0, reservedUsd: 0 })
      }).pipe(Effect.provide(client(TestProvider.always(TestProvider.reply()))))
    )
  }

  it.scoped("text blocks are accepted in content and system, sent as they are, and priced by their bytes", () =>
    Effect.gen(function* () {
      const text = "héllo wörld"
      const blocks: CompletionRequest = {
        ...request(),
        system: [{ type: "text", text: "be brief" }],
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text },
              { type: "text", text: text.repeat(3) }
            ]
          }
        ]
      }
      const asString: CompletionRequest = {
        ...request(),
        system: "be brief",
        messages: [{ role: "user", content: text.repeat(4) }]
      }
      const blockEstimate = yield* estimateOf(blocks)
      // The same text costs at least as much in blocks (each block is framed), never $0 more.
      expect(blockEstimate).toBeGreaterThan(yield* estimateOf(asString))
      expect(Pricing.maxInputTokens(blocks)).toBeGreaterThanOrEqual(
        Pricing.byteLength(text) * 4 + Pricing.byteLength("be brief")
      )
      const completion = yield* LlmClient.complete(blocks)
      expect(completion.usage.inputTokens).toBeGreaterThan(0)
      const [call] = yield* (yield* TestProvider.TestProvider).calls
      expect(call?.request).toEqual(blocks)
    }).pipe(Effect.provide(client(TestProvider.always(TestProvider.reply()))))
  )
})

describe.each(paths)(
  "LlmClient: an attempt that was sent and got no answer is charged its upper bound ($name)",
  ({ client }) => {
    const noAnswer = new ProviderUnavailable({ message: "the request timed out" })

    it.scoped("three timed-out attempts send three requests and are charged three upper bounds", () =>
      Effect.gen(function* () {
        const estimate = yield* estimateOf(request())
        const call = yield* Effect.fork(Effect.exit(LlmClient.complete(request())))
        yield* TestClock.adjust(Duration.minutes(1))
        expect(yield* Fiber.join(call)).toEqual(Exit.fail(noAnswer))
        expect((yield* (yield* TestProvider.TestProvider).calls).length).toBe(3)
        const budget = yield* Budget.snapshot
        expect(budget.spentUsd).toBeCloseTo(3 * estimate, 12)
        expect(budget.reservedUsd).toBe(0)
      }).pipe(Effect.provide(client(TestProvider.always(TestProvider.fail(noAnswer)), {}, { maxAttempts: 3 })))
    )

    it.scoped("a retry reserves again, and is refused whole when the budget cannot cover it", () =>
      Effect.gen(function* () {
        const call = yield* Effect.fork(Effect.exit(LlmClient.complete(request())))
        yield* TestClock.adjust(Duration.minutes(1))
        const exit = yield* Fiber.join(call)
        expect(exit).toMatchObject({ _tag: "Failure" })
        expect(Exit.isFailure(exit) && JSON.stringify(exit.cause)).toContain("BudgetExceeded")
        // Two attempts fit in the fleet limit; the third was never sent.
        expect(yield* estimateOf(request())).toBeCloseTo(0.000553, 12)
        expect((yield* (yield* TestProvider.TestProvider).calls).length).toBe(2)
        const budget = yield* Budget.snapshot
        expect(budget.spentUsd).toBeLessThanOrEqual(budget.limitUsd)
        expect(budget.reservedUsd).toBe(0)
      }).pipe(
        Effect.provide(
          client(
            TestProvider.always(TestProvider.fail(noAnswer)),
            // request() reserves $0.000553 on Haiku 4.5 (53 input tokens at most, 100 output): room for two, not three.
            { budget: { limitUsd: 0.0015, perAgentLimitUsd: 0.0015 } },
            { maxAttempts: 4 }
          )
        )
      )
    )

    it.scoped("an error answer (it has a status) and a request that never reached the provider cost nothing", () =>
      Effect.gen(function* () {
        const call = yield* Effect.fork(LlmClient.complete(request()))
        yield* TestClock.adjust(Duration.minutes(1))
        const completion = yield* Fiber.join(call)
        expect(completion.text).toBe("reply 2")
        const budget = yield* Budget.snapshot
        expect(completion.costUsd).toBe(budget.spentUsd)
        expect(budget.spentUsd).toBe(yield* Pricing.cost(completion.model, completion.usage))
      }).pipe(
        Effect.provide(
          client(({ index }) =>
            index === 0
              ? TestProvider.fail(new ProviderUnavailable({ status: 500 }))
              : index === 1
                ? TestProvider.fail(new ProviderUnavailable({ message: "connection refused", sent: false }))
                : TestProvider.reply()
          )
        )
      )
    )

    it.scoped("completion.costUsd counts every attempt it was charged for", () =>
      Effect.gen(function* () {
        const estimate = yield* estimateOf(request())
        const call = yield* Effect.fork(LlmClient.complete(request()))
        yield* TestClock.adjust(Duration.minutes(1))
        const completion = yield* Fiber.join(call)
        const answered = yield* Pricing.cost(completion.model, completion.usage)
        expect(completion.costUsd).toBeCloseTo(estimate + answered, 12)
        expect((yield* Budget.snapshot).spentUsd).toBeCloseTo(estimate + answered, 12)
      }).pipe(Effect.provide(client(({ index }) => (index === 0 ? TestProvider.fail(noAnswer) : TestProvider.reply()))))
    )
  }
)
