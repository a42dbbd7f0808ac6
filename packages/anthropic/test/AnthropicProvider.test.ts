import { describe, expect, it } from "@effect/vitest"
import { AnthropicProvider } from "@fleetguard/anthropic"
import {
  Budget,
  CircuitBreaker,
  CircuitOpen,
  type CompletionRequest,
  Concurrency,
  Events,
  GuardEvents,
  Guards,
  type GuardsOptions,
  LlmClient,
  LlmProvider,
  Pricing,
  type ProviderError,
  Retry,
  type RetryOptions,
  type StreamPart
} from "@fleetguard/core"
import { FakeAnthropic } from "@fleetguard/testing"
import {
  Cause,
  Chunk,
  ConfigProvider,
  Duration,
  Effect,
  Either,
  Exit,
  Fiber,
  Layer,
  Logger,
  Option,
  Queue,
  Redacted,
  Stream,
  TestClock
} from "effect"

const request = (content = "hello"): CompletionRequest => ({
  model: "claude-haiku-4-5",
  maxTokens: 100,
  messages: [{ role: "user", content }]
})

/**
 * LlmClient over every guard (roomy limits unless a test says otherwise) and `provider`, with a hub
 * of the test's own. (The root suites' helper, test/support/client.ts, is outside this package.)
 */
const clientOver = <P, E>(provider: Layer.Layer<P, E>, guards: Partial<GuardsOptions> = {}, retry: RetryOptions = {}) =>
  LlmClient.layer.pipe(
    Layer.provideMerge(
      Layer.mergeAll(
        Guards.layer({
          budget: { limitUsd: 100, perAgentLimitUsd: 100 },
          concurrency: { maxConcurrency: 5 },
          depth: { maxDepth: 3, maxFanOut: 4 },
          breaker: { failureThreshold: 10, resetAfter: "30 seconds", halfOpenMaxCalls: 2 },
          ...guards
        }),
        provider,
        Retry.layer(retry)
      )
    ),
    Layer.provideMerge(GuardEvents.layer())
  )

/**
 * Runs `self` with LlmClient over the real SDK against a FakeAnthropic started for the test (on the
 * test's TestClock: windows, latency and delta intervals move only when the test says).
 */
const withFake = <A, E, R>(
  options: FakeAnthropic.Options,
  self: (fake: FakeAnthropic.FakeAnthropicService) => Effect.Effect<A, E, R>,
  guards: Partial<GuardsOptions> = {},
  retry: RetryOptions = { maxAttempts: 1 },
  connection: { readonly apiKey?: string; readonly timeout?: Duration.DurationInput } = {}
) =>
  Effect.gen(function* () {
    const fake = yield* FakeAnthropic.make(options)
    const provider = AnthropicProvider.layer({
      apiKey: Redacted.make(connection.apiKey ?? fake.apiKey),
      baseURL: fake.baseURL,
      timeout: connection.timeout
    })
    return yield* Effect.provide(self(fake), clientOver(provider, guards, retry))
  }).pipe(Effect.scoped)

/** Real time passing while the server works: this is waiting for I/O, not a timed assertion. */
const io = Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 2)))

/** Waits until the server has seen what a test needs. */
const untilServer = (
  fake: FakeAnthropic.FakeAnthropicService,
  done: (r: ReadonlyArray<FakeAnthropic.RecordedRequest>) => boolean
) =>
  Effect.gen(function* () {
    while (!done(yield* fake.requests)) yield* io
  })

/** Waits until a fiber (the server's) sleeps on the TestClock, so that adjusting the clock wakes it. */
const untilSleeping = Effect.gen(function* () {
  while (Chunk.isEmpty(yield* TestClock.sleeps())) yield* io
})

const messagesTo = (r: ReadonlyArray<FakeAnthropic.RecordedRequest>) => r.filter((x) => x.path === "/v1/messages")
const contentOf = (body: unknown) =>
  (body as { messages?: ReadonlyArray<{ content?: unknown }> }).messages?.[0]?.content
const when =
  (content: string, fault: FakeAnthropic.Fault): FakeAnthropic.Script =>
  ({ body }) =>
    contentOf(body) === content ? fault : undefined

