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
