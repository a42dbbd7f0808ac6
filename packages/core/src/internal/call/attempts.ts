/**
 * The attempts of one guarded call: a reservation of the estimate, then attempts, each through the
 * gate, a permit and the breaker; a failure from upstream is retried through one coordination
 * point (a 429 closes the gate for everyone and takes no attempt; other failures back off with
 * jitter and draw on the fleet's retry budget); each attempt is settled by the rules of `settle.ts`, and the
 * call is reported once, when it ends. Interruption is masked but where the call waits or sends,
 * so whatever happens every reservation is settled and every permit given back.
 */
import type { Fiber, Tracer } from "effect"
import { Cause, Duration, Effect, Exit, Option, Random } from "effect"
import type { BudgetService } from "../../Budget.js"
import type { CircuitBreakerService } from "../../CircuitBreaker.js"
import type { ConcurrencyService } from "../../Concurrency.js"
import type { BudgetExceeded, CircuitOpen, GuardUnavailable, InvalidAmount, ProviderError } from "../../Errors.js"
import { isUpstreamFailure, ProviderUnavailable, RateLimited } from "../../Errors.js"
import * as Events from "../../Events.js"
import type { Answer, CompletionRequest, GuardedCall, Usage } from "../../Llm.js"
import * as Metrics from "../../Metrics.js"
import type { PricingService } from "../../Pricing.js"
import type { RetryPolicy } from "../../Retry.js"
import { fastPathOf, type PricingFastPath } from "../backend/fastPath.js"
import type { Reservation } from "../policy/ledger.js"
import * as RetryBudget from "../policy/retry.js"
import { nowOf } from "../runtime/fiber.js"
import { permitted, reserving } from "./guarded.js"
import * as Settle from "./settle.js"

/** The guards an attempt passes, and the fleet's retry budget. */
export interface Guards {
  readonly concurrency: ConcurrencyService
  readonly budget: BudgetService
  readonly breaker: CircuitBreakerService
  readonly pricing: PricingService
  readonly policy: RetryPolicy
  /** The fleet's retry tokens, changed only by the pure functions of `retry.ts` in one step. */
  readonly retryTokens: { current: RetryBudget.RetryTokens }
}

export type AttemptsError = ProviderError | CircuitOpen | BudgetExceeded | InvalidAmount | GuardUnavailable

type Restore = <X, Y, Z>(effect: Effect.Effect<X, Y, Z>) => Effect.Effect<X, Y, Z>

/** A retry-after worth honouring: finite and ≥ 0. Anything else counts as not said. */
const askedWait = (error: RateLimited): number | undefined => {
  const millis = error.retryAfterMillis
  return millis !== undefined && Number.isFinite(millis) && millis >= 0 ? millis : undefined
}

const tagOf = (error: unknown): string =>
  typeof error === "object" && error !== null && "_tag" in error ? String(error._tag) : "Unknown"

/** A call refused by a guard, counted by the guard's error. */
export const countRejection = (error: unknown): void => {
  Metrics.llmRejectionsByReason[tagOf(error)]?.unsafeUpdate(1, [])
}