describe("AnthropicProvider through the SDK against FakeAnthropic", () => {
  it.effect("a reply: text, usage and cost; one HTTP request, with the key sent as a Bearer token", () =>
    withFake({ outputTokens: 5 }, (fake) =>
      Effect.gen(function* () {
        const completion = yield* LlmClient.complete(request("one two three four"))
        expect(completion.text.split(" ")).toHaveLength(5)
        // 18 bytes → 5 input tokens (the fake counts ⌈bytes / 4⌉); Haiku 4.5 at $1 / $5 per million.
        expect(completion.usage).toMatchObject({ inputTokens: 5, outputTokens: 5, cacheCreationInputTokens: 0 })
        expect(completion.costUsd).toBeCloseTo((5 + 5 * 5) / 1e6, 12)
        const [sent] = yield* fake.requests
        expect(sent?.headers.authorization).toBe("[redacted]")
        expect(sent?.body).toMatchObject({ model: "claude-haiku-4-5", max_tokens: 100 })
        expect(yield* fake.requests).toHaveLength(1)
      })
    )
  )

  it.effect("each status becomes its typed error, with the request id; exactly one HTTP request each", () =>
    Effect.gen(function* () {
      const cases: ReadonlyArray<readonly [FakeAnthropic.Fault, string, Record<string, unknown>]> = [
        [FakeAnthropic.rateLimited({ seconds: 2 }), "RateLimited", { retryAfterMillis: 2000 }],
        [FakeAnthropic.overloaded, "Overloaded", {}],
        [FakeAnthropic.status(500, "api_error"), "ProviderUnavailable", { status: 500 }],
        [FakeAnthropic.status(503, "api_error"), "ProviderUnavailable", { status: 503 }],
        [FakeAnthropic.status(408, "timeout_error"), "ProviderUnavailable", { status: 408 }],
        [FakeAnthropic.status(403, "permission_error"), "AuthenticationFailed", { status: 403 }],
        [
          FakeAnthropic.status(400, "invalid_request_error", "max_tokens: too large"),
          "InvalidRequest",
          {
            status: 400,
            errorType: "invalid_request_error",
            message: "max_tokens: too large"
          }
        ],
        [FakeAnthropic.status(404, "not_found_error"), "InvalidRequest", { status: 404, errorType: "not_found_error" }],
        [FakeAnthropic.status(413, "request_too_large"), "InvalidRequest", { status: 413 }]
      ]
      for (const [fault, tag, fields] of cases) {
        yield* withFake({ script: () => fault }, (fake) =>
          Effect.gen(function* () {
            const error = yield* Effect.flip(LlmClient.complete(request()))
            expect(error).toMatchObject({ _tag: tag, ...fields })
            expect((error as { requestId?: string }).requestId).toMatch(/^req_fake_/)
            expect(yield* fake.requests).toHaveLength(1)
            expect(yield* Budget.snapshot).toMatchObject({ spentUsd: 0, reservedUsd: 0 })
          })
        )
      }
    })
  )

  it.effect(
    "a wrong key is AuthenticationFailed, and the key is nowhere: errors, events, logs, the server's record",
    () =>
      Effect.gen(function* () {
        const secret = "sk-ant-api03-THIS-MUST-NEVER-LEAK"
        const logs: Array<string> = []
        const logger = Logger.make(({ message, cause }) => logs.push(JSON.stringify({ message, cause: String(cause) })))
        yield* withFake(
          {},
          (fake) =>
            Effect.gen(function* () {
              const events = yield* Events.subscribe
              const error = yield* Effect.flip(LlmClient.complete(request()))
              expect(error).toMatchObject({ _tag: "AuthenticationFailed", status: 401 })
              yield* Effect.logError("call failed", error)
              const seen = [
                JSON.stringify(error),
                String(error),
                error.message,
                JSON.stringify(Chunk.toReadonlyArray(yield* Queue.takeAll(events))),
                JSON.stringify(yield* fake.requests),
                ...logs
              ].join("\n")
              expect(seen).toContain("AuthenticationFailed")
              expect(seen).not.toContain(secret)
              expect(seen).not.toContain("THIS-MUST-NEVER-LEAK")
            }),
          {},
          { maxAttempts: 1 },
          { apiKey: secret }
        ).pipe(Effect.provide(Logger.replace(Logger.defaultLogger, logger)))
        expect(logs.length).toBeGreaterThan(0)
      })
  )

  it.effect("a short key is scrubbed as a whole token only: the server's message keeps its words", () =>
    withFake(
      {},
      () =>
        Effect.gen(function* () {
          const error = yield* Effect.flip(LlmClient.complete(request()))
          expect(error).toMatchObject({ _tag: "AuthenticationFailed", message: "invalid x-api-key" })
        }),
      {},
      { maxAttempts: 1 },
      { apiKey: "x" }
    )
  )

  it.effect("retry-after in its three forms: milliseconds, seconds, an HTTP date", () =>
    Effect.gen(function* () {
      const forms: ReadonlyArray<readonly [FakeAnthropic.RetryAfter, number]> = [
        [{ millis: 1500 }, 1500],
        [{ seconds: 3 }, 3000],
        // The fake runs on this test's clock (epoch 0): an HTTP date 7 s later is 7 s away.
        [{ date: new Date(7000) }, 7000]
      ]
      for (const [retryAfter, millis] of forms) {
        yield* withFake({ script: () => FakeAnthropic.rateLimited(retryAfter) }, () =>
          Effect.gen(function* () {
            const error = yield* Effect.flip(LlmClient.complete(request()))
            expect(error).toMatchObject({ _tag: "RateLimited", retryAfterMillis: millis })
            // The 429 closed the shared gate for that long.
            expect((yield* Concurrency.snapshot).pausedUntil).toBe(millis)
          })
        )
      }
    })
  )

  it.effect("a retry-after no wait can be (negative, 400 digits, not a date) is a 429 that did not say", () =>
    Effect.gen(function* () {
      for (const raw of ["-5", "9".repeat(400), "7 days"]) {
        yield* withFake({ script: () => FakeAnthropic.rateLimited(undefined, { "retry-after": raw }) }, () =>
          Effect.gen(function* () {
            const error = yield* Effect.flip(LlmClient.complete(request()))
            expect(error._tag === "RateLimited" && error.retryAfterMillis).toBeUndefined()
          })
        )
      }
    })
  )

  it.effect("retries are fleetguard's: three attempts are three HTTP requests, never more", () =>
    withFake(
      { script: () => FakeAnthropic.overloaded },
      (fake) =>
        Effect.gen(function* () {
          const fiber = yield* Effect.fork(Effect.flip(LlmClient.complete(request())))
          for (let i = 0; i < 3; i++) {
            yield* untilServer(fake, (r) => r.length > i)
            yield* TestClock.adjust("10 seconds")
          }
          expect((yield* Fiber.join(fiber))._tag).toBe("Overloaded")
          expect((yield* fake.requests).map((r) => r.status)).toEqual([529, 529, 529])
        }),
      {},
      { maxAttempts: 3 }
    )
  )

  it.effect("interrupting a call closes its connection: the server sees it; the call is charged its reservation", () =>
    withFake({ script: () => FakeAnthropic.hang }, (fake) =>
      Effect.gen(function* () {
        const fiber = yield* Effect.fork(LlmClient.complete(request()))
        yield* untilServer(fake, (r) => r.length === 1)
        yield* Fiber.interrupt(fiber)
        yield* fake.awaitIdle
        expect((yield* fake.requests).map((r) => r.outcome)).toEqual(["client-closed"])
        const budget = yield* Budget.snapshot
        expect(budget.spentUsd).toBeCloseTo(yield* Pricing.estimate(request()), 12)
        expect(budget.reservedUsd).toBe(0)
      })
    )
  )

  it.effect("bad bodies are typed failures, never defects, charged in full: the call was answered, likely billed", () =>
    Effect.gen(function* () {
      for (const fault of [FakeAnthropic.malformed, FakeAnthropic.badShape]) {
        yield* withFake(
          { script: () => fault },
          (fake) =>
            Effect.gen(function* () {
              const exit = yield* Effect.exit(LlmClient.complete(request()))
              expect(Exit.isFailure(exit) && Cause.isDie(exit.cause)).toBe(false)
              const error = Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : Option.none()
              expect(Option.getOrUndefined(error)).toMatchObject({
                _tag: "ProviderUnavailable",
                billed: true,
                message: expect.stringMatching(/malformed response/)
              })
              const budget = yield* Budget.snapshot
              expect(budget.spentUsd).toBeCloseTo(yield* Pricing.estimate(request()), 12)
              expect(budget.reservedUsd).toBe(0)
              // Retries were allowed, but a billed answer is not retried: its cost is settled once.
              expect(yield* fake.requests).toHaveLength(1)
            }),
          {},
          { maxAttempts: 3 }
        )
        yield* withFake({ script: () => fault }, () =>
          Effect.gen(function* () {
            const error = yield* Effect.flip(Stream.runDrain(LlmClient.stream(request())))
            expect(error._tag).toBe("ProviderUnavailable")
          })
        )
      }
    })
  )

  it.effect(
    "rate-limit headers at zero close the gate until the reset: the next call waits instead of drawing a 429",
    () =>
      withFake({ limits: { requestsPerMinute: 2 } }, (fake) =>
        Effect.gen(function* () {
          yield* LlmClient.complete(request())
          expect((yield* Concurrency.snapshot).pausedUntil).toBeNull()
          yield* LlmClient.complete(request())
          // The second response said: no requests left until the window ends at 60 s.
          expect((yield* Concurrency.snapshot).pausedUntil).toBe(60_000)
          const third = yield* Effect.fork(LlmClient.complete(request()))
          yield* TestClock.adjust("59 seconds")
          expect(messagesTo(yield* fake.requests)).toHaveLength(2)
          yield* TestClock.adjust("2 seconds")
          yield* Fiber.join(third)
          const statuses = messagesTo(yield* fake.requests).map((r) => r.status)
          expect(statuses).toEqual([200, 200, 200])
        })
      )
  )

  it.effect(
    "a request the SDK refuses to send is InvalidRequest: not sent, not charged, not retried, not a failure upstream",
    () =>
      withFake(
        {},
        (fake) =>
          Effect.gen(function* () {
            // Non-streaming with a large maxTokens and no timeout: the SDK asks for streaming instead.
            const error = yield* Effect.flip(LlmClient.complete({ ...request(), maxTokens: 32_000 }))
            expect(error).toMatchObject({ _tag: "InvalidRequest", errorType: "client_error" })
            expect(yield* fake.requests).toHaveLength(0)
            expect(yield* Budget.snapshot).toMatchObject({ spentUsd: 0, reservedUsd: 0 })
            expect(yield* CircuitBreaker.state).toBe("Closed")
          }),
        { breaker: { failureThreshold: 1, resetAfter: "10 seconds", halfOpenMaxCalls: 1 } },
        { maxAttempts: 3 }
      )
  )

  it.effect("the timeout covers the whole call: a hung request fails typed and its connection is closed", () =>
    withFake(
      { script: () => FakeAnthropic.hang },
      (fake) =>
        Effect.gen(function* () {
          const call = yield* Effect.fork(Effect.flip(LlmClient.complete(request())))
          yield* untilServer(fake, (r) => r.length === 1)
          yield* untilSleeping
          yield* TestClock.adjust("2 seconds")
          expect(yield* Fiber.join(call)).toMatchObject({
            _tag: "ProviderUnavailable",
            message: "the request timed out after 2000 ms"
          })
          yield* fake.awaitIdle
          expect((yield* fake.requests).map((r) => r.outcome)).toEqual(["client-closed"])
        }),
      {},
      { maxAttempts: 1 },
      { timeout: "2 seconds" }
    )
  )

  it.effect("the token-counting estimator reserves on the counted input (with its margin), not the byte bound", () =>
    withFake({}, (fake) =>
      Effect.gen(function* () {
        const long: CompletionRequest = { ...request("x".repeat(4000)), maxTokens: 10 }
        const counted = yield* Effect.provide(
          Pricing.estimate(long),
          AnthropicProvider.pricingLayer({ apiKey: Redacted.make(fake.apiKey), baseURL: fake.baseURL })
        )
        // 4000 bytes → 1000 tokens by the fake's count (+5% margin), against 4000 + framing by the byte bound.
        expect(counted).toBeCloseTo((1050 * 1 + 10 * 5) / 1e6, 12)
        expect(counted).toBeLessThan(yield* Pricing.estimate(long))
        expect((yield* fake.requests).map((r) => r.path)).toEqual(["/v1/messages/count_tokens"])
      })
    )
  )
})

