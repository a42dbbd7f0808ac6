import type Anthropic from "@anthropic-ai/sdk"
import {
  APIConnectionError,
  APIError,
  APIUserAbortError,
  AuthenticationError,
  BadRequestError,
  InternalServerError,
  NotFoundError,
  OverloadedError,
  RateLimitError,
  ServiceUnavailableError
} from "@anthropic-ai/sdk"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Duration, Effect, Fiber, TestClock } from "effect"
import { FakeAnthropic } from "../src/index.js"
import { attempt, client, type Fake, failure } from "./sdk.js"

const params = {
  model: "claude-haiku-4-5",
  max_tokens: 100,
  system: "Be brief.",
  messages: [{ role: "user" as const, content: [{ type: "text" as const, text: "Héllo ✓ from a fleet" }] }]
}
// "Be brief." is 9 bytes, "Héllo ✓ from a fleet" 23: 32 bytes, 8 tokens.
const inputTokens = 8

/** Waits on real I/O (the SDK and the server talk over a socket) until `condition` holds. */
const waitFor = (condition: Effect.Effect<boolean>, tries = 2000): Effect.Effect<void> =>
  Effect.flatMap(condition, (ok) =>
    ok
      ? Effect.void
      : tries === 0
        ? Effect.dieMessage("waitFor: condition never held")
        : Effect.zipRight(
            Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, 1))),
            waitFor(condition, tries - 1)
          )
  )
const sleeping = (n: number) => Effect.map(TestClock.sleeps(), (sleeps) => sleeps.length === n)
const received = (fake: Fake, n: number) => Effect.map(fake.requests, (requests) => requests.length === n)

/** Stream events by type, deltas as their text; the error that ended the stream, if any. */
const drain = async (stream: AsyncIterable<Anthropic.MessageStreamEvent>) => {
  const events: Array<string> = []
  try {
    for await (const event of stream) {
      events.push(
        event.type === "content_block_delta" && event.delta.type === "text_delta" ? event.delta.text : event.type
      )
    }
    return { events, error: undefined }
  } catch (error) {
    return { events, error }
  }
}

const times = (n: number) => Array.from({ length: n }, (_, i) => i)

