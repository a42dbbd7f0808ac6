/**
 * Every failure fleetguard reports is a `Schema.TaggedError`, so it can be matched with
 * `Effect.catchTag`, encoded into the event journal and read back.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

/** Which limit refused a reservation. */
export const LimitScope = Schema.Literal("fleet", "agent")
export type LimitScope = typeof LimitScope.Type

/**
 * A reservation would have passed the fleet limit or the agent's limit. Nothing was reserved:
 * requests are refused whole, never shrunk to fit.
 */
export class BudgetExceeded extends Schema.TaggedError<BudgetExceeded>()("BudgetExceeded", {
  scope: LimitScope,
  agentId: Schema.String,
  requestedUsd: Schema.Number,
  remainingUsd: Schema.Number,
  limitUsd: Schema.Number
}) {
  override get message(): string {
    return `${this.scope === "fleet" ? "fleet" : `agent "${this.agentId}"`} budget exceeded: asked $${this.requestedUsd}, $${this.remainingUsd} left of $${this.limitUsd}`
  }
}

/** A nested agent would have run at or past the maximum depth; it was not started. */
export class DepthLimitExceeded extends Schema.TaggedError<DepthLimitExceeded>()("DepthLimitExceeded", {
  depth: Schema.Number,
  maxDepth: Schema.Number
}) {
  override get message(): string {
    return `agent depth ${this.depth} is not below the maximum depth ${this.maxDepth}`
  }
}

/** No price is known for the model; fleetguard never prices a call at $0 by guessing. */
export class UnknownModel extends Schema.TaggedError<UnknownModel>()("UnknownModel", {
  model: Schema.String
}) {
  override get message(): string {
    return `no price is known for model "${this.model}": register one with Pricing.layer({ "${this.model}": { ... } })`
  }
}

/** An amount of money or tokens that cannot be right: negative, NaN, infinite or too large. */
export class InvalidAmount extends Schema.TaggedError<InvalidAmount>()("InvalidAmount", {
  field: Schema.String,
  value: Schema.Number,
  reason: Schema.String
}) {
  override get message(): string {
    return `${this.field} = ${this.value}: ${this.reason}`
  }
}

/** An option given to a guard's `layer` or `make` is out of range. */
export class InvalidOption extends Schema.TaggedError<InvalidOption>()("InvalidOption", {
  option: Schema.String,
  value: Schema.Unknown,
  reason: Schema.String
}) {
  override get message(): string {
    return `option ${this.option} = ${String(this.value)}: ${this.reason}`
  }
}

/** The circuit breaker is open (or its probe slots are taken): the call was not run, or was interrupted. */
export class CircuitOpen extends Schema.TaggedError<CircuitOpen>()("CircuitOpen", {
  /** How long until a probe may be admitted; absent while the breaker is held open by an operator. */
  retryAfterMillis: Schema.optional(Schema.Number),
  /** True when the call was running and the trip interrupted it. */
  interrupted: Schema.Boolean
}) {
  override get message(): string {
    const when = this.retryAfterMillis === undefined ? "until reset" : `for ${this.retryAfterMillis} ms`
    return `circuit open ${when}${this.interrupted ? "; the call in flight was interrupted" : ""}`
  }
}

const RequestId = Schema.optional(Schema.String)

/** 429: the provider's rate limit. `retryAfterMillis` is what the provider asked for, if it said. */
export class RateLimited extends Schema.TaggedError<RateLimited>()("RateLimited", {
  retryAfterMillis: Schema.optional(Schema.Number),
  message: Schema.String,
  requestId: RequestId
}) {}

/** 529: the provider is overloaded. */
export class Overloaded extends Schema.TaggedError<Overloaded>()("Overloaded", {
  message: Schema.String,
  requestId: RequestId
}) {}

/** 5xx, 408, timeouts and connection failures. */
export class ProviderUnavailable extends Schema.TaggedError<ProviderUnavailable>()("ProviderUnavailable", {
  status: Schema.optional(Schema.Number),
  message: Schema.String,
  requestId: RequestId,
  /**
   * The provider answered but the answer could not be read (a truncated or malformed body): the
   * call was probably billed, so it is charged its full reservation.
   */
  billed: Schema.optional(Schema.Boolean)
}) {}

/** 4xx other than 401, 403 and 429: the request itself is wrong; retrying cannot help. */
export class InvalidRequest extends Schema.TaggedError<InvalidRequest>()("InvalidRequest", {
  status: Schema.optional(Schema.Number),
  errorType: Schema.String,
  message: Schema.String,
  requestId: RequestId
}) {}

/** 401, 403: the key is missing, wrong or not allowed. */
export class AuthenticationFailed extends Schema.TaggedError<AuthenticationFailed>()("AuthenticationFailed", {
  status: Schema.Number,
  message: Schema.String,
  requestId: RequestId
}) {}

/** What a provider may fail with. */
export type ProviderError = RateLimited | Overloaded | ProviderUnavailable | InvalidRequest | AuthenticationFailed

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

/** The HTTP status the Messages API answers an error type with; undefined for a type it does not know. */
export const statusOfErrorType = (errorType: string): number | undefined =>
  // Own keys only: "constructor" is not an error type.
  Object.hasOwn(errorTypeStatus, errorType) ? errorTypeStatus[errorType] : undefined

/** What an HTTP provider answered: a status, or (mid-stream, where there is none) the API's error type. */
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

/** Failures that say something about upstream health: by default only these count in the breaker. */
export const isUpstreamFailure = (error: unknown): error is RateLimited | Overloaded | ProviderUnavailable =>
  error instanceof RateLimited || error instanceof Overloaded || error instanceof ProviderUnavailable

/** Everything `LlmClient.complete` may fail with. */
export type LlmError = ProviderError | BudgetExceeded | DepthLimitExceeded | CircuitOpen | UnknownModel | InvalidAmount
