/**
 * Every failure fleetguard reports is a `Schema.TaggedError`, so it can be matched with
 * `Effect.catchTag`, encoded into the event journal and read back.
 *
 * @module
 * @since 0.1.0
 */
import { Schema } from "effect"
import * as Failures from "./internal/policy/failures.js"
import * as Values from "./internal/policy/values.js"

/**
 * Which limit refused a reservation.
 *
 * @since 0.1.0
 * @category schemas
 */
export const LimitScope = Schema.Literal("fleet", "agent")
/**
 * Which limit refused a reservation: the fleet's or the agent's.
 *
 * @since 0.1.0
 * @category models
 */
export type LimitScope = typeof LimitScope.Type

/**
 * A reservation would have passed the fleet limit or the agent's limit. Nothing was reserved:
 * requests are refused whole, never shrunk to fit.
 *
 * @since 0.1.0
 * @category errors
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

/**
 * A nested agent would have run at or past the maximum depth; it was not started.
 *
 * @since 0.1.0
 * @category errors
 */
export class DepthLimitExceeded extends Schema.TaggedError<DepthLimitExceeded>()("DepthLimitExceeded", {
  depth: Schema.Number,
  maxDepth: Schema.Number
}) {
  override get message(): string {
    return `agent depth ${this.depth} is not below the maximum depth ${this.maxDepth}`
  }
}

/**
 * No price is known for the model; fleetguard never prices a call at $0 by guessing.
 *
 * @since 0.1.0
 * @category errors
 */
export class UnknownModel extends Schema.TaggedError<UnknownModel>()("UnknownModel", {
  model: Schema.String
}) {
  override get message(): string {
    return `no price is known for model "${this.model}": register one with Pricing.layer({ "${this.model}": { ... } })`
  }
}

/**
 * A value as an error message may show it: numbers, booleans, null and undefined as they are;
 * anything else by its kind only, so that no prompt, key or URL given in the wrong place is echoed.
 * Never throws, whatever the value.
 *
 * @since 0.1.0
 * @category utils
 */
export const describeValue: (value: unknown) => string = Values.describeValue

/**
 * An amount of money or tokens that cannot be right (negative, NaN, infinite, too large, not a
 * number), or another argument the ledger cannot take (an agent id that is not a string, a
 * reservation it never issued). `field` names the argument.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidAmount extends Schema.TaggedError<InvalidAmount>()("InvalidAmount", {
  field: Schema.String,
  value: Schema.Unknown,
  reason: Schema.String
}) {
  override get message(): string {
    return `${this.field} = ${describeValue(this.value)}: ${this.reason}`
  }
}

/**
 * An option given to a guard's `layer` or `make` is missing, of the wrong type or out of range.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidOption extends Schema.TaggedError<InvalidOption>()("InvalidOption", {
  option: Schema.String,
  value: Schema.Unknown,
  reason: Schema.String
}) {
  override get message(): string {
    return `option ${this.option} = ${describeValue(this.value)}: ${this.reason}`
  }
}

/**
 * The circuit breaker is open (or its probe slots are taken): the call was not run, or was interrupted.
 *
 * @since 0.1.0
 * @category errors
 */
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
/** Provider errors can be built from their documented fields alone: the message has a default. */
const messageOr = (fallback: string) => Schema.optionalWith(Schema.String, { default: () => fallback })

/**
 * 429: the provider's rate limit. `retryAfterMillis` is what the provider asked for, if it said;
 * a value that is negative, NaN or infinite counts as not said.
 *
 * @since 0.1.0
 * @category errors
 */
export class RateLimited extends Schema.TaggedError<RateLimited>()("RateLimited", {
  retryAfterMillis: Schema.optional(Schema.Number),
  message: messageOr("rate limited by the provider"),
  requestId: RequestId
}) {}

/**
 * 529: the provider is overloaded.
 *
 * @since 0.1.0
 * @category errors
 */
export class Overloaded extends Schema.TaggedError<Overloaded>()("Overloaded", {
  message: messageOr("the provider is overloaded"),
  requestId: RequestId
}) {}