/** Metrics, span attributes and the `CallSettled` event of a call that ended. */
const reportSettled = (
  fiber: Fiber.RuntimeFiber<unknown, unknown>,
  request: CompletionRequest,
  agentId: string,
  reservedUsd: number,
  exit: Exit.Exit<Answer, unknown>,
  partial: Usage | undefined,
  attempts: number,
  costUsd: number,
  span: Tracer.Span | undefined
): Effect.Effect<void> | undefined => {
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
  if (Exit.isFailure(exit)) countRejection(Settle.failureOf(exit))
  span?.attribute("fleetguard.attempts", attempts)
  span?.attribute("fleetguard.cost_usd", costUsd)
  return Events.publishFrom(
    fiber,
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
  const { concurrency, policy, retryTokens } = guards
  const ceilingMillis = (attempt: number) =>
    Math.min(policy.maxDelayMillis, policy.baseDelayMillis * 2 ** Math.max(0, attempt - 1))

  return {
    // Before the permit goes back: a 429 closes the gate for everyone for its retry-after (at most
    // maxPause; with none, the backoff ceiling, unjittered: the gate does the spreading); an answer
    // whose headers say a limit is used up closes it until the reset, so the next call waits
    // instead of drawing a 429.
    whileHeld:
      (attempt: number) =>
      (exit: Exit.Exit<Answer, unknown>): Effect.Effect<void> | undefined => {
        if (Exit.isSuccess(exit)) {
          const millis = exit.value.rateLimitResetMillis
          return millis !== undefined && millis > 0 ? concurrency.pauseFor(Duration.millis(millis)) : undefined
        }
        const error = Settle.failureOf(exit)
        return error instanceof RateLimited
          ? concurrency.pauseFor(Duration.millis(askedWait(error) ?? ceilingMillis(attempt)))
          : undefined
      },

    /**
     * Upstream, nothing handed to the caller yet, not billed, and within its limits. A 429 whose
     * wait the gate holds is the gate's to coordinate: it takes no attempt and no retry token (the gate
     * already keeps a storm from multiplying calls: the first call it lets through after reopening
     * draws the next 429 and closes it again), and a call
     * waits out 429s until `maxPause` after its first. Any other failure, a 429 that asked for no
     * wait included, counts toward `maxAttempts` and takes a token. `maxAttempts: 1` retries nothing.
     */
    retryable: (error: unknown, attempt: number, call: RetryState, now: number, received: boolean): boolean => {
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
        if (asked !== undefined && asked > concurrency.maxPauseMillis) return false
        const wait = asked ?? ceilingMillis(attempt)
        if (wait > 0) {
          call.limitedSince ??= now
          return now - call.limitedSince + wait <= concurrency.maxPauseMillis
        }
      }
      call.counted++
      if (call.counted >= policy.maxAttempts) return false
      const [allowed, next] = RetryBudget.onFailure(retryTokens.current)
      retryTokens.current = next
      return allowed
    },

    succeeded: () => {
      retryTokens.current = RetryBudget.onSuccess(retryTokens.current)
    },

    /** The wait before a retry: none after a 429 (the gate waits), else capped exponential with full jitter. */
    backoff: (error: unknown, attempt: number): Effect.Effect<void> =>
      error instanceof RateLimited
        ? Effect.void
        : Effect.flatMap(Random.next, (r) =>
            Effect.sleep(RetryBudget.backoffMillis(attempt, policy.baseDelayMillis, policy.maxDelayMillis, r))
          )
  }
}

/** What a call's retries have used: the attempts that count, and when its first gate-held 429 came. */
interface RetryState {
  /** Attempts that count toward `maxAttempts`: all but the 429s whose wait the gate held. */
  counted: number
  /** The fiber's clock at the call's first 429 whose wait the gate held. */
  limitedSince: number | undefined
}

type Guarded<A> = Effect.Effect<A & { readonly costUsd: number }, AttemptsError>

/** What every call of one client shares. */
interface Shared {
  readonly guards: Guards
  readonly coordination: ReturnType<typeof coordination>
  readonly pricingEngine: PricingFastPath | undefined
}

/**
 * One guarded call's attempts, as an object: its state (attempts made, charged so far, whether the
 * current attempt's request was sent) lives in fields, so that a call allocates one object rather
 * than a closure per step.
 */
class Attempts<A extends Answer> implements RetryState {
  made = 0
  counted = 0
  limitedSince: number | undefined = undefined
  charged = 0
  /** Whether the current attempt's request was sent. */
  started = false
  readonly send: Effect.Effect<A, ProviderError>

  constructor(
    readonly shared: Shared,
    readonly request: CompletionRequest,
    readonly agentId: string,
    readonly span: Tracer.Span | undefined,
    readonly fiber: Fiber.RuntimeFiber<unknown, unknown>,
    readonly estimateUsd: number,
    readonly call: GuardedCall<A>,
    readonly restore: Restore
  ) {
    this.send = Effect.suspend(() => {
      this.started = true
      this.made++
      return call.send
    })
  }

  partial(): Usage | undefined {
    const progress = this.call.progress
    return (
      progress?.usage && Settle.partialUsage(progress.usage, progress.final, progress.bytes, this.request.maxTokens)
    )
  }

  /** What `usage` cost at the request's model, or at `reported` when that is dearer. */
  priced(usage: Usage, reported?: string): Settle.Owed {
    const { pricingEngine, guards } = this.shared
    const asked = this.request.model
    if (pricingEngine !== undefined) {
      const at = (model: string) => pricingEngine.cost(model, usage)
      return Settle.cost(() => (reported === undefined ? at(asked) : Math.max(at(asked), at(reported))))
    }
    const at = (model: string) => Effect.suspend(() => guards.pricing.cost(model, usage))
    return Settle.costEffect(reported === undefined ? at(asked) : Effect.zipWith(at(asked), at(reported), Math.max))
  }

