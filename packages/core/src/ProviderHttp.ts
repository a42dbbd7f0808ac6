/**
 * What an HTTP provider's answer says, read one way by every provider built on fleetguard (the
 * Anthropic provider, `@fleetguard/effect-ai`, one of your own): how long a 429 asked to wait, when
 * a rate limit that is used up resets, how far a request got when fetch failed — which decides
 * whether it is charged — and which `ProviderError` an error answer is (by its status, or mid-stream
 * by the Messages API's error type).
 *
 * @module
 * @since 0.1.0
 */
import {
  AuthenticationFailed,
  InvalidRequest,
  Overloaded,
  type ProviderError,
  ProviderUnavailable,
  RateLimited
} from "./Errors.js"

/**
 * Response headers as `Headers` has them, or anything with `get`.
 *
 * @since 0.1.0
 * @category models
 */
export interface HeaderLookup {
  readonly get: (name: string) => string | null
}

const seconds = /^\s*\d+(\.\d+)?\s*$/
/** An HTTP date opens with its day's name (IMF-fixdate, RFC 850, asctime); `Date.parse` alone reads "-5" as a year. */
const httpDate = /^\s*(mon|tue|wed|thu|fri|sat|sun)/i
/** RFC 3339, as the rate-limit resets are sent; `Date.parse` alone reads "0" as the year 2000. */
const rfc3339 = /^\s*\d{4}-\d{2}-\d{2}t\d{2}:\d{2}/i

/** A count of milliseconds, or undefined for one that no wait can be: 400 digits parse to Infinity. */
const finite = (millis: number) => (Number.isFinite(millis) ? millis : undefined)

/** Epoch millis of a date in `text` if it has `form`; undefined when it does not parse. */
const dateIn = (text: string | null | undefined, form: RegExp) =>
  text != null && form.test(text) ? finite(Date.parse(text)) : undefined

/**
 * How long the provider asked to wait: `retry-after-ms`, else `retry-after` in seconds or as an
 * HTTP date (relative to `now`, never negative). Undefined when it did not say or said nonsense
 * (negative, infinite, unparseable); a huge finite wait is returned as is, for the caller to cap.
 *
 * @since 0.1.0
 * @category utils
 */
export const retryAfterMillis = (headers: HeaderLookup | undefined, now: number): number | undefined => {
  const ms = headers?.get("retry-after-ms")
  const millis = ms != null && seconds.test(ms) ? finite(Number(ms)) : undefined
  if (millis !== undefined) return millis
  const after = headers?.get("retry-after")
  if (after != null && seconds.test(after)) return finite(Number(after) * 1000)
  const date = dateIn(after, httpDate)
  return date === undefined ? undefined : Math.max(0, date - now)
}

const limits = ["requests", "tokens", "input-tokens", "output-tokens"] as const

/**
 * When a rate limit the response reports as used up (`anthropic-ratelimit-*-remaining` at 0) resets,
 * in epoch millis: the latest such reset, or undefined when every limit has room left. A remaining
 * count or a reset that does not parse says nothing.
 *
 * @since 0.1.0
 * @category utils
 */
export const exhaustedUntil = (headers: HeaderLookup | undefined): number | undefined => {
  let until: number | undefined
  for (const limit of limits) {
    const remaining = headers?.get(`anthropic-ratelimit-${limit}-remaining`)
    if (remaining == null || remaining.trim() === "" || !(Number(remaining) <= 0)) continue
    const reset = dateIn(headers?.get(`anthropic-ratelimit-${limit}-reset`), rfc3339)
    if (reset !== undefined) until = Math.max(until ?? reset, reset)
  }
  return until
}

/** Codes of a connection never made: the request did not reach the provider. */
const neverConnected: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EAI_FAIL",
  "EAI_NODATA",
  "EAI_NONAME",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "ENETUNREACH",
  "ENETDOWN",
  "EADDRNOTAVAIL",
  "UND_ERR_CONNECT_TIMEOUT",
  // A server's certificate is checked before any byte of the request is sent.
  "CERT_HAS_EXPIRED",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "ERR_TLS_CERT_ALTNAME_INVALID"
])

