import { AiError, LanguageModel, type Response, Tool, Toolkit } from "@effect/ai"
import { AnthropicLanguageModel } from "@effect/ai-anthropic"
import { describe, expect, it } from "@effect/vitest"
import {
  Budget,
  CircuitBreaker,
  CircuitOpen,
  type CompletionRequest,
  Concurrency,
  Events,
  type GuardEvent,
  Pricing
} from "@fleetguard/core"
import { FakeAnthropic } from "@fleetguard/testing"
import { Chunk, Effect, Either, Fiber, Queue, Schema, Stream, TestClock } from "effect"
import { GuardedLanguageModel } from "../src/index.js"
import { type GuardedOptions, guardedOver, haiku, io, untilSleeping } from "./helpers.js"

/** Runs `self` with the guarded model over @effect/ai-anthropic, over real HTTP to a FakeAnthropic on the TestClock. */
const withFake = <A, E, R>(
  options: FakeAnthropic.Options,
  self: (fake: FakeAnthropic.FakeAnthropicService) => Effect.Effect<A, E, R>,
  guarded: GuardedOptions = {}
) =>
  Effect.gen(function* () {
    const fake = yield* FakeAnthropic.make(options)
    return yield* Effect.provide(self(fake), guardedOver(fake, guarded))
  }).pipe(Effect.scoped)

/** The fleetguard error a failure carries (the failure itself when it carries none). */
const guardFailure = <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.map(Effect.flip(self), GuardedLanguageModel.guardError)

/** The request a one-message text prompt is estimated from. */
const estimated = (text: string): CompletionRequest => ({
  model: "claude-haiku-4-5",
  maxTokens: 100,
  messages: [{ role: "user", content: [{ type: "text", text }] }]
})

/** Haiku 4.5: $1 in, $5 out per million tokens. */
const haikuUsd = (input: number, output: number) => (input + 5 * output) / 1e6

const settledEvents = (events: Queue.Dequeue<GuardEvent>) =>
  Effect.map(Queue.takeAll(events), (all) =>
    Chunk.toReadonlyArray(all).filter((e): e is Events.CallSettled => e._tag === "CallSettled")
  )

const messagesTo = (r: ReadonlyArray<FakeAnthropic.RecordedRequest>) => r.filter((x) => x.path === "/v1/messages")
const promptOf = (body: unknown) =>
  (body as { messages?: ReadonlyArray<{ content?: ReadonlyArray<{ text?: unknown }> }> }).messages?.[0]?.content?.[0]
    ?.text
const when =
  (prompt: string, fault: FakeAnthropic.Fault): FakeAnthropic.Script =>
  ({ body }) =>
    promptOf(body) === prompt ? fault : undefined

/** Moves the clock in steps, with the I/O between them, until `fiber` is done. */
const driveUntilDone = (fiber: Fiber.RuntimeFiber<unknown, unknown>, step: `${number} millis`) =>
  Effect.gen(function* () {
    for (let i = 0; i < 400 && fiber.unsafePoll() === null; i++) {
      yield* io
      yield* TestClock.adjust(step)
    }
  })

const guardsAreClean = Effect.gen(function* () {
  expect((yield* Budget.snapshot).reservedUsd).toBe(0)
  expect(yield* Concurrency.snapshot).toMatchObject({ inFlight: 0, waiting: 0 })
  expect((yield* CircuitBreaker.snapshot).tracked).toBe(0)
})

