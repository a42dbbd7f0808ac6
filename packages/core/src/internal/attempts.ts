/**
 * The attempts of one guarded call that holds a reservation: each attempt waits at the gate, takes
 * a permit, passes the breaker and sends; a failure from upstream is retried through one
 * coordination point (a 429 closes the gate for everyone; other failures back off with jitter;
 * every retry draws on the fleet's retry budget); each attempt is settled by the rules of
 * `settle.ts`, and the call is reported once, when it ends.
 */
import type { Tracer } from "effect"
import { Cause, Duration, Effect, Exit, Option, Random, Ref } from "effect"
import type { BudgetService, Reservation } from "../Budget.js"
import type { CircuitBreakerService } from "../CircuitBreaker.js"
import type { ConcurrencyService } from "../Concurrency.js"
import type { BudgetExceeded, CircuitOpen, GuardUnavailable, InvalidAmount, ProviderError } from "../Errors.js"
import { isUpstreamFailure, ProviderUnavailable, RateLimited } from "../Errors.js"
import * as Events from "../Events.js"
import type { Answer, CompletionRequest, GuardedCall, StreamProgress, Usage } from "../Llm.js"
import * as Metrics from "../Metrics.js"
import type { PricingService } from "../Pricing.js"
import type { RetryPolicy } from "../Retry.js"
import * as RetryBudget from "./retry.js"
import * as Settle from "./settle.js"

/** The guards an attempt passes, and the fleet's retry budget. */
export interface Guards {
  readonly concurrency: ConcurrencyService
  readonly budget: BudgetService
  readonly breaker: CircuitBreakerService
  readonly pricing: PricingService
  readonly policy: RetryPolicy
  readonly retryTokens: Ref.Ref<RetryBudget.RetryTokens>
}

export type AttemptsError = ProviderError | CircuitOpen | BudgetExceeded | InvalidAmount | GuardUnavailable

/** A retry-after worth honouring: finite and ≥ 0. Anything else counts as not said. */
const askedWait = (error: RateLimited): number | undefined => {
  const millis = error.retryAfterMillis
  return millis !== undefined && Number.isFinite(millis) && millis >= 0 ? millis : undefined
}

const tagOf = (error: unknown): string =>
  typeof error === "object" && error !== null && "_tag" in error ? String(error._tag) : "Unknown"

/** Metrics, span attributes and the `CallSettled` event of a call that ended. */
const reportSettled = (
  request: CompletionRequest,
  agentId: string,
  reservedUsd: number,
  exit: Exit.Exit<Answer, unknown>,
  partial: Usage | undefined,
  attempts: number,
  costUsd: number,
  span: Tracer.Span | undefined
) => {
  const outcome = Settle.outcomeOf(exit)
  const usage = Exit.isSuccess(exit) ? exit.value.usage : partial
  Metrics.llmCallsByOutcome[outcome].unsafeUpdate(1, [])
  Metrics.llmCostUsd.unsafeUpdate(costUsd, [])
  if (usage !== undefined) {
    Metrics.llmTokensByKind.input.unsafeUpdate(usage.inputTokens, [])
    Metrics.llmTokensByKind.output.unsafeUpdate(usage.outputTokens, [])
    Metrics.llmTokensByKind.cache_write.unsafeUpdate(usage.cacheCreationInputTokens, [])
    Metrics.llmTokensByKind.cache_read.unsafeUpdate(usage.cacheReadInputTokens, [])
  }
  span?.attribute("fleetguard.attempts", attempts)
  span?.attribute("fleetguard.cost_usd", costUsd)
  return Events.publish(
    (at) =>
      new Events.CallSettled(
        {
          at,
          agentId,
          model: request.model,
          outcome,
          attempts,
          reservedUsd,
          costUsd,
          inputTokens: usage?.inputTokens ?? 0,
          outputTokens: usage?.outputTokens ?? 0,
          cacheCreationInputTokens: usage?.cacheCreationInputTokens ?? 0,
          cacheReadInputTokens: usage?.cacheReadInputTokens ?? 0,
          ...(Exit.isFailure(exit) && outcome === "failure"
            ? { error: Option.match(Cause.failureOption(exit.cause), { onNone: () => "Defect", onSome: tagOf }) }
            : {})
        },
        // Built from values this module computed: skip the schema check on the hot path.
        true
      )
  )
}

