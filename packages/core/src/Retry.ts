/**
 * Retry: how `LlmClient` retries. There is one coordination point per failure kind instead of N
 * independent retry loops: a `RateLimited` closes the shared Concurrency gate for everyone (for
 * the provider's retry-after, or a backoff when it gave none) and the gate spreads the wake-ups;
 * `Overloaded` and `ProviderUnavailable` back off exponentially with full jitter; and every retry
 * draws on one fleet-wide retry budget. Client errors and guard rejections are never retried.
 *
 * @since 0.1.0
 */
import { Context, type Duration, Effect, Layer } from "effect"
import type { InvalidOption } from "./Errors.js"
import { check, checkDuration, isPositiveFinite, isPositiveInteger } from "./internal/options.js"

export interface RetryOptions {
  /** Attempts per call, the first included. Default 4. */
  readonly maxAttempts?: number | undefined
  /** First backoff ceiling; doubles each attempt. Default 500 ms. */
  readonly baseDelay?: Duration.DurationInput | undefined
  /** Backoff ceiling. Default 30 seconds. */
  readonly maxDelay?: Duration.DurationInput | undefined
  /**
   * Retry-budget size (gRPC's maxTokens). Default: 10, or 3 × maxConcurrency if larger, so that
   * one wave of 429s — at most one per permit — cannot use up the budget on its own.
   */
  readonly budgetTokens?: number | undefined
  /** Tokens a success gives back (gRPC's tokenRatio). Default 0.1. */
  readonly budgetTokenRatio?: number | undefined
}

export interface RetryPolicy {
  readonly maxAttempts: number
  readonly baseDelayMillis: number
  readonly maxDelayMillis: number
  /** Undefined: sized from the concurrency limit by `budgetTokensFor`. */
  readonly budgetTokens: number | undefined
  readonly budgetTokenRatio: number
}

export const budgetTokensFor = (policy: RetryPolicy, maxConcurrency: number): number =>
  policy.budgetTokens ?? Math.max(10, 3 * maxConcurrency)

export const defaults: RetryPolicy = {
  maxAttempts: 4,
  baseDelayMillis: 500,
  maxDelayMillis: 30_000,
  budgetTokens: undefined,
  budgetTokenRatio: 0.1
}

export const make = (options: RetryOptions = {}): Effect.Effect<RetryPolicy, InvalidOption> =>
  Effect.gen(function* () {
    const maxAttempts = yield* check(
      "maxAttempts",
      options.maxAttempts ?? defaults.maxAttempts,
      isPositiveInteger,
      "must be a whole number ≥ 1"
    )
    const baseDelayMillis = yield* checkDuration("baseDelay", options.baseDelay ?? defaults.baseDelayMillis)
    const maxDelayMillis = yield* checkDuration("maxDelay", options.maxDelay ?? defaults.maxDelayMillis)
    const budgetTokens =
      options.budgetTokens === undefined
        ? undefined
        : yield* check("budgetTokens", options.budgetTokens, isPositiveFinite, "must be a positive number")
    const budgetTokenRatio = yield* check(
      "budgetTokenRatio",
      options.budgetTokenRatio ?? defaults.budgetTokenRatio,
      (n) => Number.isFinite(n) && n >= 0,
      "must be a number ≥ 0"
    )
    return {
      maxAttempts,
      baseDelayMillis,
      maxDelayMillis: Math.max(maxDelayMillis, baseDelayMillis),
      budgetTokens,
      budgetTokenRatio
    }
  })

/** The retry policy `LlmClient.layer` is built with; `defaults` unless a `Retry.layer` is provided to it. */
export class Retry extends Context.Reference<Retry>()("@fleetguard/core/Retry", {
  defaultValue: (): RetryPolicy => defaults
}) {
  static readonly make = make
  static readonly defaults = defaults
  static readonly budgetTokensFor = budgetTokensFor
  static readonly layer = (options: RetryOptions = {}): Layer.Layer<Retry, InvalidOption> =>
    Layer.effect(Retry, make(options))
}
