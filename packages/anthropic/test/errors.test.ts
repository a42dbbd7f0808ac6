import { AnthropicError, APIConnectionError, APIConnectionTimeoutError, APIError } from "@anthropic-ai/sdk"
import { describe, expect, it } from "@effect/vitest"
import type { ProviderError } from "@fleetguard/core"
import { FastCheck as fc } from "effect"
import { scrubber, toProviderError } from "../src/internal/errors.js"
import { FetchTrace } from "../src/internal/fetchTrace.js"

const headers = (entries: Record<string, string>) => new Headers(entries)
const now = Date.UTC(2026, 10, 28, 12, 0, 0)
const noScrub = (text: string) => text

/** How far a request got: fetch invoked unless said otherwise. */
const trace = (fields: Partial<FetchTrace>) => Object.assign(new FetchTrace(), { invoked: true, ...fields })
const answered = trace({ answered: true })

describe("SDK errors → ProviderError", () => {
  const status = (code: number, type: string, extra: Record<string, string> = {}) =>
    APIError.generate(
      code,
      { type: "error", error: { type, message: `${type} happened` } },
      undefined,
      headers({ "request-id": "req_1", ...extra })
    )

  it("each status maps to its error, keeping the request id and the API's message", () => {
    expect(
      toProviderError(status(429, "rate_limit_error", { "retry-after": "3" }), answered, now, noScrub)
    ).toMatchObject({
      _tag: "RateLimited",
      retryAfterMillis: 3000,
      requestId: "req_1",
      message: "rate_limit_error happened"
    })
    expect(toProviderError(status(529, "overloaded_error"), answered, now, noScrub)._tag).toBe("Overloaded")
    for (const code of [500, 502, 503, 504, 408])
      expect(toProviderError(status(code, "api_error"), answered, now, noScrub)).toMatchObject({
        _tag: "ProviderUnavailable",
        status: code
      })
    for (const code of [401, 403])
      expect(toProviderError(status(code, "authentication_error"), answered, now, noScrub)).toMatchObject({
        _tag: "AuthenticationFailed",
        status: code
      })
    for (const code of [400, 404, 413, 422])
      expect(toProviderError(status(code, "invalid_request_error"), answered, now, noScrub)).toMatchObject({
        _tag: "InvalidRequest",
        status: code,
        errorType: "invalid_request_error"
      })
  })

  it("an error event mid-stream has no status: its type decides", () => {
    const midStream = (type: string) =>
      new APIError(undefined, { type: "error", error: { type, message: "mid" } }, "mid", undefined)
    expect(toProviderError(midStream("overloaded_error"), answered, now, noScrub)._tag).toBe("Overloaded")
    expect(toProviderError(midStream("rate_limit_error"), answered, now, noScrub)._tag).toBe("RateLimited")
    expect(toProviderError(midStream("api_error"), answered, now, noScrub)._tag).toBe("ProviderUnavailable")
    expect(toProviderError(midStream("something_new"), answered, now, noScrub)._tag).toBe("ProviderUnavailable")
  })

  it("the scrubber is applied to every message kept", () => {
    const key = "sk-ant-secret"
    const scrub = scrubber(key)
    const echoed = APIError.generate(
      400,
      { type: "error", error: { type: "invalid_request_error", message: `bad key ${key}` } },
      undefined,
      headers({})
    )
    expect(JSON.stringify(toProviderError(echoed, answered, now, scrub))).not.toContain(key)
    for (const reached of [trace({}), trace({ failure: new TypeError(`fetch failed: ${key}`) }), answered])
      expect(JSON.stringify(toProviderError(new Error(`boom ${key}`), reached, now, scrub))).not.toContain(key)
  })
})

