import { describe, expect, it } from "@effect/vitest"
import { ProviderHttp } from "@fleetguard/core"
import { FastCheck as fc } from "effect"

const { exhaustedUntil, fetchFailure, retryAfterMillis } = ProviderHttp
type HeaderLookup = ProviderHttp.HeaderLookup

const headers = (entries: Record<string, string>) => new Headers(entries)
const now = Date.UTC(2026, 10, 28, 12, 0, 0)

describe("retry-after, in its three forms", () => {
  it.prop(
    "retry-after-ms wins over retry-after",
    { ms: fc.nat({ max: 3_600_000 }), s: fc.nat({ max: 3600 }) },
    ({ ms, s }) => {
      expect(retryAfterMillis(headers({ "retry-after-ms": String(ms), "retry-after": String(s) }), now)).toBe(ms)
    }
  )

  it.prop("retry-after in seconds", { s: fc.nat({ max: 86_400 }) }, ({ s }) => {
    expect(retryAfterMillis(headers({ "retry-after": String(s) }), now)).toBe(s * 1000)
  })

  it.prop(
    "retry-after as an HTTP date, relative to now and never negative",
    { s: fc.integer({ min: -600, max: 86_400 }) },
    ({ s }) => {
      const date = new Date(now + s * 1000).toUTCString()
      expect(retryAfterMillis(headers({ "retry-after": date }), now)).toBe(Math.max(0, s * 1000))
    }
  )

  const nonsense = [
    "soon",
    "-5",
    "-1.5",
    "7",
    "NaN",
    "Infinity",
    "-Infinity",
    "1e3",
    "0x10",
    "9".repeat(400),
    "abc 12",
    ""
  ]

  it("nothing, or nonsense (negative, infinite, unparseable), says nothing", () => {
    expect(retryAfterMillis(headers({}), now)).toBeUndefined()
    expect(retryAfterMillis(undefined, now)).toBeUndefined()
    for (const value of nonsense.filter((v) => v !== "7")) {
      expect(retryAfterMillis(headers({ "retry-after": value }), now)).toBeUndefined()
      // Nonsense in retry-after-ms counts as absent: retry-after decides.
      expect(retryAfterMillis(headers({ "retry-after-ms": value, "retry-after": "2" }), now)).toBe(2000)
    }
  })

  it("a huge but finite wait is returned as it was asked for: capping it is the caller's choice", () => {
    expect(retryAfterMillis(headers({ "retry-after": "99999999999" }), now)).toBe(99_999_999_999_000)
    expect(retryAfterMillis(headers({ "retry-after-ms": "99999999999" }), now)).toBe(99_999_999_999)
    expect(retryAfterMillis(headers({ "retry-after": "Fri, 31 Dec 9999 23:59:59 GMT" }), now)).toBe(
      Date.UTC(9999, 11, 31, 23, 59, 59) - now
    )
  })

  it.prop(
    "whatever the headers say, the wait is undefined or a finite number of milliseconds, never negative",
    {
      ms: fc.option(fc.oneof(fc.string(), fc.stringMatching(/^-?\d{1,400}(\.\d+)?$/), fc.constantFrom(...nonsense))),
      after: fc.option(
        fc.oneof(
          fc.string(),
          fc.stringMatching(/^-?\d{1,400}$/),
          fc.date({ noInvalidDate: true }).map((d) => d.toUTCString()),
          fc.constantFrom(...nonsense)
        )
      )
    },
    ({ ms, after }) => {
      const lookup: HeaderLookup = {
        get: (name) => (name === "retry-after-ms" ? ms : name === "retry-after" ? after : null)
      }
      const wait = retryAfterMillis(lookup, now)
      if (wait !== undefined) {
        expect(Number.isFinite(wait)).toBe(true)
        expect(wait).toBeGreaterThanOrEqual(0)
      }
    }
  )
})

