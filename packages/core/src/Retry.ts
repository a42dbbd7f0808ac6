/**
 * Retry: how `LlmClient` retries. There is one coordination point per failure kind instead of N
 * independent retry loops: a `RateLimited` closes the shared Concurrency gate for everyone (for
 * the provider's retry-after, or a backoff when it gave none) and the gate spreads the wake-ups;
 * `Overloaded` and `ProviderUnavailable` back off exponentially with full jitter, and their retries
 * draw on one fleet-wide retry budget (a 429 the gate waits out takes no attempt and no token).
 * Client errors and guard rejections are never retried.
 *
 * @module
 * @since 0.1.0
 */
import { Context, type Duration, Effect, Layer, Schema } from "effect"
import type { InvalidOption } from "./Errors.js"
import { DurationMillis, decode, isPositiveFinite, Options, option, PositiveInteger } from "./Options.js"

/**
 * How `LlmClient` retries: attempts per call, the backoff, and the fleet-wide retry budget.
 *
 * @since 0.1.0
 * @category models
 */
export interface RetryOptions {
  /**
   * Attempts per call, the first included. Default 4. A 429 whose wait the gate held is not
   * counted: a call waits out 429s until the gate's `maxPause` after its first. 1 retries nothing,
   * 429s included.
   */
  readonly maxAttempts?: number | undefined
  /** First backoff ceiling; doubles each attempt. Default 500 ms. */
  readonly baseDelay?: Duration.DurationInput | undefined
  /** Backoff ceiling. Default 30 seconds; one below `baseDelay` is taken as `baseDelay`. */
  readonly maxDelay?: Duration.DurationInput | undefined
  /**
   * Retry-budget size (gRPC's maxTokens), for retries of provider failures (429s the gate waits
   * out take none). Default: 10, or 3 × maxConcurrency if larger.
   */
  readonly budgetTokens?: number | undefined
  /** Tokens a success gives back (gRPC's tokenRatio). Default 0.1. */
  readonly budgetTokenRatio?: number | undefined
}

/**
 * Retry options decoded, in millis, with their defaults filled in.
 *
 * @since 0.1.0
 * @category models
 */
export interface RetryPolicy {
  readonly maxAttempts: number
  readonly baseDelayMillis: number
  readonly maxDelayMillis: number
  /** Undefined: sized from the concurrency limit by `budgetTokensFor`. */
  readonly budgetTokens: number | undefined
  readonly budgetTokenRatio: number
}

/**
 * The retry budget's size under `policy`: its `budgetTokens` when given, else sized from the
 * concurrency limit (10, or 3 × `maxConcurrency` if larger).
 */
const budgetTokensFor = (policy: RetryPolicy, maxConcurrency: number): number =>
  policy.budgetTokens ?? Math.max(10, 3 * maxConcurrency)

/**
 * The policy used when no `Retry.layer` is provided: 4 attempts, backoff from 500 ms up to 30
 * seconds, a budget sized from the concurrency limit, 0.1 token back per success.
 *
 * @since 0.1.0
 * @category constants
 */
const defaults: RetryPolicy = {
  maxAttempts: 4,
  baseDelayMillis: 500,
  maxDelayMillis: 30_000,
  budgetTokens: undefined,
  budgetTokenRatio: 0.1
}

const OptionsSchema = Options({
  maxAttempts: Schema.optional(PositiveInteger),
  baseDelay: Schema.optional(DurationMillis()),
  maxDelay: Schema.optional(DurationMillis()),
  budgetTokens: Schema.optional(option(isPositiveFinite, "must be a positive number")),
  budgetTokenRatio: Schema.optional(
    option((n): n is number => typeof n === "number" && Number.isFinite(n) && n >= 0, "must be a number ≥ 0")
  )
})

/**
 * The policy `options` give, with defaults filled in, or `InvalidOption` naming a bad one.
 *
 * @since 0.1.0
 * @category constructors
 */
const make = (options: RetryOptions = {}): Effect.Effect<RetryPolicy, InvalidOption> =>
  Effect.map(decode(OptionsSchema, options), (o) => {
    const baseDelayMillis = o.baseDelay ?? defaults.baseDelayMillis
    return {
      maxAttempts: o.maxAttempts ?? defaults.maxAttempts,
      baseDelayMillis,
      maxDelayMillis: Math.max(o.maxDelay ?? defaults.maxDelayMillis, baseDelayMillis),
      budgetTokens: o.budgetTokens,
      budgetTokenRatio: o.budgetTokenRatio ?? defaults.budgetTokenRatio
    }
  })

/**
 * The retry policy `options` give, for `LlmClient.layer` to be built with.
 *
 * @since 0.1.0
 * @category layers
 */
const layer = (options: RetryOptions = {}): Layer.Layer<Retry, InvalidOption> => Layer.effect(Retry, make(options))

/**
 * The retry policy `LlmClient.layer` is built with; `defaults` unless a `Retry.layer` is provided to it.
 *
 * @since 0.1.0
 * @category tags
 */
export class Retry extends Context.Reference<Retry>()("@fleetguard/core/Retry", {
  defaultValue: (): RetryPolicy => defaults
}) {
  static readonly make = make
  static readonly defaults = defaults
  static readonly budgetTokensFor = budgetTokensFor
  static readonly layer = layer
}