  // What an attempt that ended owes: its usage; a stream's reported usage when it was cut short;
  // everything when text came with no usage, or a request went out and no answer came back.
  owed(exit: Exit.Exit<A, unknown>): Settle.Owed {
    // An answer is priced at the dearer of the model asked for and the model it reports having run.
    if (Exit.isSuccess(exit)) return this.priced(exit.value.usage, Settle.reportedModel(this.request.model, exit.value))
    const usage = this.partial()
    if (usage !== undefined) return this.priced(usage)
    if (this.call.progress?.received === true || Settle.unanswered(Settle.failureOf(exit))) return Settle.full
    return this.started && Settle.cutOff(exit) ? Settle.full : Settle.nothing
  }

  settle(reservation: Reservation, debt: Settle.Owed): Effect.Effect<void> {
    return Effect.map(Settle.settle(this.shared.guards.budget, reservation, debt), (usd) => {
      this.charged += usd
    })
  }

  /** The call ends: its last reservation (if it holds one) settled, the call reported, its exit handed over. */
  end(reservation: Reservation | undefined, exit: Exit.Exit<A, AttemptsError>): Guarded<A> {
    const settled = reservation === undefined ? Effect.void : this.settle(reservation, this.owed(exit))
    return Effect.zipRight(
      settled,
      Effect.suspend(() => {
        const { request, agentId, estimateUsd, made, charged, span, fiber } = this
        const report = reportSettled(fiber, request, agentId, estimateUsd, exit, this.partial(), made, charged, span)
        const result = Exit.isSuccess(exit)
          ? Exit.succeed({ ...exit.value, costUsd: charged })
          : Exit.failCause(exit.cause)
        return report === undefined ? result : Effect.zipRight(report, result)
      })
    )
  }

  attempt(n: number, reservation: Reservation): Guarded<A> {
    this.started = false
    const { guards, coordination } = this.shared
    return permitted(guards, this.fiber, this.restore, this.send, coordination.whileHeld(n), (exit) =>
      this.attempted(n, reservation, exit)
    )
  }

  attempted(n: number, reservation: Reservation, exit: Exit.Exit<A, AttemptsError>): Guarded<A> {
    const { coordination, guards } = this.shared
    if (Exit.isSuccess(exit)) coordination.succeeded()
    const error = Settle.failureOf(exit)
    const received = this.call.progress?.received === true
    if (Exit.isSuccess(exit) || !coordination.retryable(error, n, this, nowOf(this.fiber), received))
      return this.end(reservation, exit)
    Metrics.llmRetries.unsafeUpdate(1, [])
    // A retry after an attempt that owes something: that attempt is charged now, and the retry
    // holds a new reservation of the same estimate (refused whole if it does not fit).
    const debt = this.owed(exit)
    this.started = false
    const renewed =
      debt._tag === "Nothing"
        ? Effect.succeed(reservation)
        : Effect.zipRight(
            this.settle(reservation, debt),
            reserving(guards.budget, this.agentId, this.estimateUsd, Effect.succeed)
          )
    return Effect.matchCauseEffect(renewed, {
      onFailure: (cause) => this.end(undefined, Exit.failCause(cause)),
      onSuccess: (next) =>
        Effect.matchCauseEffect(this.restore(coordination.backoff(error, n)), {
          onFailure: (cause) => this.end(next, Exit.failCause(cause)),
          onSuccess: () => this.attempt(n + 1, next)
        })
    })
  }
}

/**
 * Runs `call`'s attempts for `request`, which is priced at `estimateUsd`, and settles them. Each
 * attempt that owes something (sent with no answer) is charged when it ends, and a retry after it
 * reserves again — refused whole, like any reservation, when the budget cannot cover it.
 */
export const make = (guards: Guards) => {
  const shared: Shared = {
    guards,
    coordination: coordination(guards),
    pricingEngine: fastPathOf<PricingFastPath>(guards.pricing)
  }
  return <A extends Answer>(
    request: CompletionRequest,
    agentId: string,
    span: Tracer.Span | undefined,
    fiber: Fiber.RuntimeFiber<unknown, unknown>,
    estimateUsd: number,
    call: GuardedCall<A>
  ): Guarded<A> =>
    Effect.uninterruptibleMask((restore) => {
      const attempts = new Attempts(shared, request, agentId, span, fiber, estimateUsd, call, restore)
      return reserving(guards.budget, agentId, estimateUsd, (r) => attempts.attempt(1, r), countRejection)
    })
}