describe("AnthropicProvider: streaming through the SDK", () => {
  const parts = <E, R>(stream: Stream.Stream<StreamPart, E, R>) =>
    Effect.map(Stream.runCollect(stream), Chunk.toReadonlyArray)

  it.effect("text deltas that add up to the completion; charged its usage", () =>
    withFake({ outputTokens: 6 }, () =>
      Effect.gen(function* () {
        const got = yield* parts(LlmClient.stream(request("one two three four")))
        const deltas = got.flatMap((p) => (p._tag === "TextDelta" ? [p.text] : []))
        const last = got.at(-1)
        expect(deltas).toHaveLength(6)
        expect(last?._tag === "Completion" && last.completion.text).toBe(deltas.join(""))
        expect(last?._tag === "Completion" && last.completion.usage).toMatchObject({ inputTokens: 5, outputTokens: 6 })
        expect((yield* Budget.snapshot).spentUsd).toBeCloseTo((5 + 6 * 5) / 1e6, 12)
      })
    )
  )

  it.effect(
    "a connection dropped mid-stream: a typed failure, charged a partial, non-zero cost below the reservation",
    () =>
      withFake({ script: () => FakeAnthropic.dropMidStream(3) }, (fake) =>
        Effect.gen(function* () {
          const seen: Array<string> = []
          const error = yield* Effect.flip(
            Stream.runForEach(LlmClient.stream(request()), (p) =>
              Effect.sync(() => p._tag === "TextDelta" && seen.push(p.text))
            )
          )
          expect(error._tag).toBe("ProviderUnavailable")
          expect(seen).toHaveLength(3)
          const budget = yield* Budget.snapshot
          expect(budget.spentUsd).toBeGreaterThan(0)
          expect(budget.spentUsd).toBeLessThan(yield* Pricing.estimate(request()))
          expect(budget.reservedUsd).toBe(0)
          expect((yield* fake.requests).map((r) => r.outcome)).toEqual(["dropped"])
        })
      )
  )

  it.effect("an error event mid-stream is mapped like a status error, and the partial cost is charged", () =>
    withFake({ script: () => FakeAnthropic.errorEvent(2, "overloaded_error") }, () =>
      Effect.gen(function* () {
        const error = yield* Effect.flip(Stream.runDrain(LlmClient.stream(request())))
        expect(error._tag).toBe("Overloaded")
        expect((yield* Budget.snapshot).spentUsd).toBeGreaterThan(0)
      })
    )
  )

  it.effect("a stream that stalls mid-way fails typed after the timeout, charged what it got, and is closed", () =>
    withFake(
      { deltaInterval: "1 minute" },
      (fake) =>
        Effect.gen(function* () {
          const stream = yield* Effect.fork(Effect.flip(Stream.runDrain(LlmClient.stream(request()))))
          yield* untilServer(fake, (r) => r.length === 1)
          yield* untilSleeping
          yield* TestClock.adjust("2 seconds")
          expect(yield* Fiber.join(stream)).toMatchObject({
            _tag: "ProviderUnavailable",
            message: "the stream stalled: no event for 2000 ms"
          })
          yield* fake.awaitIdle
          expect((yield* fake.requests).map((r) => r.outcome)).toEqual(["client-closed"])
          const budget = yield* Budget.snapshot
          expect(budget.spentUsd).toBeGreaterThan(0)
          expect(budget.spentUsd).toBeLessThan(yield* Pricing.estimate(request()))
        }),
      {},
      { maxAttempts: 1 },
      { timeout: "2 seconds" }
    )
  )

  it.effect("a consumer that stops early aborts the request: the server sees the connection close", () =>
    withFake({ deltaInterval: "1 second" }, (fake) =>
      Effect.gen(function* () {
        const fiber = yield* Effect.fork(parts(Stream.take(LlmClient.stream(request()), 2)))
        yield* untilSleeping
        yield* TestClock.adjust("1 second")
        const got = yield* Fiber.join(fiber)
        expect(got.map((p) => p._tag)).toEqual(["TextDelta", "TextDelta"])
        yield* fake.awaitIdle
        expect((yield* fake.requests).map((r) => r.outcome)).toEqual(["client-closed"])
        expect((yield* Budget.snapshot).reservedUsd).toBe(0)
      })
    )
  )

  it.effect(
    "a trip with 15 streams in flight aborts all 15: each caller sees CircuitOpen, the server sees 15 closes",
    () =>
      withFake(
        { deltaInterval: "1 second", script: when("fail", FakeAnthropic.status(500, "api_error")) },
        (fake) =>
          Effect.gen(function* () {
            const streams = yield* Effect.fork(
              Effect.forEach(
                Array.from({ length: 15 }, (_, i) => i),
                () => Effect.either(Stream.runDrain(LlmClient.stream(request("slow")))),
                { concurrency: "unbounded" }
              )
            )
            yield* untilServer(fake, (r) => r.length === 15)
            const failure = yield* Effect.flip(LlmClient.complete(request("fail")))
            expect(failure._tag).toBe("ProviderUnavailable")
            const results = yield* Fiber.join(streams)
            for (const result of results) expect(Either.isLeft(result) && result.left).toBeInstanceOf(CircuitOpen)
            yield* fake.awaitIdle
            const outcomes = messagesTo(yield* fake.requests).map((r) => r.outcome)
            expect(outcomes.filter((o) => o === "client-closed")).toHaveLength(15)
            expect(yield* CircuitBreaker.state).toBe("Open")
            expect((yield* Budget.snapshot).reservedUsd).toBe(0)
          }),
        {
          concurrency: { maxConcurrency: 20 },
          breaker: { failureThreshold: 1, resetAfter: "10 seconds", halfOpenMaxCalls: 1 }
        }
      )
  )
})