/** Codes of a connection lost once made: the request may have been received and processed. */
const lostConnection: ReadonlySet<string> = new Set([
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_HEADERS_OVERFLOW"
])

/** An error and its causes, outermost first (at most 8: a chain may loop). */
const causes = (error: unknown): ReadonlyArray<object> => {
  const chain: Array<object> = []
  for (let e = error; typeof e === "object" && e !== null && chain.length < 8; e = "cause" in e ? e.cause : undefined)
    chain.push(e)
  return chain
}

const textOf = (error: unknown) => (error instanceof Error ? error.message : String(error))

/**
 * What fetch threw (or an error wrapping it, with fetch's failure in its `cause` chain), by the
 * codes in that chain: a connection never made (`sent: false`, not charged), one lost once made or
 * any other error of the operating system (sent, no answer: charged its upper bound), or neither:
 * fetch refused the request itself (an invalid header value, a port it will not use), and nothing
 * left the process (a client error). `scrub` removes secrets from the text kept.
 *
 * @since 0.1.0
 * @category errors
 */
export const fetchFailure = (failure: unknown, scrub: (text: string) => string = (text) => text): ProviderError => {
  const chain = causes(failure)
  const codes = chain.flatMap((e) => ("code" in e && typeof e.code === "string" ? [e.code] : []))
  const detail = scrub(textOf(chain.at(-1) ?? failure))
  if (codes.some((code) => neverConnected.has(code)))
    return new ProviderUnavailable({ message: `could not connect: ${detail}`, sent: false })
  if (codes.some((code) => lostConnection.has(code)) || chain.some((e) => "syscall" in e))
    return new ProviderUnavailable({ message: `the connection was lost before an answer: ${detail}` })
  return new InvalidRequest({ errorType: "client_error", message: `fetch refused the request: ${detail}` })
}

/** The Messages API's error types, by the status each is answered with: an error event mid-stream has no status. */
const errorTypeStatus: Readonly<Record<string, number>> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  overloaded_error: 529
}

/**
 * The HTTP status the Messages API answers an error type with; undefined for a type it does not know.
 *
 * @since 0.1.0
 * @category utils
 */
export const statusOfErrorType = (errorType: string): number | undefined =>
  // Own keys only: "constructor" is not an error type.
  Object.hasOwn(errorTypeStatus, errorType) ? errorTypeStatus[errorType] : undefined

/**
 * What an HTTP provider answered: a status, or (mid-stream, where there is none) the API's error type.
 *
 * @since 0.1.0
 * @category models
 */
export interface ErrorResponse {
  readonly status?: number | undefined
  readonly errorType?: string | undefined
  readonly message: string
  readonly requestId?: string | undefined
  readonly retryAfterMillis?: number | undefined
}

/**
 * The ProviderError for an error response: 429 → RateLimited, 529 → Overloaded, 401/403 →
 * AuthenticationFailed, 408 and 5xx → ProviderUnavailable, other 4xx → InvalidRequest. Without a
 * status the error type decides; an unknown one is ProviderUnavailable (retryable, counted by the breaker).
 *
 * @since 0.1.0
 * @category constructors
 */
export const providerErrorFrom = (response: ErrorResponse): ProviderError => {
  const { message, requestId } = response
  const errorType = response.errorType ?? "unknown"
  const status = response.status ?? statusOfErrorType(errorType)
  if (status === 429) return new RateLimited({ message, requestId, retryAfterMillis: response.retryAfterMillis })
  if (status === 529) return new Overloaded({ message, requestId })
  if (status === 401 || status === 403) return new AuthenticationFailed({ status, message, requestId })
  if (status === undefined || status === 408 || status >= 500 || status < 400)
    return new ProviderUnavailable({ status, message, requestId })
  return new InvalidRequest({ status, errorType, message, requestId })
}
