/**
 * The events guards publish about what they decided: budget, rejections, fan-out, the rate-limit
 * gate, the breaker, and each settled call. `Events.ts` re-exports them; their docs are here.
 */
import { Schema } from "effect"
import { LimitScope } from "../../../Errors.js"

/** Epoch milliseconds, from the Effect `Clock` (TestClock in tests). */
export const At = Schema.Number

/**
 * Exposure (spent + reserved) first reached `alertAt` of the fleet limit. Published once.
 *
 * @since 0.1.0
 * @category events
 */
export class BudgetThresholdCrossed extends Schema.TaggedClass<BudgetThresholdCrossed>()("BudgetThresholdCrossed", {
  at: At,
  alertAt: Schema.Number,
  limitUsd: Schema.Number,
  spentUsd: Schema.Number,
  reservedUsd: Schema.Number
}) {}

/**
 * A reservation refused at the fleet limit: published at the first such refusal, and once more at
 * the first one after spend itself reached the limit (the first may have found the budget only
 * held by calls in flight).
 *
 * @since 0.1.0
 * @category events
 */
export class BudgetExhausted extends Schema.TaggedClass<BudgetExhausted>()("BudgetExhausted", {
  at: At,
  agentId: Schema.String,
  requestedUsd: Schema.Number,
  limitUsd: Schema.Number,
  spentUsd: Schema.Number,
  reservedUsd: Schema.Number
}) {}

/**
 * A commit recorded more than its reservation: the estimate was not an upper bound.
 *
 * @since 0.1.0
 * @category events
 */
export class EstimateExceeded extends Schema.TaggedClass<EstimateExceeded>()("EstimateExceeded", {
  at: At,
  agentId: Schema.String,
  reservedUsd: Schema.Number,
  actualUsd: Schema.Number
}) {}

/**
 * A guard refused work without running it.
 *
 * @since 0.1.0
 * @category events
 */
export class Rejected extends Schema.TaggedClass<Rejected>()("Rejected", {
  at: At,
  agentId: Schema.String,
  reason: Schema.Literal("BudgetExceeded", "DepthLimitExceeded", "CircuitOpen", "UnknownModel"),
  scope: Schema.optional(LimitScope),
  detail: Schema.String
}) {}

/**
 * `Depth.fanOut` was given more items than `maxFanOut`; the rest were not run.
 *
 * @since 0.1.0
 * @category events
 */
export class FanOutTruncated extends Schema.TaggedClass<FanOutTruncated>()("FanOutTruncated", {
  at: At,
  agentId: Schema.String,
  depth: Schema.Number,
  requested: Schema.Number,
  admitted: Schema.Number,
  dropped: Schema.Number
}) {}

/**
 * The shared rate-limit gate was closed until `pausedUntil`. `extended`: it was closed already, and
 * this moves the end of the same pause (many callers answered 429 at once make one pause, not one
 * each). `capped`: the provider asked for longer than `maxPause` (`requestedMillis`, absent when
 * infinite); the gate closed for `maxPause` only, and the call that asked was failed rather than
 * retried.
 *
 * @since 0.1.0
 * @category events
 */
export class RateLimitPause extends Schema.TaggedClass<RateLimitPause>()("RateLimitPause", {
  at: At,
  pausedUntil: Schema.Number,
  requestedMillis: Schema.optional(Schema.Number),
  capped: Schema.Boolean,
  extended: Schema.optionalWith(Schema.Boolean, { default: () => false })
}) {}

/**
 * An operator reopened the gate by hand (`Concurrency.resume`).
 *
 * @since 0.1.0
 * @category events
 */
export class RateLimitResumed extends Schema.TaggedClass<RateLimitResumed>()("RateLimitResumed", { at: At }) {}

/**
 * The breaker tripped: every other tracked fiber was interrupted.
 *
 * @since 0.1.0
 * @category events
 */
export class BreakerOpened extends Schema.TaggedClass<BreakerOpened>()("BreakerOpened", {
  at: At,
  /** Tracked fibers the trip interrupted: agents, and calls made outside any agent. */
  interrupted: Schema.Number,
  /** How many of them were agents (run through `Agent.run`), each with whatever it had in flight. */
  interruptedAgents: Schema.Number,
  /** When a probe may be admitted; absent while isolated by an operator. */
  reopenAt: Schema.optional(Schema.Number),
  /** Consecutive openings without a close in between. */
  trips: Schema.Number
}) {}

/**
 * The first probe was admitted after `resetAfter`.
 *
 * @since 0.1.0
 * @category events
 */
export class BreakerHalfOpened extends Schema.TaggedClass<BreakerHalfOpened>()("BreakerHalfOpened", { at: At }) {}

/**
 * The probes succeeded (or an operator reset it): calls flow again.
 *
 * @since 0.1.0
 * @category events
 */
export class BreakerClosed extends Schema.TaggedClass<BreakerClosed>()("BreakerClosed", { at: At }) {}

/**
 * A call through `LlmClient` (or `GuardedLanguageModel`) was settled against the budget. `Guards.wrap`
 * publishes none: it knows no model or tokens; its spend shows in the ledger and its budget events.
 *
 * @since 0.1.0
 * @category events
 */
export class CallSettled extends Schema.TaggedClass<CallSettled>()("CallSettled", {
  at: At,
  agentId: Schema.String,
  model: Schema.String,
  outcome: Schema.Literal("success", "failure", "interrupted"),
  attempts: Schema.Number,
  reservedUsd: Schema.Number,
  costUsd: Schema.Number,
  inputTokens: Schema.Number,
  outputTokens: Schema.Number,
  cacheCreationInputTokens: Schema.Number,
  cacheReadInputTokens: Schema.Number,
  /** The error's tag when the call failed. */
  error: Schema.optional(Schema.String)
}) {}
