import { AiError } from "@effect/ai"
import { describe, expect, it } from "@effect/vitest"
import {
  AuthenticationFailed,
  BudgetExceeded,
  CircuitOpen,
  DepthLimitExceeded,
  GuardUnavailable,
  InvalidAmount,
  InvalidRequest,
  Overloaded,
  ProviderUnavailable,
  RateLimited,
  UnknownModel
} from "@fleetguard/core"
import { FastCheck as fc, Option } from "effect"
import { beforeSending, fromErrorPart, guardError, providerErrorOf, toAiError } from "../src/internal/errors.js"

const now = Date.UTC(2026, 10, 30, 12, 0, 0)
const request = {
  method: "POST",
  url: "http://127.0.0.1/v1/messages",
  urlParams: [],
  hash: Option.none(),
  headers: {}
} as const

const answered = (
  status: number,
  fields: {
    readonly body?: unknown
    readonly headers?: Record<string, string>
    readonly reason?: "StatusCode" | "Decode"
  } = {}
) =>
  new AiError.HttpResponseError({
    module: "AnthropicClient",
    method: "createMessage",
    request,
    response: { status, headers: fields.headers ?? {} },
    reason: fields.reason ?? "StatusCode",
    ...(fields.body === undefined ? {} : { body: JSON.stringify(fields.body, null, 2) })
  })

const apiError = (type: string, message = `${type} happened`) => ({
  type: "error",
  error: { type, message },
  request_id: "req_body"
})

describe("what the provider answered, as fleetguard's errors", () => {
  it("each status by its status and body: the API's message, the request id, the retry-after", () => {
    expect(
      providerErrorOf(
        answered(429, { body: apiError("rate_limit_error"), headers: { "retry-after": "3", "request-id": "req_1" } }),
        now
      )
    ).toMatchObject({
      _tag: "RateLimited",
      retryAfterMillis: 3000,
      requestId: "req_1",
      message: "rate_limit_error happened"
    })
    expect(providerErrorOf(answered(529, { body: apiError("overloaded_error") }), now)).toBeInstanceOf(Overloaded)
    for (const status of [500, 502, 503, 408])
      expect(providerErrorOf(answered(status, { body: apiError("api_error") }), now)).toMatchObject({
        _tag: "ProviderUnavailable",
        status,
        requestId: "req_body"
      })
    for (const status of [401, 403])
      expect(providerErrorOf(answered(status), now)).toMatchObject({ _tag: "AuthenticationFailed", status })
    expect(
      providerErrorOf(answered(400, { body: apiError("invalid_request_error", "max_tokens: too large") }), now)
    ).toMatchObject({
      _tag: "InvalidRequest",
      status: 400,
      errorType: "invalid_request_error",
      message: "max_tokens: too large"
    })
  })

  it.prop(
    "a 429's retry-after, in seconds or milliseconds, is what the gate closes for",
    { seconds: fc.nat({ max: 86_400 }), millis: fc.option(fc.nat({ max: 3_600_000 }), { nil: undefined }) },
    ({ seconds, millis }) => {
      const headers = {
        "retry-after": String(seconds),
        ...(millis === undefined ? {} : { "retry-after-ms": String(millis) })
      }
      const error = providerErrorOf(answered(429, { headers }), now)
      expect(error).toBeInstanceOf(RateLimited)
      expect((error as RateLimited).retryAfterMillis).toBe(millis ?? seconds * 1000)
    }
  )

  it("a body that is not the API's error body: the status alone decides", () => {
    const error = providerErrorOf(answered(503, { body: "<html>bad gateway</html>" }), now)
    expect(error).toMatchObject({ _tag: "ProviderUnavailable", status: 503, message: "the provider answered 503" })
  })

  it("a 2xx whose body could not be read, or did not fit the provider's schema: answered, so billed", () => {
    expect(providerErrorOf(answered(200, { reason: "Decode" }), now)).toMatchObject({
      _tag: "ProviderUnavailable",
      billed: true
    })
    const shape = new AiError.MalformedOutput({
      module: "AnthropicClient",
      method: "createMessage",
      description: "bad"
    })
    expect(providerErrorOf(shape, now)).toMatchObject({ _tag: "ProviderUnavailable", billed: true })
  })

  it("a transport failure by how far it got; a request that could not be built: a client error", () => {
    const failed = (code: string) =>
      new AiError.HttpRequestError({
        module: "AnthropicClient",
        method: "createMessage",
        reason: "Transport",
        request,
        cause: new TypeError("fetch failed", { cause: Object.assign(new Error(code), { code }) })
      })
    expect(providerErrorOf(failed("ECONNREFUSED"), now)).toMatchObject({ _tag: "ProviderUnavailable", sent: false })
    const lost = providerErrorOf(failed("ECONNRESET"), now)
    expect(lost).toBeInstanceOf(ProviderUnavailable)
    expect((lost as ProviderUnavailable).sent).toBeUndefined()
    const unencodable = new AiError.HttpRequestError({ module: "m", method: "x", reason: "Encode", request })
    expect(providerErrorOf(unencodable, now)).toMatchObject({ _tag: "InvalidRequest", errorType: "client_error" })
  })

  it("failures that are not the provider's are none of its errors; a malformed input came before sending", () => {
    const object = new AiError.MalformedOutput({ module: "LanguageModel", method: "generateObject", description: "no" })
    const input = new AiError.MalformedInput({ module: "AnthropicLanguageModel", method: "prepareMessages" })
    for (const error of [object, input, new Error("a tool failed"), "a tool's failure"])
      expect(providerErrorOf(error, now)).toBeUndefined()
    expect(beforeSending(input)).toBe(true)
    expect(beforeSending(object)).toBe(false)
  })

  it("an error part mid-stream: its error type decides", () => {
    expect(fromErrorPart({ type: "overloaded_error", message: "Overloaded" })).toBeInstanceOf(Overloaded)
    expect(fromErrorPart({ type: "rate_limit_error", message: "slow" })).toBeInstanceOf(RateLimited)
    expect(fromErrorPart({ type: "something_new" })).toBeInstanceOf(ProviderUnavailable)
    expect(fromErrorPart("garbage")).toBeInstanceOf(ProviderUnavailable)
  })
})

