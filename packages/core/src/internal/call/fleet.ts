/**
 * The fleet's door: the one place a guarded call meets the guard services, and the one place that
 * asks them for their fast path (`fastPathOf`). Built once over a set of services, it answers the
 * call flow's operations — the depth check, reserve, pass (gate → permit → breaker → the call),
 * settle, estimate and cost — through each service's fast path when it has one and the step can
 * be taken synchronously, else through its methods. Both ways behave the same (the client suites
 * run over `methodsOnly` services to hold them equal); only the number of interpreter steps
 * differs. A rate limit is shown to the breaker as a defect, which no breaker counts: the gate
 * owns rate limits, whatever the breaker's `isFailure`.
 */
import { Cause, Duration, Effect, Exit, type Fiber, Option } from "effect"
import type { CircuitBreakerService } from "../../CircuitBreaker.js"
import type { ConcurrencyService } from "../../Concurrency.js"
import { currentDepth, type DepthService } from "../../Depth.js"
import {
  type BudgetExceeded,
  type CircuitOpen,
  type DepthLimitExceeded,
  type GuardUnavailable,
  type InvalidAmount,
  type InvalidRequest,
  isRateLimit,
  type UnknownModel
} from "../../Errors.js"
import type { Answer, CompletionRequest, Usage } from "../../Llm.js"
import type { PricingService } from "../../Pricing.js"
import {
  type BreakerFastPath,
  type BudgetFastPath,
  type ConcurrencyFastPath,
  fastPathOf,
  type PricingFastPath
} from "../backend/fastPath.js"
import type { Ticket } from "../policy/breaker.js"
import type { Reservation } from "../policy/ledger.js"
import type { Restore } from "../runtime/fiber.js"
import { gatePause } from "./coordination.js"
import * as Settle from "./settle.js"

type AnyFiber = Fiber.RuntimeFiber<unknown, unknown>

export type ReserveError = BudgetExceeded | InvalidAmount | GuardUnavailable

/** How a pass through the gate, a permit and the breaker may be refused. */
export type PassError = CircuitOpen | GuardUnavailable

/** What the door needs of a budget (`Budget` is one). */
export interface Ledger {
  readonly reserve: (agentId: string, usd: number) => Effect.Effect<Reservation, ReserveError>
  readonly commit: (reservation: Reservation, usd: number) => Effect.Effect<void, InvalidAmount>
  readonly release: (reservation: Reservation) => Effect.Effect<void, InvalidAmount>
}

/** A budget's door: reservations taken and settled, in one step through its fast path when it has one. */
export class Reservations {
  private readonly quick: BudgetFastPath | undefined

  constructor(readonly budget: Ledger) {
    this.quick = fastPathOf<BudgetFastPath>(budget)
  }

  /** A reservation of `usd` for `agentId`, or its refusal. Hold it where interruption is masked. */
  reserve(agentId: string, usd: number): Effect.Effect<Reservation, ReserveError> {
    const reservation = this.quick?.tryReserve(agentId, usd)
    return reservation === undefined ? this.budget.reserve(agentId, usd) : Exit.succeed(reservation)
  }

  /**
   * Settles `reservation` at what is owed; answers what was charged. A cost that cannot be computed
   * or held (it throws, it is not an amount of USD ≥ 0, it is past the ledger's ceiling) is charged
   * as the full reservation: the ledger may overcount, never undercount.
   */
  settle(reservation: Reservation, owed: Settle.Owed): Effect.Effect<number> {
    if (owed._tag !== "CostEffect")
      return this.charge(reservation, Settle.chargeNow(reservation, owed), owed._tag === "Nothing")
    return Effect.matchCauseEffect(owed.usd, {
      onFailure: (cause) => this.charge(reservation, cause, false),
      onSuccess: (usd) => this.charge(reservation, Settle.holdable(usd), false)
    })
  }

  /** Charges `usd` (a release, when nothing was owed), or the whole reservation with a warning when it is no amount. */
  private charge(
    reservation: Reservation,
    usd: number | Cause.Cause<unknown>,
    release: boolean
  ): Effect.Effect<number> {
    if (typeof usd !== "number")
      return Effect.zipRight(
        Effect.logWarning("fleetguard: cost could not be computed; charged the full reservation", usd),
        this.charge(reservation, reservation.usd, false)
      )
    if (this.quick !== undefined) {
      const report = this.quick.settle(reservation, usd)
      return report === undefined ? Exit.succeed(usd) : Effect.as(report, usd)
    }
    return release
      ? Effect.as(Effect.orDie(this.budget.release(reservation)), 0)
      : Effect.as(Effect.orDie(this.budget.commit(reservation, usd)), usd)
  }
}

/** A rate-limited exit on its way through the breaker, carried whole, to be given back after it. */
class Concealed {
  constructor(readonly exit: Exit.Exit<unknown, unknown>) {}
}

/**
 * The exit as a breaker is to see it: a rate limit as a defect — every breaker ignores defects
 * (neither a failure nor a success: a half-open probe that drew a 429 proves nothing) — anything
 * else as it is.
 */
const concealed = <A, E>(exit: Exit.Exit<A, E>): Exit.Exit<A, E> =>
  Exit.isFailure(exit) && Option.exists(Cause.failureOption(exit.cause), isRateLimit)
    ? Exit.die(new Concealed(exit))
    : exit

/** The exit as it was before `concealed`. */
const revealed = <A, E>(exit: Exit.Exit<A, E>): Exit.Exit<A, E> => {
  if (Exit.isSuccess(exit)) return exit
  const defect = Option.getOrUndefined(Cause.dieOption(exit.cause))
  return defect instanceof Concealed ? (defect.exit as Exit.Exit<A, E>) : exit
}