describe("AnthropicProvider: options and environment", () => {
  const fromEnv = (env: Record<string, string>) =>
    Effect.flip(
      Effect.provide(
        Effect.scoped(Layer.build(AnthropicProvider.layerConfig())),
        Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))
      )
    )

  it.effect("a missing key says which variable to set; a bad base URL names its variable; the key is not shown", () =>
    Effect.gen(function* () {
      expect(String(yield* fromEnv({}))).toContain("ANTHROPIC_API_KEY")
      const badUrl = String(yield* fromEnv({ ANTHROPIC_API_KEY: "sk-ant-hidden", ANTHROPIC_BASE_URL: "ftp://x" }))
      expect(badUrl).toContain("ANTHROPIC_BASE_URL")
      expect(badUrl).not.toContain("sk-ant-hidden")
      const empty = String(yield* fromEnv({ ANTHROPIC_API_KEY: "  " }))
      expect(empty).toContain("ANTHROPIC_API_KEY")
    })
  )

  /** Everything a failure shows: its JSON, its text, and what a logger prints of it. */
  const shown = (failure: unknown) =>
    Effect.gen(function* () {
      const logs: Array<string> = []
      const logger = Logger.make(({ message, cause }) => logs.push(JSON.stringify({ message, cause: String(cause) })))
      yield* Effect.logError("build failed", failure).pipe(Effect.provide(Logger.replace(Logger.defaultLogger, logger)))
      expect(logs).toHaveLength(1)
      return [JSON.stringify(failure), String(failure), ...logs].join("\n")
    })

  it.effect("a key no HTTP header can carry is refused by every constructor, naming apiKey, never showing it", () =>
    Effect.gen(function* () {
      for (const key of [
        "sk-ant-SECRET-é",
        "sk-ant-SECRET-€",
        "sk-ant-SECRET\r\nX-Evil: 1",
        "sk-ant SECRET",
        "sk-ant-SECRET\n"
      ]) {
        const options = { apiKey: Redacted.make(key) }
        const failures = [
          yield* Effect.flip(AnthropicProvider.make(options)),
          yield* Effect.flip(Effect.scoped(Layer.build(AnthropicProvider.layer(options)))),
          yield* Effect.flip(AnthropicProvider.countInputTokens(options)),
          yield* Effect.flip(Effect.scoped(Layer.build(AnthropicProvider.pricingLayer(options))))
        ]
        for (const failure of failures) {
          expect(failure).toMatchObject({ _tag: "InvalidOption", option: "apiKey", value: "<redacted>" })
          expect(yield* shown(failure)).not.toContain("SECRET")
        }
        const fromConfig = String(yield* fromEnv({ ANTHROPIC_API_KEY: key }))
        expect(fromConfig).toContain("ANTHROPIC_API_KEY")
        expect(fromConfig).not.toContain("SECRET")
      }
    })
  )

  it.effect("a timeout longer than a timer can hold is refused, naming timeout; the longest one is taken", () =>
    Effect.gen(function* () {
      const apiKey = Redacted.make("sk-ant-test")
      for (const timeout of [Duration.days(25), Duration.millis(2_147_483_648), Duration.infinity])
        expect(yield* Effect.flip(AnthropicProvider.make({ apiKey, timeout }))).toMatchObject({
          _tag: "InvalidOption",
          option: "timeout"
        })
      yield* AnthropicProvider.make({ apiKey, timeout: Duration.millis(2_147_483_647) })
    })
  )

  it.effect("a base URL holding credentials is refused, and its userinfo is shown nowhere", () =>
    Effect.gen(function* () {
      for (const baseURL of [
        "http://user:SECRET@127.0.0.1:1",
        "https://SECRET@api.example.com/v1",
        "ftp://user:SECRET@host",
        "user:SECRET@host",
        "SECRET"
      ]) {
        const failure = yield* Effect.flip(AnthropicProvider.make({ apiKey: Redacted.make("sk-ant-test"), baseURL }))
        expect(failure).toMatchObject({ _tag: "InvalidOption", option: "baseURL" })
        expect(yield* shown(failure)).not.toContain("SECRET")
        const fromConfig = String(yield* fromEnv({ ANTHROPIC_API_KEY: "sk-ant-test", ANTHROPIC_BASE_URL: baseURL }))
        expect(fromConfig).toContain("ANTHROPIC_BASE_URL")
        expect(fromConfig).not.toContain("SECRET")
      }
      // What is shown is the URL without its userinfo (nor its query).
      const failure = yield* Effect.flip(
        AnthropicProvider.make({
          apiKey: Redacted.make("sk-ant-test"),
          baseURL: "http://u:SECRET@127.0.0.1:1/v1?k=SECRET"
        })
      )
      expect(failure.value).toBe("http://127.0.0.1:1/v1")
    })
  )

  it.effect("the key given in options is never printed", () =>
    Effect.gen(function* () {
      const options = { apiKey: Redacted.make("sk-ant-options-secret"), baseURL: "http://127.0.0.1:1" }
      expect(`${JSON.stringify(options)} ${String(options.apiKey)}`).not.toContain("sk-ant-options-secret")
      const service = yield* Effect.provide(LlmProvider, AnthropicProvider.layer(options))
      // Port 1 is on fetch's list of ports it refuses: a client error, typed, with no key in it.
      const error = yield* Effect.flip(service.complete(request()))
      expect(error._tag).toBe("InvalidRequest")
      expect(JSON.stringify(error)).not.toContain("sk-ant-options-secret")
    })
  )
})

