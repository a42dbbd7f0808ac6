/**
 * The attempts of one guarded call, top to bottom: a reservation of the estimate (`Fleet.reserve`),
 * then attempts, each through the gate, a permit and the breaker (`Fleet.pass`), which answers how
 * it ended; a failure from upstream is retried by the client's `Coordination`; what each attempt
 * owes is settlement's rule (`settle.ts`), charged through the fleet; the call is reported once,
 * when it ends (`report.ts`). Interruption is masked but where the call waits or sends, so
 * whatever happens every reservation is settled and every permit given back.
 */
import type { Fiber, Tracer } from "effect"
import { Effect, Exit } from "effect"
import type { BudgetExceeded, CircuitOpen, GuardUnavailable, InvalidAmount, ProviderError } from "../../Errors.js"
import type { Answer, CompletionRequest, GuardedCall } from "../../Llm.js"
import * as Metrics from "../../Metrics.js"
import type { Reservation } from "../policy/ledger.js"
import { matchNow, nowOf, type Restore } from "../runtime/fiber.js"
import type { Coordination, RetryState } from "./coordination.js"
import type { Fleet, Prices } from "./fleet.js"
import * as Report from "./report.js"
import * as Settle from "./settle.js"

export type AttemptsError = ProviderError | CircuitOpen | BudgetExceeded | InvalidAmount | GuardUnavailable

type Guarded<A> = Effect.Effect<A & { readonly costUsd: number }, AttemptsError>

/** What every call of one client shares. */
export interface Shared {
  readonly fleet: Fleet
  readonly prices: Prices
  readonly coordination: Coordination
}

/**
 * One guarded call's attempts, as an object: its state (attempts made, charged so far, whether the
 * current attempt's request was sent) lives in fields, so that a call allocates one object rather
 * than a closure per step.
 */
class Attempts<A extends Answer> implements RetryState, Settle.Attempt<A>, Report.Settled {
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

  get model(): string {
    return this.request.model
  }

  /** The first attempt, holding the call's first reservation; a refused reservation is counted. */
  first(): Guarded<A> {
    return matchNow(this.shared.fleet.reserve(this.agentId, this.estimateUsd), Report.refused, (reservation) =>
      this.attempt(1, reservation)
    )
  }

  /** Attempt `n`, holding `reservation`: past the gate, a permit and the breaker. */
  attempt(n: number, reservation: Reservation): Guarded<A> {
    this.started = false
    const { fleet, coordination } = this.shared
    return Effect.flatMap(fleet.pass(this.fiber, this.restore, this.send, coordination.ceilingMillis(n)), (exit) =>
      this.attempted(n, reservation, exit)
    )
  }

  /** Attempt `n` ended: the call ends, or the attempt is settled and the next one waits its backoff. */
  attempted(n: number, reservation: Reservation, exit: Exit.Exit<A, AttemptsError>): Guarded<A> {
    const { coordination, fleet } = this.shared
    if (Exit.isSuccess(exit)) coordination.succeeded()
    const error = Settle.failureOf(exit)
    const received = this.call.progress?.received === true
    if (Exit.isSuccess(exit) || !coordination.retryable(error, n, this, nowOf(this.fiber), received))
      return this.end(reservation, exit)
    Metrics.llmRetries.unsafeUpdate(1, [])
    // A retry after an attempt that owes something: that attempt is charged now, and the retry
    // holds a new reservation of the same estimate (refused whole if it does not fit).
    const debt = Settle.owedForAttempt(exit, this, this.shared.prices)
    this.started = false
    const renewed =
      debt._tag === "Nothing"
        ? Exit.succeed(reservation)
        : Effect.zipRight(this.settle(reservation, debt), fleet.reserve(this.agentId, this.estimateUsd))
    return Effect.matchCauseEffect(renewed, {
      onFailure: (cause) => this.end(undefined, Exit.failCause(cause)),
      onSuccess: (next) =>
        Effect.matchCauseEffect(this.restore(coordination.backoff(error, n)), {
          onFailure: (cause) => this.end(next, Exit.failCause(cause)),
          onSuccess: () => this.attempt(n + 1, next)
        })
    })
  }

  settle(reservation: Reservation, owed: Settle.Owed): Effect.Effect<void> {
    return Effect.map(this.shared.fleet.settle(reservation, owed), (usd) => {
      this.charged += usd
    })
  }

  /** The call ends: its last reservation (if it holds one) settled, the call reported, its exit handed over. */
  end(reservation: Reservation | undefined, exit: Exit.Exit<A, AttemptsError>): Guarded<A> {
    const settled =
      reservation === undefined
        ? Effect.void
        : this.settle(reservation, Settle.owedForAttempt(exit, this, this.shared.prices))
    return Effect.zipRight(
      settled,
      Effect.suspend(() => {
        if (Exit.isFailure(exit)) Report.countRejection(Settle.failureOf(exit))
        const usage = Exit.isSuccess(exit)
          ? exit.value.usage
          : Settle.partialOf(this.call.progress, this.request.maxTokens)
        const report = Report.settled(this, exit, usage)
        const result = Exit.isSuccess(exit)
          ? Exit.succeed({ ...exit.value, costUsd: this.charged })
          : Exit.failCause(exit.cause)
        return report === undefined ? result : Effect.zipRight(report, result)
      })
    )
  }
}

/**
 * Runs `call`'s attempts for `request`, which is priced at `estimateUsd`, and settles them. Each
 * attempt that owes something (sent with no answer) is charged when it ends, and a retry after it
 * reserves again — refused whole, like any reservation, when the budget cannot cover it.
 */
export const make =
  (shared: Shared) =>
  <A extends Answer>(
    request: CompletionRequest,
    agentId: string,
    span: Tracer.Span | undefined,
    fiber: Fiber.RuntimeFiber<unknown, unknown>,
    estimateUsd: number,
    call: GuardedCall<A>
  ): Guarded<A> =>
    Effect.uninterruptibleMask((restore) =>
      new Attempts(shared, request, agentId, span, fiber, estimateUsd, call, restore).first()
    )