/**
 * 5xx, 408, timeouts and connection failures. How it is settled: with a `status`, the provider
 * answered with an error (nothing is charged); `billed`, it answered but the answer could not be
 * read (the full reservation, not retried); otherwise no answer came — charged the full reservation
 * unless `sent` is false (the connection was never made).
 *
 * @since 0.1.0
 * @category errors
 */
export class ProviderUnavailable extends Schema.TaggedError<ProviderUnavailable>()("ProviderUnavailable", {
  status: Schema.optional(Schema.Number),
  message: messageOr("the provider is unavailable"),
  requestId: RequestId,
  /**
   * The provider answered but the answer could not be read (a truncated or malformed body): the
   * call was probably billed, so it is charged its full reservation.
   */
  billed: Schema.optional(Schema.Boolean),
  /**
   * False when the request never reached the provider (connection refused, host not found): it is
   * not charged. Absent or true without a `status`: it was sent and no answer came, so it may have
   * been processed and billed, and it is charged its upper bound.
   */
  sent: Schema.optional(Schema.Boolean)
}) {}

/**
 * The request itself is wrong; retrying cannot help. From the provider: a 4xx other than 401, 403
 * and 429. From fleetguard or the SDK before anything was sent (`errorType: "client_error"`, never
 * charged): a malformed request, with `field` naming what is wrong.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidRequest extends Schema.TaggedError<InvalidRequest>()("InvalidRequest", {
  status: Schema.optional(Schema.Number),
  errorType: Schema.optionalWith(Schema.String, { default: () => "invalid_request_error" }),
  message: messageOr("the request is invalid"),
  requestId: RequestId,
  /** The request's field at fault, e.g. `messages[0].content`, when the request was checked locally. */
  field: Schema.optional(Schema.String)
}) {}

/**
 * 401, 403: the key is missing, wrong or not allowed.
 *
 * @since 0.1.0
 * @category errors
 */
export class AuthenticationFailed extends Schema.TaggedError<AuthenticationFailed>()("AuthenticationFailed", {
  status: Schema.optionalWith(Schema.Number, { default: () => 401 }),
  message: messageOr("authentication failed: the API key is missing, wrong or not allowed"),
  requestId: RequestId
}) {}

/**
 * A guard's shared store (Redis, for a fleet across processes) could not be reached: nothing was
 * run. In-memory guards never fail with it.
 *
 * @since 0.1.0
 * @category errors
 */
export class GuardUnavailable extends Schema.TaggedError<GuardUnavailable>()("GuardUnavailable", {
  /** Which guard: "budget", "concurrency" or "breaker". */
  guard: Schema.String,
  message: messageOr("a guard's shared store could not be reached; nothing was run")
}) {}

/**
 * What a provider may fail with.
 *
 * @since 0.1.0
 * @category errors
 */
export type ProviderError = RateLimited | Overloaded | ProviderUnavailable | InvalidRequest | AuthenticationFailed

/**
 * Failures that say something about upstream health: the ones `LlmClient` retries.
 *
 * @since 0.1.0
 * @category guards
 */
export const isUpstreamFailure = (error: unknown): error is RateLimited | Overloaded | ProviderUnavailable =>
  error instanceof RateLimited || error instanceof Overloaded || error instanceof ProviderUnavailable

/**
 * What `CircuitBreaker.protect` counts as a failure by default, as cockatiel, resilience4j and
 * Polly do: every typed failure, except fleetguard's own rejections and client errors.
 *
 * @since 0.1.0
 * @category guards
 */
export const isCountedFailure: (error: unknown) => boolean = Failures.isCounted

/**
 * Failures that say the provider's limits were reached, not that it is unhealthy. The shared gate
 * owns them: inside `LlmClient`, `GuardedLanguageModel` and `Guards.wrap` they never count toward
 * the breaker (neither as failures nor as successes), whatever its `isFailure` says.
 *
 * @since 0.1.0
 * @category guards
 */
export const isRateLimit: (error: unknown) => boolean = Failures.isRateLimit

/**
 * Everything `LlmClient.complete` may fail with.
 *
 * @since 0.1.0
 * @category errors
 */
export type LlmError =
  | ProviderError
  | BudgetExceeded
  | DepthLimitExceeded
  | CircuitOpen
  | UnknownModel
  | InvalidAmount
  | GuardUnavailable