describe("GuardedLanguageModel: each call settled at the price of the usage its response reports", () => {
  it.effect("generateText: one request, carrying the config's model and max tokens; charged its usage", () =>
    withFake({ outputTokens: 5 }, (fake) =>
      Effect.gen(function* () {
        const events = yield* Events.subscribe
        const response = yield* LanguageModel.generateText({ prompt: "one two three four" }).pipe(haiku)
        expect(response.text.split(" ")).toHaveLength(5)
        // 18 bytes → 5 input tokens (the fake counts ⌈bytes / 4⌉), 5 output tokens.
        expect(response.usage).toMatchObject({ inputTokens: 5, outputTokens: 5 })
        expect((yield* Budget.snapshot).spentUsd).toBeCloseTo(haikuUsd(5, 5), 12)
        const [settled] = yield* settledEvents(events)
        expect(settled).toMatchObject({ outcome: "success", attempts: 1, inputTokens: 5, outputTokens: 5 })
        expect(settled?.costUsd).toBeCloseTo(haikuUsd(5, 5), 12)
        expect(settled?.reservedUsd).toBeCloseTo(yield* Pricing.estimate(estimated("one two three four")), 12)
        const [sent] = yield* fake.requests
        expect(sent?.body).toMatchObject({ model: "claude-haiku-4-5", max_tokens: 100 })
        expect(sent?.headers["x-api-key"]).toBe("[redacted]")
        expect(yield* fake.requests).toHaveLength(1)
        yield* guardsAreClean
      })
    )
  )

  it.effect("streamText: parts as they come; charged the usage of its finish part", () =>
    withFake({ outputTokens: 6 }, () =>
      Effect.gen(function* () {
        const parts = yield* LanguageModel.streamText({ prompt: "one two three four" }).pipe(Stream.runCollect, haiku)
        const types = Chunk.toReadonlyArray(parts).map((p) => p.type)
        expect(types.filter((t) => t === "text-delta")).toHaveLength(6)
        expect(types.at(-1)).toBe("finish")
        expect((yield* Budget.snapshot).spentUsd).toBeCloseTo(haikuUsd(5, 6), 12)
        yield* guardsAreClean
      })
    )
  )

  it.effect("generateObject: the object, settled; the tool it is sent as is in the estimate", () =>
    withFake({ outputTokens: 4, toolInput: { city: "Oslo", degrees: 21 } }, (fake) =>
      Effect.gen(function* () {
        const events = yield* Events.subscribe
        const Weather = Schema.Struct({ city: Schema.String, degrees: Schema.Number })
        const response = yield* LanguageModel.generateObject({ prompt: "weather?", schema: Weather }).pipe(haiku)
        expect(response.value).toEqual({ city: "Oslo", degrees: 21 })
        expect((yield* Budget.snapshot).spentUsd).toBeCloseTo(haikuUsd(361, 4), 12)
        const [settled] = yield* settledEvents(events)
        expect(settled?.reservedUsd).toBeGreaterThan(yield* Pricing.estimate(estimated("weather?")))
        const [sent] = yield* fake.requests
        expect(sent?.body).toMatchObject({ tool_choice: { type: "tool" } })
      })
    )
  )

  it.effect("with a toolkit given as an effect: resolved once, its tools in the estimate, its handlers provided", () =>
    withFake({ outputTokens: 3 }, (fake) =>
      Effect.gen(function* () {
        const events = yield* Events.subscribe
        const Lookup = Tool.make("lookup", {
          description: "looks a word up",
          parameters: { word: Schema.String },
          success: Schema.String
        })
        const tools = Toolkit.make(Lookup)
        const response = yield* LanguageModel.generateText({ prompt: "define fleet", toolkit: tools }).pipe(
          haiku,
          Effect.provide(tools.toLayer({ lookup: ({ word }) => Effect.succeed(`${word}: many ships`) }))
        )
        expect(response.text).toBe("lorem ipsum dolor")
        const [settled] = yield* settledEvents(events)
        expect(settled?.reservedUsd).toBeGreaterThan(yield* Pricing.estimate(estimated("define fleet")))
        const [sent] = yield* fake.requests
        expect(sent?.body).toMatchObject({ tools: [{ name: "lookup" }] })
      })
    )
  )
})

describe("GuardedLanguageModel: what is refused before any request", () => {
  const calls: Record<string, Effect.Effect<unknown, AiError.AiError, LanguageModel.LanguageModel>> = {
    generateText: LanguageModel.generateText({ prompt: "hello" }),
    generateObject: LanguageModel.generateObject({ prompt: "hello", schema: Schema.Struct({ a: Schema.Number }) }),
    streamText: Stream.runDrain(LanguageModel.streamText({ prompt: "hello" }))
  }

  it.effect("a budget stop: BudgetExceeded, in an AiError, for every kind of call; the server sees nothing", () =>
    withFake(
      {},
      (fake) =>
        Effect.gen(function* () {
          for (const [method, call] of Object.entries(calls)) {
            const error = yield* Effect.flip(haiku(call))
            expect(AiError.isAiError(error)).toBe(true)
            expect(error).toMatchObject({ _tag: "UnknownError", module: "GuardedLanguageModel", method })
            expect(GuardedLanguageModel.guardError(error)).toMatchObject({ _tag: "BudgetExceeded", scope: "fleet" })
          }
          expect(yield* fake.requests).toHaveLength(0)
          expect(yield* Budget.snapshot).toMatchObject({ spentUsd: 0, reservedUsd: 0 })
        }),
      // Haiku's bound for 100 tokens out is over $0.0005.
      { guards: { budget: { limitUsd: 0.0001, perAgentLimitUsd: 0.0001 } } }
    )
  )

  it.effect("no model in the config in context, or one with no price: UnknownModel, never $0", () =>
    withFake({}, (fake) =>
      Effect.gen(function* () {
        for (const call of Object.values(calls)) {
          expect(yield* guardFailure(call)).toMatchObject({ _tag: "UnknownModel", model: "(unset)" })
          const unpriced = AnthropicLanguageModel.withConfigOverride(call, { model: "claude-haiku-5-5" })
          expect(yield* guardFailure(unpriced)).toMatchObject({ _tag: "UnknownModel", model: "claude-haiku-5-5" })
        }
        expect(yield* fake.requests).toHaveLength(0)
      })
    )
  )

  it.effect("a malformed prompt: InvalidRequest naming the field, not a defect", () =>
    withFake({}, (fake) =>
      Effect.gen(function* () {
        const malformed = LanguageModel.generateText({ prompt: [{ role: "user", content: 5 }] as never })
        expect(yield* guardFailure(haiku(malformed))).toMatchObject({
          _tag: "InvalidRequest",
          field: "prompt[0].content"
        })
        expect(yield* fake.requests).toHaveLength(0)
      })
    )
  )
})