describe("how far the request got decides what a failure costs", () => {
  /** An error as Node's network layer throws it: a code, and a syscall for the operating system's. */
  const system = (code: string, syscall = "connect") =>
    Object.assign(new Error(`${syscall} ${code} 127.0.0.1:9`), { code, syscall })
  /** What undici's fetch rejects with: "fetch failed", the reason as its cause. */
  const fetchFailed = (cause: Error) => new TypeError("fetch failed", { cause })
  /** What settlement reads off an error (an absent field reads as undefined). */
  const settled = (error: ProviderError) => ({
    _tag: error._tag,
    status: "status" in error ? error.status : undefined,
    sent: "sent" in error ? error.sent : undefined,
    billed: "billed" in error ? error.billed : undefined
  })
  /** What the SDK throws for it. */
  const connectionError = (failure: Error) => new APIConnectionError({ cause: failure })

  it("refused before fetch was called (by the SDK, or building a header): a client error, nothing sent", () => {
    for (const error of [
      new AnthropicError("Streaming is required for operations that may take longer than 10 minutes."),
      new TypeError('Headers.append: "Bearer sk\r\nX: 1" is an invalid header value.')
    ])
      expect(toProviderError(error, trace({ invoked: false }), now, noScrub)).toMatchObject({
        _tag: "InvalidRequest",
        errorType: "client_error"
      })
  })

  it("fetch refused it in process (bad port, a ByteString, a URL): a client error", () => {
    for (const failure of [
      fetchFailed(new Error("bad port")),
      new TypeError("Cannot convert argument to a ByteString because the character at index 7 has a value of 8364"),
      Object.assign(new TypeError("Invalid URL"), { code: "ERR_INVALID_URL" }),
      fetchFailed(Object.assign(new Error("invalid onRequestStart method"), { code: "UND_ERR_INVALID_ARG" }))
    ])
      expect(toProviderError(connectionError(failure), trace({ failure }), now, noScrub)).toMatchObject({
        _tag: "InvalidRequest",
        errorType: "client_error"
      })
  })

  it.prop(
    "a connection never made, wherever its code sits in the cause chain: not sent",
    {
      code: fc.constantFrom(
        "ECONNREFUSED",
        "ENOTFOUND",
        "EAI_AGAIN",
        "EHOSTUNREACH",
        "ENETUNREACH",
        "UND_ERR_CONNECT_TIMEOUT"
      ),
      depth: fc.nat({ max: 5 })
    },
    ({ code, depth }) => {
      let failure: Error = system(code)
      for (let i = 0; i < depth; i++) failure = fetchFailed(failure)
      const error = toProviderError(connectionError(failure), trace({ failure }), now, noScrub)
      expect(settled(error)).toEqual({ _tag: "ProviderUnavailable", status: undefined, sent: false, billed: undefined })
      expect(error.message).toContain(code)
    }
  )

  it("a connection lost once made, or the SDK's timeout: sent, no answer (no status, not billed)", () => {
    const lost = [
      fetchFailed(system("ECONNRESET", "read")),
      fetchFailed(Object.assign(new Error("other side closed"), { code: "UND_ERR_SOCKET" })),
      fetchFailed(Object.assign(new Error("Headers Timeout Error"), { code: "UND_ERR_HEADERS_TIMEOUT" })),
      // An error of the operating system that is not known to come before connecting.
      fetchFailed(system("EWHATEVER", "write"))
    ]
    for (const failure of lost)
      expect(settled(toProviderError(connectionError(failure), trace({ failure }), now, noScrub))).toEqual({
        _tag: "ProviderUnavailable",
        status: undefined,
        sent: undefined,
        billed: undefined
      })
    const aborted = new DOMException("This operation was aborted", "AbortError")
    const timedOut = toProviderError(new APIConnectionTimeoutError(), trace({ failure: aborted }), now, noScrub)
    expect(timedOut.message).toBe("the request timed out")
    expect(settled(timedOut)).toEqual({
      _tag: "ProviderUnavailable",
      status: undefined,
      sent: undefined,
      billed: undefined
    })
  })

  it("answered, but the body could not be read (malformed, or cut): billed", () => {
    const cut = new TypeError("terminated", {
      cause: Object.assign(new Error("other side closed"), { code: "UND_ERR_SOCKET" })
    })
    for (const error of [new SyntaxError("Unexpected end of JSON input"), cut])
      expect(toProviderError(error, answered, now, noScrub)).toMatchObject({
        _tag: "ProviderUnavailable",
        billed: true,
        message: `malformed response: ${error.message}`
      })
  })
})

describe("the key scrubber cuts whole tokens only", () => {
  it("a short key leaves ordinary words intact", () => {
    const scrub = scrubber("x")
    expect(scrub("invalid x-api-key")).toBe("invalid x-api-key")
    expect(scrub("box, x_1, -x, x9")).toBe("box, x_1, -x, x9")
    expect(scrub("the key x was refused: x")).toBe("the key [redacted] was refused: [redacted]")
  })

  it("characters RegExp gives a meaning to are taken literally", () => {
    expect(scrubber("a.b+c")("a.b+c and axb+c and a.bbc")).toBe("[redacted] and axb+c and a.bbc")
  })

  it.prop(
    "a key of visible ASCII is cut wherever it stands alone: after Bearer, between = and &, before a full stop",
    // At least 24 characters: no longer than any run of visible characters the text has of its own.
    { key: fc.stringMatching(/^[!-~]{24,60}$/) },
    ({ key }) => {
      const scrubbed = scrubber(key)(
        `Authorization: Bearer ${key}\nGET /?key=${key}&x=1\n"${key}" was refused: ${key}.`
      )
      expect(scrubbed.split("[redacted]")).toHaveLength(5)
      expect(scrubbed).not.toContain(key)
    }
  )
})