describe("FakeAnthropic", () => {
  it.scoped("answers a Message with deterministic text and usage, request-id and rate-limit headers", () =>
    Effect.gen(function* () {
      const fake = yield* FakeAnthropic.make({ outputTokens: 5 })
      const sdk = client(fake)
      const { data, response, request_id } = yield* attempt(() => sdk.messages.create(params).withResponse())
      expect(data.id).toBe("msg_fake_0")
      expect(data.model).toBe("claude-haiku-4-5")
      expect(data.content).toEqual([{ type: "text", text: "lorem ipsum dolor sit amet", citations: null }])
      expect(data.stop_reason).toBe("end_turn")
      expect(data.usage).toMatchObject({
        input_tokens: inputTokens,
        output_tokens: 5,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
        service_tier: "standard"
      })
      expect(request_id).toBe("req_fake_0")
      expect(response.headers.get("request-id")).toBe("req_fake_0")
      expect(response.headers.get("anthropic-ratelimit-requests-limit")).toBe("4000")
      // No limits configured: reported, never enforced, so never counted down towards a wait.
      expect(response.headers.get("anthropic-ratelimit-requests-remaining")).toBe("4000")
      expect(response.headers.get("anthropic-ratelimit-tokens-remaining")).toBe("400000")
      // TestClock starts at 0: the window ends at one minute.
      expect(response.headers.get("anthropic-ratelimit-requests-reset")).toBe(new Date(60_000).toISOString())

      const capped = yield* attempt(() => sdk.messages.create({ ...params, max_tokens: 2 }))
      expect(capped.content).toEqual([{ type: "text", text: "lorem ipsum", citations: null }])
      expect(capped.stop_reason).toBe("max_tokens")
      expect(capped.usage.output_tokens).toBe(2)

      const requests = yield* fake.requests
      expect(requests).toHaveLength(2)
      expect(requests[0]).toMatchObject({
        index: 0,
        at: 0,
        method: "POST",
        path: "/v1/messages",
        body: params,
        fault: null,
        status: 200,
        outcome: "answered",
        endedAt: 0
      })
      expect(requests[0]?.headers["anthropic-version"]).toBeDefined()
    })
  )

  it.scoped("streams the same text as deltas, in the API's event order, with the same final usage", () =>
    Effect.gen(function* () {
      const fake = yield* FakeAnthropic.make({ outputTokens: 4 })
      const sdk = client(fake)
      const plain = yield* attempt(() => sdk.messages.create(params))

      const { events, error } = yield* attempt(async () =>
        drain(await sdk.messages.create({ ...params, stream: true }))
      )
      expect(error).toBeUndefined()
      expect(events).toEqual([
        "message_start",
        "content_block_start",
        "lorem",
        " ipsum",
        " dolor",
        " sit",
        "content_block_stop",
        "message_delta",
        "message_stop"
      ])

      const final = yield* attempt(() => sdk.messages.stream(params).finalMessage())
      expect(final.content).toEqual(plain.content)
      expect(final.usage).toEqual(plain.usage)
      expect(final.stop_reason).toBe("end_turn")
      const requests = yield* fake.requests
      expect(requests.map((r) => [r.outcome, r.status])).toEqual([
        ["answered", 200],
        ["answered", 200],
        ["answered", 200]
      ])
    })
  )

  it.scoped("counts tokens like the usage it reports, and faults never touch count_tokens", () =>
    Effect.gen(function* () {
      const fake = yield* FakeAnthropic.make({ script: () => FakeAnthropic.hang })
      const count = yield* attempt(() =>
        client(fake).messages.countTokens({ model: params.model, system: params.system, messages: params.messages })
      )
      expect(count.input_tokens).toBe(inputTokens)
      const [request] = yield* fake.requests
      expect(request).toMatchObject({ path: "/v1/messages/count_tokens", outcome: "answered", fault: null })
    })
  )

  it.scoped("rejects a wrong key with 401 and never stores a key", () =>
    Effect.gen(function* () {
      const fake = yield* FakeAnthropic.make()
      const wrongKey = "sk-ant-wrong-key-0123456789"
      const error = yield* failure(() => client(fake, wrongKey).messages.create(params))
      expect(error).toBeInstanceOf(AuthenticationError)
      expect((error as AuthenticationError).status).toBe(401)
      expect((error as AuthenticationError).type).toBe("authentication_error")
      yield* attempt(() => client(fake).messages.create(params))

      const requests = yield* fake.requests
      expect(requests.map((r) => [r.fault, r.status])).toEqual([
        ["Unauthorized", 401],
        [null, 200]
      ])
      expect(requests[0]?.headers.authorization).toBe("[redacted]")
      const stored = JSON.stringify(requests)
      expect(stored).not.toContain(wrongKey)
      expect(stored).not.toContain(FakeAnthropic.defaultApiKey)
    })
  )

  it.scoped("answers a request that forces a tool with one tool_use block of that tool, with the input given", () =>
    Effect.gen(function* () {
      const fake = yield* FakeAnthropic.make({ outputTokens: 3, toolInput: { city: "Oslo" } })
      const forced = yield* attempt(() =>
        client(fake).messages.create({
          ...params,
          tools: [{ name: "weather", input_schema: { type: "object" } }],
          tool_choice: { type: "tool", name: "weather" }
        })
      )
      expect(forced.content).toEqual([
        {
          type: "tool_use",
          id: "toolu_msg_fake_0",
          name: "weather",
          input: { city: "Oslo" },
          caller: { type: "direct" }
        }
      ])
      expect(forced.stop_reason).toBe("tool_use")
      // The tool's name and schema ("weather", {"type":"object"}: 24 bytes) with the 32 of the prompt are 14
      // tokens, and a forced tool adds the API's tool-use system prompt of 313.
      expect(forced.usage).toMatchObject({ input_tokens: 14 + 313, output_tokens: 3 })
      // A tool offered but not forced is not used: the reply is text.
      const offered = yield* attempt(() =>
        client(fake).messages.create({ ...params, tools: [{ name: "weather", input_schema: { type: "object" } }] })
      )
      expect(offered.content).toEqual([{ type: "text", text: "lorem ipsum dolor", citations: null }])
    })
  )

  it.scoped("answers a malformed request 400 naming the field", () =>
    Effect.gen(function* () {
      const fake = yield* FakeAnthropic.make()
      const { max_tokens: _, ...noMaxTokens } = params
      const error = yield* failure(() =>
        client(fake).messages.create(noMaxTokens as unknown as Anthropic.MessageCreateParamsNonStreaming)
      )
      expect(error).toBeInstanceOf(BadRequestError)
      expect((error as BadRequestError).apiMessage).toContain("max_tokens")
    })
  )

  it.scoped("turns each error fault into the SDK's error for its status", () =>
    Effect.gen(function* () {
      const date = new Date(Date.UTC(2030, 0, 1, 12, 0, 0))
      const fake = yield* FakeAnthropic.make({
        script: FakeAnthropic.byIndex({
          0: FakeAnthropic.rateLimited({ seconds: 7 }),
          1: FakeAnthropic.rateLimited({ millis: 1500 }),
          2: FakeAnthropic.rateLimited({ date }),
          3: FakeAnthropic.overloaded,
          4: FakeAnthropic.status(400, "invalid_request_error", "prompt is too long"),
          5: FakeAnthropic.status(503, "api_error"),
          6: FakeAnthropic.status(500, "api_error"),
          7: FakeAnthropic.rateLimited({ seconds: 1 }, { "retry-after": "-5", "x-extra": "yes" })
        })
      })
      const sdk = client(fake)
      const errors: Array<unknown> = []
      for (const _ of times(8)) errors.push(yield* failure(() => sdk.messages.create(params)))
      const [seconds, millis, byDate, overloaded, badRequest, unavailable, internal, extra] = errors as Array<APIError>

      expect(seconds).toBeInstanceOf(RateLimitError)
      expect(seconds?.status).toBe(429)
      expect(seconds?.type).toBe("rate_limit_error")
      expect(seconds?.requestID).toBe("req_fake_0")
      expect(seconds?.headers?.get("retry-after")).toBe("7")
      expect(millis?.headers?.get("retry-after-ms")).toBe("1500")
      expect(millis?.headers?.get("retry-after")).toBeNull()
      expect(byDate?.headers?.get("retry-after")).toBe("Tue, 01 Jan 2030 12:00:00 GMT")
      expect(extra).toBeInstanceOf(RateLimitError)
      expect(extra?.headers?.get("retry-after")).toBe("-5")
      expect(extra?.headers?.get("x-extra")).toBe("yes")

      expect(overloaded).toBeInstanceOf(OverloadedError)
      expect(overloaded).toBeInstanceOf(InternalServerError)
      expect(overloaded?.status).toBe(529)
      expect(overloaded?.type).toBe("overloaded_error")

      expect(badRequest).toBeInstanceOf(BadRequestError)
      expect(badRequest?.type).toBe("invalid_request_error")
      expect(badRequest?.apiMessage).toBe("prompt is too long")
      expect(badRequest?.error).toEqual({
        type: "error",
        error: { type: "invalid_request_error", message: "prompt is too long" },
        request_id: "req_fake_4"
      })
      expect(unavailable).toBeInstanceOf(ServiceUnavailableError)
      expect(internal).toBeInstanceOf(InternalServerError)
      expect(internal?.status).toBe(500)

      const requests = yield* fake.requests
      expect(requests.map((r) => [r.index, r.fault, r.status])).toEqual([
        [0, "RateLimited", 429],
        [1, "RateLimited", 429],
        [2, "RateLimited", 429],
        [3, "Overloaded", 529],
        [4, "Status", 400],
        [5, "Status", 503],
        [6, "Status", 500],
        [7, "RateLimited", 429]
      ])
    })
  )

  it.scoped("breaks the body on Malformed and the shape on BadShape (the SDK does not check shapes)", () =>
    Effect.gen(function* () {
      const fake = yield* FakeAnthropic.make({
        script: FakeAnthropic.sequence(
          FakeAnthropic.byIndex({ 0: FakeAnthropic.malformed, 1: FakeAnthropic.malformed }),
          FakeAnthropic.during(0, Number.POSITIVE_INFINITY, FakeAnthropic.badShape)
        )
      })
      const sdk = client(fake)
      expect(yield* failure(() => sdk.messages.create(params))).toBeInstanceOf(SyntaxError)
      const streamed = yield* attempt(async () => drain(await sdk.messages.create({ ...params, stream: true })))
      expect(streamed.error).toBeInstanceOf(SyntaxError)
      expect(streamed.events).toEqual([])

      const bad: unknown = yield* attempt(() => sdk.messages.create(params))
      expect(bad).toMatchObject({ type: "message", usage: "lots" })
      expect(bad).not.toHaveProperty("content")
      const requests = yield* fake.requests
      expect(requests.map((r) => [r.fault, r.status, r.outcome])).toEqual([
        ["Malformed", 200, "answered"],
        ["Malformed", 200, "answered"],
        ["BadShape", 200, "answered"]
      ])
    })
  )

  it.scoped("drops the connection after N deltas, or before any answer when not streaming", () =>
    Effect.gen(function* () {
      const fake = yield* FakeAnthropic.make({ script: () => FakeAnthropic.dropMidStream(2) })
      const sdk = client(fake)
      const { events, error } = yield* attempt(async () =>
        drain(await sdk.messages.create({ ...params, stream: true }))
      )
      expect(events).toEqual(["message_start", "content_block_start", "lorem", " ipsum"])
      expect(error).toBeInstanceOf(Error)
      expect(error).not.toBeInstanceOf(APIError)

      expect(yield* failure(() => sdk.messages.create(params))).toBeInstanceOf(APIConnectionError)
      yield* fake.awaitIdle
      const requests = yield* fake.requests
      expect(requests.map((r) => [r.outcome, r.status])).toEqual([
        ["dropped", 200],
        ["dropped", null]
      ])
    })
  )

  it.scoped("sends an error event mid-stream, which the SDK throws as an APIError without status", () =>
    Effect.gen(function* () {
      const fake = yield* FakeAnthropic.make({ script: () => FakeAnthropic.errorEvent(1) })
      const sdk = client(fake)
      const { events, error } = yield* attempt(async () =>
        drain(await sdk.messages.create({ ...params, stream: true }))
      )
      expect(events).toEqual(["message_start", "content_block_start", "lorem"])
      expect(error).toBeInstanceOf(APIError)
      expect((error as APIError).status).toBeUndefined()
      expect((error as APIError).type).toBe("overloaded_error")
      const [request] = yield* fake.requests
      expect(request).toMatchObject({ fault: "ErrorEvent", status: 200, outcome: "answered" })
    })
  )

  it.scoped("records a hanging request the client aborts as client-closed", () =>
    Effect.gen(function* () {
      const fake = yield* FakeAnthropic.make({ script: () => FakeAnthropic.hang })
      const controller = new AbortController()
      const call = yield* Effect.fork(
        failure(() => client(fake).messages.create(params, { signal: controller.signal }))
      )
      yield* waitFor(received(fake, 1))
      const [pending] = yield* fake.requests
      expect(pending?.outcome).toBe("in-flight")

      controller.abort()
      expect(yield* Fiber.join(call)).toBeInstanceOf(APIUserAbortError)
      yield* fake.awaitIdle
      expect(pending).toMatchObject({ fault: "Hang", status: null, outcome: "client-closed", endedAt: 0 })
    })
  )

  it.scoped("runs latency and delta intervals on the TestClock of the fiber that built it", () =>
    Effect.gen(function* () {
      const fake = yield* FakeAnthropic.make({ latency: "10 seconds", deltaInterval: "1 second", outputTokens: 3 })
      const sdk = client(fake)
      const call = yield* Effect.fork(
        attempt(async () => drain(await sdk.messages.create({ ...params, stream: true })))
      )
      yield* waitFor(sleeping(1))
      const [request] = yield* fake.requests
      expect(request).toMatchObject({ at: 0, outcome: "in-flight", status: null })

      yield* TestClock.adjust("10 seconds")
      for (const _ of times(2)) {
        yield* waitFor(sleeping(1))
        expect(request?.status).toBe(200)
        yield* TestClock.adjust("1 second")
      }
      const { events, error } = yield* Fiber.join(call)
      expect(error).toBeUndefined()
      expect(events.slice(2, 5)).toEqual(["lorem", " ipsum", " dolor"])
      yield* fake.awaitIdle
      expect(request).toMatchObject({ outcome: "answered", endedAt: 12_000 })
    })
  )

  it.scoped("stops streaming when the client goes away mid-stream", () =>
    Effect.gen(function* () {
      const fake = yield* FakeAnthropic.make({ deltaInterval: "1 second", outputTokens: 10 })
      const stream = yield* attempt(() => client(fake).messages.create({ ...params, stream: true }))
      yield* waitFor(sleeping(1))
      stream.controller.abort()
      yield* fake.awaitIdle
      // Had the handler not been interrupted, the next delta would go out and the one after it sleep.
      yield* TestClock.adjust("1 second")
      yield* Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, 20)))
      expect(Chunk.toReadonlyArray(yield* TestClock.sleeps())).toEqual([])
      const [request] = yield* fake.requests
      expect(request).toMatchObject({ status: 200, outcome: "client-closed" })
    })
  )

  it.scoped(
    "limits requests per window: the last one reports 0 remaining, the next gets 429 until the window ends",
    () =>
      Effect.gen(function* () {
        const fake = yield* FakeAnthropic.make({ limits: { requestsPerMinute: 2 } })
        const sdk = client(fake)
        const remaining = (response: Response) => response.headers.get("anthropic-ratelimit-requests-remaining")
        expect(remaining((yield* attempt(() => sdk.messages.create(params).withResponse())).response)).toBe("1")
        expect(remaining((yield* attempt(() => sdk.messages.create(params).withResponse())).response)).toBe("0")

        const limited = (yield* failure(() => sdk.messages.create(params))) as RateLimitError
        expect(limited).toBeInstanceOf(RateLimitError)
        expect(limited.headers.get("retry-after")).toBe("60")
        expect(limited.headers.get("anthropic-ratelimit-requests-remaining")).toBe("0")
        yield* TestClock.adjust("59500 millis")
        const still = (yield* failure(() => sdk.messages.create(params))) as RateLimitError
        expect(still.headers.get("retry-after")).toBe("1")

        yield* TestClock.adjust("500 millis")
        const next = yield* attempt(() => sdk.messages.create(params).withResponse())
        expect(remaining(next.response)).toBe("1")
        expect(next.response.headers.get("anthropic-ratelimit-requests-reset")).toBe(new Date(120_000).toISOString())
        const requests = yield* fake.requests
        expect(requests.map((r) => [r.fault, r.status])).toEqual([
          [null, 200],
          [null, 200],
          ["RateLimitWindow", 429],
          ["RateLimitWindow", 429],
          [null, 200]
        ])
      })
  )

  it.scoped("limits tokens per window: a request that does not fit in what is left gets 429", () =>
    Effect.gen(function* () {
      const perRequest = inputTokens + 4
      const fake = yield* FakeAnthropic.make({
        outputTokens: 4,
        limits: { tokensPerMinute: 3 * perRequest + 1, window: Duration.seconds(10) }
      })
      const sdk = client(fake)
      const left: Array<string | null> = []
      for (const _ of times(3)) {
        const { response } = yield* attempt(() => sdk.messages.create(params).withResponse())
        left.push(response.headers.get("anthropic-ratelimit-tokens-remaining"))
      }
      expect(left).toEqual([String(2 * perRequest + 1), String(perRequest + 1), "1"])
      const limited = (yield* failure(() => sdk.messages.create(params))) as RateLimitError
      expect(limited).toBeInstanceOf(RateLimitError)
      expect(limited.headers.get("retry-after")).toBe("10")
      // Requests are reported (4000 a window) but neither enforced nor counted when only tokens are limited.
      expect(limited.headers.get("anthropic-ratelimit-requests-remaining")).toBe("4000")
      yield* TestClock.adjust("10 seconds")
      yield* attempt(() => sdk.messages.create(params))
    })
  )

  it.scoped("serves over layer too, and answers unknown paths 404", () =>
    Effect.gen(function* () {
      const fake = yield* FakeAnthropic.FakeAnthropic
      const error = yield* failure(() => client(fake).models.list())
      expect(error).toBeInstanceOf(NotFoundError)
      const [request] = yield* fake.requests
      expect(request).toMatchObject({ method: "GET", path: "/v1/models", status: 404, outcome: "answered" })
    }).pipe(Effect.provide(FakeAnthropic.layer()))
  )
})