/**
 * The guards every guarded call passes — depth, budget, the gate with its permits, the breaker —
 * behind one door.
 */
export class Fleet extends Reservations {
  private readonly permits: ConcurrencyFastPath | undefined
  private readonly admission: BreakerFastPath | undefined

  constructor(
    budget: Ledger,
    readonly concurrency: ConcurrencyService,
    readonly breaker: CircuitBreakerService,
    readonly depth: DepthService
  ) {
    super(budget)
    this.permits = fastPathOf<ConcurrencyFastPath>(concurrency)
    this.admission = fastPathOf<BreakerFastPath>(breaker)
  }

  /**
   * `self`, unless `fiber` already runs at `maxDepth`: then the depth's check first, which refuses
   * it (`refused` sees the refusal). The depth is read from the fiber, so a call below the limit
   * costs no step.
   */
  withinDepth<A, E, R>(
    fiber: AnyFiber,
    self: Effect.Effect<A, E, R>,
    refused?: (error: DepthLimitExceeded) => void
  ): Effect.Effect<A, E | DepthLimitExceeded, R> {
    if (fiber.getFiberRef(currentDepth) < this.depth.maxDepth) return self
    const check =
      refused === undefined ? this.depth.check : Effect.tapError(this.depth.check, (e) => Effect.sync(() => refused(e)))
    return Effect.zipRight(check, self)
  }

  /**
   * `self` run past the gate, holding a permit and admitted by the breaker; answers how it ended
   * (or the refusal), once the permit is given back. With `ceilingMillis` (an `LlmClient` attempt,
   * whose `self` answers an `Answer`), a rate limit closes the gate (`gatePause`) before its permit
   * goes back. Call it where interruption is masked: `restore` lifts the mask for `self` only.
   */
  pass<A, E, R>(
    fiber: AnyFiber,
    restore: Restore,
    self: Effect.Effect<A, E, R>,
    ceilingMillis: number | undefined
  ): Effect.Effect<Exit.Exit<A, E | PassError>, never, R> {
    const { permits, admission } = this
    if (permits !== undefined && admission !== undefined && permits.tryAcquire()) {
      const ticket = admission.tryAdmit(fiber)
      if (ticket !== undefined)
        return Effect.flatMap(Effect.exit(restore(admission.run(fiber, self))), (exit) =>
          this.leave(fiber, permits, admission, ticket, exit, ceilingMillis)
        )
      permits.release()
    }
    const admitted = Effect.flatMap(
      Effect.exit(this.breaker.protect(Effect.flatMap(Effect.exit(self), concealed))),
      revealed
    )
    const held =
      ceilingMillis === undefined
        ? admitted
        : Effect.onExit(admitted, (exit) => this.pauseWhileHeld(exit, ceilingMillis) ?? Effect.void)
    return Effect.exit(restore(this.concurrency.withPermit(held)))
  }

  /** The fast pass ends: the breaker told, the gate closed if the exit says so, then the permit given back. */
  private leave<A, E>(
    fiber: AnyFiber,
    permits: ConcurrencyFastPath,
    admission: BreakerFastPath,
    ticket: Ticket,
    exit: Exit.Exit<A, E | PassError>,
    ceilingMillis: number | undefined
  ): Effect.Effect<Exit.Exit<A, E | PassError>> {
    const report = admission.end(ticket, concealed(exit), fiber)
    const pause = ceilingMillis === undefined ? undefined : this.pauseWhileHeld(exit, ceilingMillis)
    if (report === undefined && pause === undefined) {
      permits.release()
      return Exit.succeed(exit)
    }
    return Effect.zipRight(
      Effect.zipRight(report ?? Effect.void, pause ?? Effect.void),
      Effect.sync(() => {
        permits.release()
        return exit
      })
    )
  }

  private pauseWhileHeld(exit: Exit.Exit<unknown, unknown>, ceilingMillis: number): Effect.Effect<void> | undefined {
    // Only an `LlmClient` attempt passes a ceiling, and its exit is an `Answer`'s.
    const millis = gatePause(exit as Exit.Exit<Answer, unknown>, ceilingMillis)
    return millis === undefined ? undefined : this.concurrency.pauseFor(Duration.millis(millis))
  }
}

/** The fleet's prices: a request's estimate and a usage's cost, in one step through the fast path when there is one. */
export class Prices implements Settle.Pricer {
  private readonly quick: PricingFastPath | undefined

  constructor(readonly pricing: PricingService) {
    this.quick = fastPathOf<PricingFastPath>(pricing)
  }

  /** An upper bound on what `request` can cost. */
  estimate(request: CompletionRequest): Effect.Effect<number, UnknownModel | InvalidAmount | InvalidRequest> {
    const usd = this.quick?.estimate(request)
    return usd === undefined ? this.pricing.estimate(request) : Exit.succeed(usd)
  }

  owed(model: string, usage: Usage, reported: string | undefined): Settle.Owed {
    const quick = this.quick
    if (quick !== undefined) {
      const at = (m: string) => quick.cost(m, usage)
      return Settle.cost(() => (reported === undefined ? at(model) : Math.max(at(model), at(reported))))
    }
    const at = (m: string) => Effect.suspend(() => this.pricing.cost(m, usage))
    return Settle.costEffect(reported === undefined ? at(model) : Effect.zipWith(at(model), at(reported), Math.max))
  }
}