describe("rate-limit headers", () => {
  const reset = (ms: number) => new Date(ms).toISOString()
  it("a limit at zero remaining closes until its reset; the latest reset of those used up wins", () => {
    expect(
      exhaustedUntil(
        headers({
          "anthropic-ratelimit-requests-remaining": "0",
          "anthropic-ratelimit-requests-reset": reset(now + 2000),
          "anthropic-ratelimit-tokens-remaining": "0",
          "anthropic-ratelimit-tokens-reset": reset(now + 5000),
          "anthropic-ratelimit-output-tokens-remaining": "10",
          "anthropic-ratelimit-output-tokens-reset": reset(now + 9000)
        })
      )
    ).toBe(now + 5000)
  })
  it("room left, or no headers, closes nothing", () => {
    expect(
      exhaustedUntil(
        headers({
          "anthropic-ratelimit-requests-remaining": "3",
          "anthropic-ratelimit-requests-reset": reset(now + 2000)
        })
      )
    ).toBeUndefined()
    expect(exhaustedUntil(headers({}))).toBeUndefined()
  })
  it("a reset that does not parse, or no date can hold, is ignored; a far but real one is kept", () => {
    for (const bad of ["soon", "0", "-5", "", "99999-01-01T00:00:00Z", "Infinity", "NaN"])
      expect(
        exhaustedUntil(
          headers({ "anthropic-ratelimit-requests-remaining": "0", "anthropic-ratelimit-requests-reset": bad })
        )
      ).toBeUndefined()
    expect(
      exhaustedUntil(
        headers({
          "anthropic-ratelimit-requests-remaining": "0",
          "anthropic-ratelimit-requests-reset": "9999-12-31T00:00:00Z"
        })
      )
    ).toBe(Date.UTC(9999, 11, 31))
  })
  it("a remaining count that is not a number says nothing is used up", () => {
    expect(
      exhaustedUntil(
        headers({
          "anthropic-ratelimit-requests-remaining": "plenty",
          "anthropic-ratelimit-requests-reset": reset(now + 2000)
        })
      )
    ).toBeUndefined()
  })
  it.prop(
    "whatever the rate-limit headers say, the reset is undefined or a real date",
    { remaining: fc.option(fc.string()), reset: fc.option(fc.oneof(fc.string(), fc.constant("9999-12-31T00:00:00Z"))) },
    ({ remaining, reset }) => {
      const lookup: HeaderLookup = {
        get: (name) => (name.endsWith("-remaining") ? remaining : name.endsWith("-reset") ? reset : null)
      }
      const until = exhaustedUntil(lookup)
      if (until !== undefined) expect(Number.isFinite(until)).toBe(true)
    }
  )
})

describe("what fetch threw says how far the request got", () => {
  /** An error as Node's network layer throws it, wrapped as undici's fetch and a client library wrap it. */
  const wrapped = (fields: { readonly code?: string; readonly syscall?: string }) => ({
    _tag: "RequestError",
    cause: new TypeError("fetch failed", { cause: Object.assign(new Error(fields.code ?? "bad port"), fields) })
  })

  it("never connected: not sent; lost once made: sent, no answer; refused in process: a client error", () => {
    expect(fetchFailure(wrapped({ code: "ECONNREFUSED", syscall: "connect" }))).toMatchObject({
      _tag: "ProviderUnavailable",
      sent: false
    })
    const lost = fetchFailure(wrapped({ code: "UND_ERR_SOCKET" }))
    expect(lost).toMatchObject({ _tag: "ProviderUnavailable", message: expect.stringContaining("lost") })
    expect("sent" in lost ? lost.sent : undefined).toBeUndefined()
    expect(fetchFailure(wrapped({}))).toMatchObject({ _tag: "InvalidRequest", errorType: "client_error" })
  })

  it("the text kept is scrubbed", () => {
    const failure = new TypeError("fetch failed", { cause: new Error("sk-secret in a message") })
    expect(fetchFailure(failure, (text) => text.replace("sk-secret", "[redacted]")).message).toBe(
      "fetch refused the request: [redacted] in a message"
    )
  })
})