describe("AnthropicProvider: how far a failed request got decides what it costs", () => {
  const provider = (baseURL: string, timeout?: Duration.DurationInput) =>
    Effect.provide(
      Effect.all([
        LlmProvider,
        AnthropicProvider.countInputTokens({ apiKey: Redacted.make(FakeAnthropic.defaultApiKey), baseURL, timeout })
      ]),
      AnthropicProvider.layer({ apiKey: Redacted.make(FakeAnthropic.defaultApiKey), baseURL, timeout })
    )
  /**
   * A failure as settlement reads it: whether the provider answered (status, billed), whether it
   * was sent, whether it is a client error. (countTokens fails `unknown`, as Pricing's counters do.)
   */
  const settled = (error: unknown) =>
    typeof error === "object" && error !== null
      ? [
          "_tag" in error ? error._tag : undefined,
          "status" in error ? error.status : undefined,
          "billed" in error ? error.billed : undefined,
          "sent" in error ? error.sent : undefined,
          "errorType" in error ? error.errorType : undefined
        ]
      : error
  /** A stream's failure (the provider must have streams). */
  const streamFailure = (stream: Stream.Stream<unknown, ProviderError> | undefined) =>
    Effect.flip(Stream.runDrain(stream ?? Stream.dieMessage("no stream")))
  /** complete, stream and countTokens, each failing. */
  const failures = (baseURL: string) =>
    Effect.gen(function* () {
      const [service, count] = yield* provider(baseURL)
      return [
        yield* Effect.flip(service.complete(request())),
        yield* streamFailure(service.stream?.(request())),
        yield* Effect.flip(count(request()))
      ]
    })

  it.effect("connection refused (nothing listens): not sent; the server never saw it", () =>
    Effect.gen(function* () {
      // A server started and stopped: its port is free, and nothing was ever sent to it.
      const gone = yield* Effect.scoped(FakeAnthropic.make())
      for (const error of yield* failures(gone.baseURL)) {
        expect(settled(error)).toEqual(["ProviderUnavailable", undefined, undefined, false, undefined])
        expect(String(error)).toContain("ECONNREFUSED")
      }
      expect(yield* gone.requests).toHaveLength(0)
    })
  )

  it.effect("a port fetch refuses to use: nothing left the process, a client error", () =>
    Effect.gen(function* () {
      // Port 6000 (X11) is on fetch's list of ports it refuses.
      for (const error of yield* failures("http://127.0.0.1:6000"))
        expect(settled(error)).toEqual(["InvalidRequest", undefined, undefined, undefined, "client_error"])
    })
  )

  it.effect("dropped before any answer: sent with no answer (no status, not billed); the server got it", () =>
    Effect.gen(function* () {
      const fake = yield* FakeAnthropic.make({ script: () => FakeAnthropic.dropMidStream(0) })
      const [service] = yield* provider(fake.baseURL)
      const error = yield* Effect.flip(service.complete(request()))
      expect(settled(error)).toEqual(["ProviderUnavailable", undefined, undefined, undefined, undefined])
      expect((yield* fake.requests).map((r) => [r.path, r.outcome, r.status])).toEqual([
        ["/v1/messages", "dropped", null]
      ])
    }).pipe(Effect.scoped)
  )

  it.effect("a hang answered by the timeout: sent with no answer; the server got it and saw it closed", () =>
    Effect.gen(function* () {
      const fake = yield* FakeAnthropic.make({ script: () => FakeAnthropic.hang })
      const [service] = yield* provider(fake.baseURL, "2 seconds")
      const calls = [Effect.flip(service.complete(request())), streamFailure(service.stream?.(request()))]
      for (const [i, call] of calls.entries()) {
        const fiber = yield* Effect.fork(call)
        yield* untilServer(fake, (r) => r.length === i + 1)
        yield* untilSleeping
        yield* TestClock.adjust("2 seconds")
        expect(settled(yield* Fiber.join(fiber))).toEqual([
          "ProviderUnavailable",
          undefined,
          undefined,
          undefined,
          undefined
        ])
        yield* fake.awaitIdle
      }
      expect((yield* fake.requests).map((r) => r.outcome)).toEqual(["client-closed", "client-closed"])
    }).pipe(Effect.scoped)
  )
})

