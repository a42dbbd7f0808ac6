/**
 * One call through the gate, a permit and the breaker, in as few interpreter steps as the guards
 * allow: with in-memory guards the permit and the admission are taken in one step and given back
 * in the one continuation that also hands over the exit; other guards are used through their
 * methods (`withPermit(protect(self))`). Either way a rate limit is shown to the breaker as a
 * defect, which no breaker counts: the gate owns rate limits, whatever the breaker's `isFailure`.
 */
import { Cause, Effect, Exit, type Fiber, Option } from "effect"
import type { BudgetService } from "../../Budget.js"
import type { CircuitBreakerService } from "../../CircuitBreaker.js"
import type { ConcurrencyService } from "../../Concurrency.js"
import {
  type BudgetExceeded,
  type CircuitOpen,
  type GuardUnavailable,
  type InvalidAmount,
  isRateLimit
} from "../../Errors.js"
import { type BreakerFastPath, type BudgetFastPath, type ConcurrencyFastPath, fastPathOf } from "../backend/fastPath.js"
import type { Reservation } from "../policy/ledger.js"

type Restore = <X, Y, Z>(effect: Effect.Effect<X, Y, Z>) => Effect.Effect<X, Y, Z>

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

/** `self` through `breaker.protect`, its rate limits concealed from the breaker. */
const protectedFrom = <A, E, R>(breaker: CircuitBreakerService, self: Effect.Effect<A, E, R>) =>
  Effect.flatMap(Effect.exit(breaker.protect(Effect.flatMap(Effect.exit(self), concealed))), revealed)

export interface Gates {
  readonly concurrency: ConcurrencyService
  readonly breaker: CircuitBreakerService
}

/**
 * Runs `self` holding a permit and admitted by the breaker, then `after` with its exit. Call it
 * where interruption is masked (`restore` lifts the mask for `self` only). `whileHeld`, if given,
 * runs before the permit goes back (a 429 closes the gate before its permit is released).
 */
export const permitted = <A, E, R, B, E2, R2>(
  gates: Gates,
  fiber: Fiber.RuntimeFiber<unknown, unknown>,
  restore: Restore,
  self: Effect.Effect<A, E, R>,
  whileHeld: (exit: Exit.Exit<A, E | CircuitOpen | GuardUnavailable>) => Effect.Effect<void> | undefined,
  after: (exit: Exit.Exit<A, E | CircuitOpen | GuardUnavailable>) => Effect.Effect<B, E2, R2>
): Effect.Effect<B, E2, R | R2> => {
  const permits = fastPathOf<ConcurrencyFastPath>(gates.concurrency)
  const breaker = fastPathOf<BreakerFastPath>(gates.breaker)
  if (permits !== undefined && breaker !== undefined && permits.tryAcquire()) {
    const ticket = breaker.tryAdmit(fiber)
    if (ticket !== undefined) {
      return Effect.flatMap(Effect.exit(restore(breaker.run(fiber, self))), (exit) => {
        const report = breaker.end(ticket, concealed(exit), fiber)
        const pause = whileHeld(exit)
        if (report === undefined && pause === undefined) {
          permits.release()
          return after(exit)
        }
        return Effect.zipRight(
          Effect.zipRight(report ?? Effect.void, pause ?? Effect.void),
          Effect.suspend(() => {
            permits.release()
            return after(exit)
          })
        )
      })
    }
    permits.release()
  }
  const guarded = gates.concurrency.withPermit(
    Effect.onExit(protectedFrom(gates.breaker, self), (exit) => whileHeld(exit) ?? Effect.void)
  )
  return Effect.flatMap(Effect.exit(restore(guarded)), after)
}

/**
 * `then` with a reservation of `usd` for `agentId`, taken in the same step from an in-memory
 * ledger when that needs no event. Call it where interruption is masked, so that the reservation
 * is always settled.
 */
export const reserving = <B, E, R>(
  budget: BudgetService,
  agentId: string,
  usd: number,
  then: (reservation: Reservation) => Effect.Effect<B, E, R>,
  refused: (error: BudgetExceeded | InvalidAmount | GuardUnavailable) => void = () => undefined
): Effect.Effect<B, E | BudgetExceeded | InvalidAmount | GuardUnavailable, R> => {
  const reservation = fastPathOf<BudgetFastPath>(budget)?.tryReserve(agentId, usd)
  if (reservation !== undefined) return then(reservation)
  return Effect.flatMap(
    Effect.tapError(budget.reserve(agentId, usd), (error) => Effect.sync(() => refused(error))),
    then
  )
}