describe("GuardedLanguageModel: what the API answers becomes fleetguard's errors, so the guards act on it", () => {
  it.effect("each status its typed error, with the request id; one request each, nothing charged", () =>
    Effect.gen(function* () {
      const cases: ReadonlyArray<readonly [FakeAnthropic.Fault, Record<string, unknown>]> = [
        [FakeAnthropic.rateLimited({ seconds: 2 }), { _tag: "RateLimited", retryAfterMillis: 2000 }],
        [FakeAnthropic.overloaded, { _tag: "Overloaded" }],
        [FakeAnthropic.status(500, "api_error"), { _tag: "ProviderUnavailable", status: 500 }],
        [FakeAnthropic.status(403, "permission_error"), { _tag: "AuthenticationFailed", status: 403 }],
        [
          FakeAnthropic.status(400, "invalid_request_error", "max_tokens: too large"),
          { _tag: "InvalidRequest", status: 400, message: "max_tokens: too large" }
        ]
      ]
      for (const [fault, expected] of cases) {
        yield* withFake({ script: () => fault }, (fake) =>
          Effect.gen(function* () {
            const error = yield* guardFailure(haiku(LanguageModel.generateText({ prompt: "hello" })))
            expect(error).toMatchObject({ ...expected, requestId: "req_fake_0" })
            expect(yield* fake.requests).toHaveLength(1)
            expect(yield* Budget.snapshot).toMatchObject({ spentUsd: 0, reservedUsd: 0 })
          })
        )
      }
    })
  )

  it.effect("a wrong key: AuthenticationFailed, never retried, and the breaker does not count it", () =>
    withFake(
      {},
      (fake) =>
        Effect.gen(function* () {
          const error = yield* guardFailure(haiku(LanguageModel.generateText({ prompt: "hello" })))
          expect(error).toMatchObject({ _tag: "AuthenticationFailed", status: 401 })
          expect(yield* fake.requests).toHaveLength(1)
          expect((yield* CircuitBreaker.snapshot).state).toBe("Closed")
        }),
      { apiKey: "sk-ant-wrong", retry: { maxAttempts: 3 } }
    )
  )

  it.effect("a 429's retry-after closes the shared gate for that long", () =>
    withFake({ script: () => FakeAnthropic.rateLimited({ millis: 1500 }) }, () =>
      Effect.gen(function* () {
        yield* Effect.flip(haiku(LanguageModel.generateText({ prompt: "hello" })))
        expect((yield* Concurrency.snapshot).pausedUntil).toBe(1500)
      })
    )
  )

  it.effect("an answer that cannot be read: billed, charged its reservation, not retried", () =>
    withFake(
      { script: () => FakeAnthropic.malformed },
      (fake) =>
        Effect.gen(function* () {
          const error = yield* guardFailure(haiku(LanguageModel.generateText({ prompt: "hello" })))
          expect(error).toMatchObject({ _tag: "ProviderUnavailable", billed: true })
          expect(yield* fake.requests).toHaveLength(1)
          expect((yield* Budget.snapshot).spentUsd).toBeCloseTo(yield* Pricing.estimate(estimated("hello")), 12)
        }),
      { retry: { maxAttempts: 3 } }
    )
  )

  it.effect("connection refused: not sent, retried, charged nothing", () =>
    Effect.gen(function* () {
      const gone = yield* Effect.scoped(FakeAnthropic.make())
      const call = Effect.gen(function* () {
        const fiber = yield* Effect.fork(Effect.flip(haiku(LanguageModel.generateText({ prompt: "hello" }))))
        yield* driveUntilDone(fiber, "250 millis")
        const error = yield* Fiber.join(fiber)
        expect(GuardedLanguageModel.guardError(error)).toMatchObject({ _tag: "ProviderUnavailable", sent: false })
        // @effect/ai's own HttpRequestError shows the request's x-api-key header; what reaches the caller does not.
        expect(`${JSON.stringify(error)} ${String(error)}`).not.toContain(gone.apiKey)
        expect(yield* Budget.snapshot).toMatchObject({ spentUsd: 0, reservedUsd: 0 })
      })
      yield* Effect.provide(call, guardedOver(gone, { retry: { maxAttempts: 3 } }))
    })
  )

  it.effect("a failure that is not the provider's is the model's, as it was; charged its bound, not counted", () =>
    withFake({ toolInput: { city: 5 } }, () =>
      Effect.gen(function* () {
        const events = yield* Events.subscribe
        const error = yield* Effect.flip(
          haiku(LanguageModel.generateObject({ prompt: "weather?", schema: Schema.Struct({ city: Schema.String }) }))
        )
        expect(error).toMatchObject({ _tag: "MalformedOutput", module: "LanguageModel" })
        const [settled] = yield* settledEvents(events)
        expect(settled?.costUsd).toBe(settled?.reservedUsd)
        expect((yield* Budget.snapshot).spentUsd).toBe(settled?.reservedUsd)
        expect((yield* CircuitBreaker.snapshot).state).toBe("Closed")
        yield* guardsAreClean
      })
    )
  )
})