describe("AnthropicProvider through LlmClient: what the API says can neither freeze the fleet nor go uncharged", () => {
  it.effect(
    "a 429 asking to wait 99,999,999,999 seconds: that call fails, is not retried, and the gate closes for maxPause",
    () =>
      withFake(
        { script: () => FakeAnthropic.rateLimited({ seconds: 99_999_999_999 }) },
        (fake) =>
          Effect.gen(function* () {
            const error = yield* Effect.flip(LlmClient.complete(request()))
            expect(error).toMatchObject({ _tag: "RateLimited", retryAfterMillis: 99_999_999_999_000 })
            expect((yield* fake.requests).length).toBe(1)
            expect((yield* Concurrency.snapshot).pausedUntil).toBe(60_000)
          }),
        {},
        { maxAttempts: 3 }
      )
  )

  it.effect(
    "sent and never answered: each of three attempts is charged its upper bound; the server got all three",
    () =>
      withFake(
        { script: () => FakeAnthropic.hang },
        (fake) =>
          Effect.gen(function* () {
            const estimate = yield* Pricing.estimate(request())
            const fiber = yield* Effect.fork(Effect.flip(LlmClient.complete(request())))
            // Time moves in steps, with the I/O between them: timeouts, then backoffs, then the next request.
            for (let step = 0; step < 200 && fiber.unsafePoll() === null; step++) {
              yield* io
              yield* TestClock.adjust("250 millis")
            }
            expect(yield* Fiber.join(fiber)).toMatchObject({ _tag: "ProviderUnavailable" })
            yield* fake.awaitIdle
            expect((yield* fake.requests).map((r) => r.outcome)).toEqual([
              "client-closed",
              "client-closed",
              "client-closed"
            ])
            const budget = yield* Budget.snapshot
            expect(budget.spentUsd).toBeCloseTo(3 * estimate, 12)
            expect(budget.reservedUsd).toBe(0)
          }),
        {},
        { maxAttempts: 3 },
        { timeout: "2 seconds" }
      )
  )

  it.effect("connection refused: retried, and nothing charged — the request never reached the provider", () =>
    Effect.gen(function* () {
      const gone = yield* Effect.scoped(FakeAnthropic.make())
      const provider = AnthropicProvider.layer({ apiKey: Redacted.make(gone.apiKey), baseURL: gone.baseURL })
      const call = Effect.gen(function* () {
        const fiber = yield* Effect.fork(Effect.flip(LlmClient.complete(request())))
        for (let step = 0; step < 200 && fiber.unsafePoll() === null; step++) {
          yield* io
          yield* TestClock.adjust("250 millis")
        }
        expect(yield* Fiber.join(fiber)).toMatchObject({ _tag: "ProviderUnavailable", sent: false })
        expect(yield* Budget.snapshot).toMatchObject({ spentUsd: 0, reservedUsd: 0 })
      })
      yield* Effect.provide(call, clientOver(provider, {}, { maxAttempts: 3 }))
    })
  )
})
