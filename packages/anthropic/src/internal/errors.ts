import { APIConnectionError, APIConnectionTimeoutError, APIError } from "@anthropic-ai/sdk"
import { InvalidRequest, type ProviderError, ProviderHttp, ProviderUnavailable } from "@fleetguard/core"
import type { FetchTrace } from "./fetchTrace.js"

/** A key is cut out of text only where it stands alone: not inside a longer run of these characters. */
const keyCharacter = "[A-Za-z0-9_-]"

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

/**
 * Replaces the key with "[redacted]" wherever it stands as a whole token ("Bearer <key>",
 * "key=<key>&", "<key>."), and nowhere else: a short key must not mangle ordinary words (the key
 * "x" in "invalid x-api-key").
 */
export const scrubber = (key: string): ((text: string) => string) => {
  const whole = new RegExp(`(?<!${keyCharacter})${escapeRegExp(key)}(?!${keyCharacter})`, "g")
  return (text) => text.replace(whole, "[redacted]")
}

const textOf = (error: unknown) => (error instanceof Error ? error.message : String(error))

const errorBody = (error: APIError): { readonly type?: unknown; readonly message?: unknown } => {
  const body = error.error as { readonly error?: { readonly type?: unknown; readonly message?: unknown } } | undefined
  return typeof body?.error === "object" && body.error !== null ? body.error : {}
}

/**
 * Maps whatever the SDK threw to a ProviderError, knowing from `trace` how far the request got.
 * `scrub` removes the API key from any text that is kept: errors are written to the journal and logs.
 */
export const toProviderError = (
  error: unknown,
  trace: FetchTrace,
  now: number,
  scrub: (text: string) => string
): ProviderError => {
  // An answer with an error status, or an error event mid-stream.
  if (error instanceof APIError && !(error instanceof APIConnectionError)) {
    const body = errorBody(error)
    return ProviderHttp.providerErrorFrom({
      status: error.status,
      errorType: typeof body.type === "string" ? body.type : undefined,
      message: scrub(typeof body.message === "string" ? body.message : error.message),
      requestId: error.requestID ?? undefined,
      retryAfterMillis: ProviderHttp.retryAfterMillis(error.headers, now)
    })
  }
  // The SDK stopped waiting for the headers of a request it had sent.
  if (error instanceof APIConnectionTimeoutError) return new ProviderUnavailable({ message: "the request timed out" })
  // Refused before fetch (e.g. "Streaming is required" for a large maxTokens without a timeout, or
  // a header that cannot be built): nothing was sent, and sending it again cannot help.
  if (!trace.invoked)
    return new InvalidRequest({
      errorType: "client_error",
      message: scrub(`the request was not sent: ${textOf(error)}`)
    })
  if (!trace.answered) return ProviderHttp.fetchFailure(trace.failure, scrub)
  // The provider answered, but its body could not be read (truncated, malformed, or the
  // connection cut while it was read): probably billed.
  return new ProviderUnavailable({ message: scrub(`malformed response: ${textOf(error)}`), billed: true })
}
