/**
 * Retries and gate closings, by the fleet's retry policy: one coordination point for every call of
 * a client. A 429 closes the gate for everyone and takes no attempt; other failures back off with
 * jitter and draw on the fleet's retry budget.
 */
import { Effect, Exit, Random } from "effect"
import { isUpstreamFailure, ProviderUnavailable, RateLimited } from "../../Errors.js"
import type { Answer } from "../../Llm.js"
import type { RetryPolicy } from "../../Retry.js"
import * as RetryBudget from "../policy/retry.js"
import { failureOf } from "./settle.js"

/** A retry-after worth honouring: finite and ≥ 0. Anything else counts as not said. */
const askedWait = (error: RateLimited): number | undefined => {
  const millis = error.retryAfterMillis
  return millis !== undefined && Number.isFinite(millis) && millis >= 0 ? millis : undefined
}

/**
 * How long an attempt that ended closes the gate, in milliseconds, before its permit goes back; or
 * undefined, for not at all. A 429 closes it for its retry-after (with none, `ceilingMillis`, the
 * attempt's backoff ceiling unjittered: the gate does the spreading); an answer whose headers say a
 * limit is used up closes it until the reset, so that the next call waits instead of drawing a 429.
 */
export const gatePause = (exit: Exit.Exit<Answer, unknown>, ceilingMillis: number): number | undefined => {
  if (Exit.isSuccess(exit)) {
    const millis = exit.value.rateLimitResetMillis
    return millis !== undefined && millis > 0 ? millis : undefined
  }
  const error = failureOf(exit)
  return error instanceof RateLimited ? (askedWait(error) ?? ceilingMillis) : undefined
}

/** What a call's retries have used: the attempts that count, and when its first gate-held 429 came. */
export interface RetryState {
  /** Attempts that count toward `maxAttempts`: all but the 429s whose wait the gate held. */
  counted: number
  /** The fiber's clock at the call's first 429 whose wait the gate held. */
  limitedSince: number | undefined
}

/** The retry policy of one client, and the fleet's retry tokens. */
export class Coordination {
  constructor(
    readonly policy: RetryPolicy,
    /** The longest a call waits out 429s, from its first (the gate's `maxPause`). */
    readonly maxPauseMillis: number,
    /** The fleet's retry tokens, changed only by the pure functions of `retry.ts` in one step. */
    readonly retryTokens: { current: RetryBudget.RetryTokens }
  ) {}

  /** The backoff ceiling of `attempt` (the first is 1), unjittered. */
  ceilingMillis(attempt: number): number {
    const { maxDelayMillis, baseDelayMillis } = this.policy
    return Math.min(maxDelayMillis, baseDelayMillis * 2 ** Math.max(0, attempt - 1))
  }

  /**
   * Upstream, nothing handed to the caller yet, not billed, and within its limits. A 429 whose
   * wait the gate holds is the gate's to coordinate: it takes no attempt and no retry token (the
   * gate already keeps a storm from multiplying calls: the first call it lets through after
   * reopening draws the next 429 and closes it again), and a call waits out 429s until `maxPause`
   * after its first. Any other failure, a 429 that asked for no wait included, counts toward
   * `maxAttempts` and takes a token. `maxAttempts: 1` retries nothing.
   */
  retryable(error: unknown, attempt: number, call: RetryState, now: number, received: boolean): boolean {
    const { policy, maxPauseMillis } = this
    if (
      !isUpstreamFailure(error) ||
      received ||
      policy.maxAttempts <= 1 ||
      (error instanceof ProviderUnavailable && error.billed === true)
    )
      return false
    if (error instanceof RateLimited) {
      const asked = askedWait(error)
      // A provider asking for a longer wait than maxPause is not waited for: the call fails now.
      if (asked !== undefined && asked > maxPauseMillis) return false
      const wait = asked ?? this.ceilingMillis(attempt)
      if (wait > 0) {
        call.limitedSince ??= now
        return now - call.limitedSince + wait <= maxPauseMillis
      }
    }
    call.counted++
    if (call.counted >= policy.maxAttempts) return false
    const [allowed, next] = RetryBudget.onFailure(this.retryTokens.current)
    this.retryTokens.current = next
    return allowed
  }

  succeeded(): void {
    this.retryTokens.current = RetryBudget.onSuccess(this.retryTokens.current)
  }

  /** The wait before a retry: none after a 429 (the gate waits), else capped exponential with full jitter. */
  backoff(error: unknown, attempt: number): Effect.Effect<void> {
    const { baseDelayMillis, maxDelayMillis } = this.policy
    return error instanceof RateLimited
      ? Effect.void
      : Effect.flatMap(Random.next, (r) =>
          Effect.sleep(RetryBudget.backoffMillis(attempt, baseDelayMillis, maxDelayMillis, r))
        )
  }
}
