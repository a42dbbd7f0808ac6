/**
 * @effect/ai's failures as fleetguard's: what the provider answered (its HTTP status, its error
 * body, its retry-after) becomes the `ProviderError` the gate, the retry budget, the breaker and
 * settlement act on; and fleetguard's errors, going back to a caller of @effect/ai, are carried in
 * an `AiError` whose `cause` keeps their tag.
 */
import { AiError } from "@effect/ai"
import {
  AuthenticationFailed,
  BudgetExceeded,
  CircuitOpen,
  DepthLimitExceeded,
  GuardUnavailable,
  InvalidAmount,
  InvalidRequest,
  type LlmError,
  Overloaded,
  type ProviderError,
  ProviderHttp,
  ProviderUnavailable,
  providerErrorFrom,
  RateLimited,
  UnknownModel
} from "@fleetguard/core"
import { Either, Schema } from "effect"

/** The Messages API's error body: `{ "type": "error", "error": { type, message }, "request_id" }`. */
const ErrorBody = Schema.parseJson(
  Schema.Struct({
    error: Schema.optional(
      Schema.Struct({ type: Schema.optional(Schema.String), message: Schema.optional(Schema.String) })
    ),
    request_id: Schema.optional(Schema.String)
  })
)

const decodeBody = Schema.decodeUnknownEither(ErrorBody)

const headerLookup = (headers: Readonly<Record<string, string>>): ProviderHttp.HeaderLookup => ({
  get: (name) => (Object.hasOwn(headers, name) ? (headers[name] ?? null) : null)
})

/** An answer with an error status: its body and headers say what it was. */
const fromStatus = (error: AiError.HttpResponseError, now: number): ProviderError => {
  const body = Either.getOrUndefined(decodeBody(error.body ?? ""))
  const { headers, status } = error.response
  return providerErrorFrom({
    status,
    errorType: body?.error?.type,
    message: body?.error?.message ?? error.description ?? `the provider answered ${status}`,
    requestId: headerLookup(headers).get("request-id") ?? body?.request_id,
    retryAfterMillis: ProviderHttp.retryAfterMillis(headerLookup(headers), now)
  })
}

/**
 * Whether `error` is the AiError with `tag`. By the AiError's type id and tag, not `instanceof`: a
 * program may load another copy of @effect/ai than this package does.
 */
const isAiError = <T extends AiError.AiError["_tag"]>(
  error: unknown,
  tag: T
): error is Extract<AiError.AiError, { readonly _tag: T }> => AiError.isAiError(error) && error._tag === tag

/**
 * The `ProviderError` an @effect/ai failure is, by how far the request got; undefined for a failure
 * that says nothing of the provider (a tool's, or an answer that did not fit the caller's schema).
 * - an error status: by its status and body (429 → RateLimited with its retry-after, 529 →
 *   Overloaded, …); a 2xx whose body could not be read, or did not fit the provider's own schema:
 *   `ProviderUnavailable` billed (answered, so probably paid for);
 * - a transport failure: by what fetch threw (never connected: not sent; lost: sent, no answer);
 *   a request that could not be built: `InvalidRequest` client_error (nothing left the process).
 */
export const providerErrorOf = (error: unknown, now: number): ProviderError | undefined => {
  if (isAiError(error, "HttpResponseError")) {
    return error.response.status >= 300
      ? fromStatus(error, now)
      : new ProviderUnavailable({ message: `malformed response: ${error.reason}`, billed: true })
  }
  if (isAiError(error, "HttpRequestError")) {
    return error.reason === "Transport"
      ? ProviderHttp.fetchFailure(error)
      : new InvalidRequest({ errorType: "client_error", message: `the request could not be built: ${error.reason}` })
  }
  // The provider's client decodes its answers; LanguageModel's own decoding is of what the caller asked for.
  if (isAiError(error, "MalformedOutput") && error.module !== "LanguageModel") {
    return new ProviderUnavailable({
      message: `malformed response: ${error.description ?? "not its schema"}`,
      billed: true
    })
  }
  return undefined
}

/** Whether a failure that is not the provider's came before anything was sent (a prompt the provider could not take). */
export const beforeSending = (error: unknown): boolean => isAiError(error, "MalformedInput")

const ErrorPart = Schema.Struct({ type: Schema.optional(Schema.String), message: Schema.optional(Schema.String) })

/** An `error` part in a stream (the Messages API's `event: error`): its error type decides. */
export const fromErrorPart = (error: unknown): ProviderError => {
  const body = Either.getOrUndefined(Schema.decodeUnknownEither(ErrorPart)(error))
  return providerErrorFrom({ errorType: body?.type, message: body?.message ?? "an error event mid-stream" })
}

/** The module fleetguard's errors are reported from, inside an AiError. */
export const module = "GuardedLanguageModel"

/** A fleetguard error as @effect/ai's callers expect errors: an `AiError` whose `cause` is it. */
export const toAiError = (error: LlmError, method: string): AiError.UnknownError =>
  new AiError.UnknownError({ module, method, description: error.message, cause: error })

const llmErrors = [
  BudgetExceeded,
  DepthLimitExceeded,
  CircuitOpen,
  UnknownModel,
  InvalidAmount,
  GuardUnavailable,
  RateLimited,
  Overloaded,
  ProviderUnavailable,
  InvalidRequest,
  AuthenticationFailed
] as const

const isLlmError = (u: unknown): u is LlmError => llmErrors.some((error) => u instanceof error)

/** The fleetguard error an `AiError` from this package carries; any other error as it is. */
export const guardError = <E>(error: E): E | LlmError =>
  isAiError(error, "UnknownError") && error.module === module && isLlmError(error.cause) ? error.cause : error