/** Retries and gate closings, by the fleet's retry policy. */
const coordination = (guards: Guards) => {
  const { concurrency, policy } = guards
  const ceilingMillis = (attempt: number) =>
    Math.min(policy.maxDelayMillis, policy.baseDelayMillis * 2 ** Math.max(0, attempt - 1))

  return {
    // A 429 closes the gate for everyone before this call's permit is given back, for at most
    // maxPause. With no retry-after, the backoff ceiling is used unjittered: the gate does the spreading.
    pauseOn: (error: AttemptsError, attempt: number) =>
      error._tag === "RateLimited"
        ? concurrency.pauseFor(Duration.millis(askedWait(error) ?? ceilingMillis(attempt)))
        : Effect.void,

    // The provider's headers said a limit is used up: close the gate before this call's permit is
    // given back, so the next call waits for the reset instead of drawing a 429.
    pauseAfter: (answer: Answer) => {
      const millis = answer.rateLimitResetMillis
      return millis === undefined || !(millis > 0) ? Effect.void : concurrency.pauseFor(Duration.millis(millis))
    },

    /** Upstream, nothing handed to the caller yet, not billed, and within every limit. */
    retryable: (error: unknown, attempt: number, progress: StreamProgress | undefined): boolean =>
      isUpstreamFailure(error) &&
      attempt < policy.maxAttempts &&
      progress?.received !== true &&
      !(error instanceof ProviderUnavailable && error.billed === true) &&
      // A provider asking for a longer wait than maxPause is not waited for: the call fails now.
      !(error instanceof RateLimited && (askedWait(error) ?? 0) > concurrency.maxPauseMillis),

    /** The wait before a retry: none after a 429 (the gate waits), else capped exponential with full jitter. */
    backoff: (error: ProviderError | CircuitOpen, attempt: number) =>
      error._tag === "RateLimited"
        ? Effect.void
        : Effect.flatMap(Random.next, (r) =>
            Effect.sleep(RetryBudget.backoffMillis(attempt, policy.baseDelayMillis, policy.maxDelayMillis, r))
          )
  }
}

/**
 * Runs `call`'s attempts under the reservation `first` and settles them. Each attempt that owes
 * something (sent with no answer) is charged when it ends, and a retry after it reserves again —
 * refused whole, like any reservation, when the budget cannot cover it.
 */
export const make = (guards: Guards) => {
  const { concurrency, budget, breaker, pricing, retryTokens } = guards
  const { pauseOn, pauseAfter, retryable, backoff } = coordination(guards)

  return <A extends Answer>(
    request: CompletionRequest,
    agentId: string,
    span: Tracer.Span | undefined,
    first: Reservation,
    call: GuardedCall<A>
  ): Effect.Effect<A & { readonly costUsd: number }, AttemptsError> => {
    const phase: { current: Settle.Phase } = { current: "waiting" }
    const progress = call.progress
    /** The reservation the next settlement charges; undefined once settled. */
    let held: Reservation | undefined = first
    let made = 0
    let charged = 0
    const send = Settle.phased(
      Effect.suspend(() => {
        made++
        return call.send
      }),
      phase
    )

    const partial = () =>
      progress?.usage && Settle.partialUsage(progress.usage, progress.final, progress.bytes, request.maxTokens)

    // What an attempt that ended owes: its usage; a stream's reported usage when it was cut short;
    // everything when text came with no usage, or a request went out and no answer came back.
    const owed = (exit: Exit.Exit<A, unknown>): Settle.Owed => {
      if (Exit.isSuccess(exit)) {
        const { reportedModel, usage } = exit.value
        return Settle.cost(Effect.suspend(() => pricing.cost(reportedModel ?? request.model, usage)))
      }
      const usage = partial()
      if (usage !== undefined) return Settle.cost(Effect.suspend(() => pricing.cost(request.model, usage)))
      if (progress?.received === true || Settle.unanswered(Settle.failureOf(exit))) return Settle.full
      return phase.current === "started" ? Settle.full : Settle.nothing
    }

    const settleHeld = (exit: Exit.Exit<A, unknown>): Effect.Effect<void> => {
      const reservation = held
      held = undefined
      return reservation === undefined
        ? Effect.void
        : Effect.map(Settle.settle(budget, reservation, owed(exit)), (usd) => {
            charged += usd
          })
    }

    // Before a retry: an attempt that owes something is charged now, and the retry holds a new
    // reservation of the same estimate. Both steps are uninterruptible: nothing is held twice or lost.
    const renew = (error: ProviderError | CircuitOpen) =>
      owed(Exit.fail(error))._tag === "Nothing"
        ? Effect.void
        : Effect.uninterruptible(
            Effect.zipRight(
              settleHeld(Exit.fail(error)),
              Effect.map(budget.reserve(agentId, first.usd), (reservation) => {
                held = reservation
              })
            )
          )

    const attempt = (n: number): Effect.Effect<A, AttemptsError> =>
      concurrency
        .withPermit(
          Effect.tapBoth(breaker.protect(send), { onFailure: (error) => pauseOn(error, n), onSuccess: pauseAfter })
        )
        .pipe(
          Effect.tap(() => Ref.update(retryTokens, RetryBudget.onSuccess)),
          Effect.catchIf(isUpstreamFailure, (error) =>
            !retryable(error, n, progress)
              ? Effect.fail(error)
              : Effect.flatMap(Ref.modify(retryTokens, RetryBudget.onFailure), (allowed) => {
                  if (!allowed) return Effect.fail(error)
                  Metrics.llmRetries.unsafeUpdate(1, [])
                  return Effect.zipRight(
                    renew(error),
                    Effect.zipRight(
                      backoff(error, n),
                      Effect.suspend(() => attempt(n + 1))
                    )
                  )
                })
          )
        )

    return attempt(1).pipe(
      Effect.onExit((exit) =>
        Effect.flatMap(settleHeld(exit), () =>
          reportSettled(request, agentId, first.usd, exit, partial(), made, charged, span)
        )
      ),
      Effect.map((answer) => ({ ...answer, costUsd: charged }))
    )
  }
}