describe("fleetguard's errors, going back to a caller of @effect/ai", () => {
  const errors = [
    new BudgetExceeded({ scope: "fleet", agentId: "a", requestedUsd: 1, remainingUsd: 0, limitUsd: 1 }),
    new DepthLimitExceeded({ depth: 3, maxDepth: 3 }),
    new CircuitOpen({ interrupted: true }),
    new UnknownModel({ model: "m" }),
    new InvalidAmount({ field: "max_tokens", value: -1, reason: "no" }),
    new GuardUnavailable({ guard: "budget" }),
    new RateLimited({ retryAfterMillis: 1000 }),
    new Overloaded({}),
    new ProviderUnavailable({}),
    new InvalidRequest({}),
    new AuthenticationFailed({})
  ]

  it("each is an AiError whose cause is it, and guardError gives it back, tag and all", () => {
    for (const error of errors) {
      const wrapped = toAiError(error, "generateText")
      expect(AiError.isAiError(wrapped)).toBe(true)
      expect(wrapped).toMatchObject({ _tag: "UnknownError", module: "GuardedLanguageModel", method: "generateText" })
      expect(wrapped.message).toContain(error.message)
      expect(guardError(wrapped)).toBe(error)
    }
  })

  it("any other error is left as it is", () => {
    const foreign = new AiError.UnknownError({ module: "Elsewhere", method: "x", cause: new Overloaded({}) })
    const plain = new AiError.UnknownError({
      module: "GuardedLanguageModel",
      method: "x",
      cause: "not an error of ours"
    })
    for (const error of [foreign, plain, "text", undefined]) expect(guardError(error)).toBe(error)
  })
})