describe("GuardedLanguageModel: the fleet's guards, over real HTTP", () => {
  it.effect(
    "a 429 storm: one pause for everyone, at most one 429 per permit, silence until the wait is over, every call answered",
    () =>
      withFake(
        { script: FakeAnthropic.during(0, 5_000, FakeAnthropic.rateLimited({ seconds: 5 })) },
        (fake) =>
          Effect.gen(function* () {
            const fleet = yield* Effect.fork(
              Effect.forEach(
                Array.from({ length: 20 }, (_, i) => i),
                () => haiku(LanguageModel.generateText({ prompt: "hello" })),
                { concurrency: "unbounded" }
              )
            )
            yield* driveUntilDone(fleet, "250 millis")
            expect(yield* Fiber.join(fleet)).toHaveLength(20)
            const requests = messagesTo(yield* fake.requests)
            const limited = requests.filter((r) => r.status === 429)
            expect(limited.length).toBeGreaterThanOrEqual(1)
            expect(limited.length).toBeLessThanOrEqual(5)
            expect(requests.filter((r) => r.status !== 429).every((r) => r.at >= 5_000)).toBe(true)
            expect(requests).toHaveLength(20 + limited.length)
            yield* guardsAreClean
          }),
        { retry: { maxAttempts: 4 } }
      )
  )

  it.effect("429s for 0.8 s at the default limits: they pause the fleet, never open the breaker; all 20 answered", () =>
    withFake(
      { script: FakeAnthropic.during(0, 800, FakeAnthropic.rateLimited()) },
      (fake) =>
        Effect.gen(function* () {
          const fleet = yield* Effect.fork(
            Effect.forEach(
              Array.from({ length: 20 }, (_, i) => i),
              () => Effect.either(haiku(LanguageModel.generateText({ prompt: "hello" }))),
              { concurrency: "unbounded" }
            )
          )
          yield* driveUntilDone(fleet, "100 millis")
          const results = yield* Fiber.join(fleet)
          expect(results.filter(Either.isLeft).map((r) => GuardedLanguageModel.guardError(r.left))).toEqual([])
          expect(messagesTo(yield* fake.requests).filter((r) => r.status === 429).length).toBeGreaterThanOrEqual(5)
          expect(yield* CircuitBreaker.snapshot).toMatchObject({ state: "Closed", trips: 0 })
        }),
      {
        guards: {
          concurrency: { maxConcurrency: 8 },
          breaker: { failureThreshold: 5, resetAfter: "30 seconds", halfOpenMaxCalls: 1 }
        },
        retry: {}
      }
    )
  )

  it.effect("a trip with 10 streams in flight aborts all 10: each sees CircuitOpen, the server sees 10 closes", () =>
    withFake(
      { deltaInterval: "1 second", script: when("fail", FakeAnthropic.status(500, "api_error")) },
      (fake) =>
        Effect.gen(function* () {
          let streaming = 0
          const slow = LanguageModel.streamText({ prompt: "slow" }).pipe(
            Stream.tap((part) => Effect.sync(() => part.type === "text-delta" && streaming++)),
            Stream.runDrain,
            haiku
          )
          const streams = yield* Effect.fork(
            Effect.forEach(
              Array.from({ length: 10 }, () => Effect.either(slow)),
              (s) => s,
              { concurrency: "unbounded" }
            )
          )
          // Every stream has its first text before the trip: each is charged what it received.
          while (streaming < 10) yield* io
          const failure = yield* guardFailure(haiku(LanguageModel.generateText({ prompt: "fail" })))
          expect(failure).toMatchObject({ _tag: "ProviderUnavailable", status: 500 })
          for (const result of yield* Fiber.join(streams)) {
            const error = Either.isLeft(result) ? GuardedLanguageModel.guardError(result.left) : undefined
            expect(error).toBeInstanceOf(CircuitOpen)
            expect(error).toMatchObject({ interrupted: true })
          }
          yield* fake.awaitIdle
          const outcomes = messagesTo(yield* fake.requests).map((r) => r.outcome)
          expect(outcomes.filter((o) => o === "client-closed")).toHaveLength(10)
          expect(yield* CircuitBreaker.state).toBe("Open")
          // Each: its input's bound and the 5 bytes of "lorem" it received, well under its reservation.
          const partial = haikuUsd(Pricing.maxInputTokens(estimated("slow")), 5)
          expect((yield* Budget.snapshot).spentUsd).toBeCloseTo(10 * partial, 12)
          yield* guardsAreClean
        }),
      {
        guards: {
          concurrency: { maxConcurrency: 20 },
          breaker: { failureThreshold: 1, resetAfter: "10 seconds", halfOpenMaxCalls: 1 }
        }
      }
    )
  )

  it.effect(
    "a consumer that stops early aborts the request; charged the bytes it received, bounded by its reservation",
    () =>
      withFake({ deltaInterval: "1 second" }, (fake) =>
        Effect.gen(function* () {
          const fiber = yield* Effect.fork(
            LanguageModel.streamText({ prompt: "hello" }).pipe(
              Stream.filter((part): part is Response.TextDeltaPart => part.type === "text-delta"),
              Stream.take(3),
              Stream.runCollect,
              haiku
            )
          )
          for (let i = 0; i < 2; i++) {
            yield* untilSleeping
            yield* TestClock.adjust("1 second")
          }
          const deltas = Chunk.toReadonlyArray(yield* Fiber.join(fiber)).map((p) => p.delta)
          expect(deltas.join("")).toBe("lorem ipsum dolor")
          yield* fake.awaitIdle
          expect((yield* fake.requests).map((r) => r.outcome)).toEqual(["client-closed"])
          const spent = (yield* Budget.snapshot).spentUsd
          expect(spent).toBeCloseTo(haikuUsd(Pricing.maxInputTokens(estimated("hello")), 17), 12)
          expect(spent).toBeLessThan(yield* Pricing.estimate(estimated("hello")))
          yield* guardsAreClean
        })
      )
  )

  it.effect("an error event mid-stream fails the stream as the error it names; charged what it received", () =>
    withFake({ script: () => FakeAnthropic.errorEvent(2, "overloaded_error") }, () =>
      Effect.gen(function* () {
        const seen: Array<string> = []
        const error = yield* guardFailure(
          LanguageModel.streamText({ prompt: "hello" }).pipe(
            Stream.runForEach((part) => Effect.sync(() => part.type === "text-delta" && seen.push(part.delta))),
            haiku
          )
        )
        expect(error).toMatchObject({ _tag: "Overloaded" })
        expect(seen).toEqual(["lorem", " ipsum"])
        expect((yield* Budget.snapshot).spentUsd).toBeCloseTo(
          haikuUsd(Pricing.maxInputTokens(estimated("hello")), 11),
          12
        )
      })
    )
  )

  it.effect("a 429 before any part is retried once the gate reopens: the caller sees one clean stream", () =>
    withFake(
      { script: FakeAnthropic.byIndex({ 0: FakeAnthropic.rateLimited({ seconds: 1 }) }), outputTokens: 3 },
      (fake) =>
        Effect.gen(function* () {
          const fiber = yield* Effect.fork(LanguageModel.streamText({ prompt: "hello" }).pipe(Stream.runCollect, haiku))
          yield* driveUntilDone(fiber, "250 millis")
          const types = Chunk.toReadonlyArray(yield* Fiber.join(fiber)).map((p) => p.type)
          expect(types.filter((t) => t === "response-metadata")).toHaveLength(1)
          expect(types.filter((t) => t === "text-delta")).toHaveLength(3)
          expect((yield* fake.requests).map((r) => r.status)).toEqual([429, 200])
        }),
      { retry: { maxAttempts: 2 } }
    )
  )
})
