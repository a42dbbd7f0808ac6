import { Cause, Effect, Exit } from "effect"
import type { BudgetService, Reservation } from "../Budget.js"
import type { Usage } from "../Llm.js"

/** Commits the whole reservation: what a call whose cost is unknown is charged. */
export const chargeFull = (budget: BudgetService, reservation: Reservation): Effect.Effect<number> =>
  Effect.as(Effect.orDie(budget.commit(reservation, reservation.usd)), reservation.usd)

/**
 * Commits what `cost` says; if it cannot say (it fails, throws or gives a bad amount), commits the
 * full reservation: the ledger may overcount an unknown cost, never undercount it.
 */
export const chargeOrFull = (
  budget: BudgetService,
  reservation: Reservation,
  cost: Effect.Effect<number, unknown>
): Effect.Effect<number> =>
  cost.pipe(
    Effect.flatMap((usd) => Effect.as(budget.commit(reservation, usd), usd)),
    Effect.catchAllCause((cause) =>
      Effect.zipRight(
        Effect.logWarning("fleetguard: cost could not be computed; charged the full reservation", cause),
        chargeFull(budget, reservation)
      )
    )
  )

/** Where a guarded call was when it ended. */
export type Phase = "waiting" | "started" | "answered"

/**
 * Settles a guarded call: a success at its cost; a failure at what the provider reported before it
 * ended (`partialCost`, for a stream cut short); a call whose request was out with no answer
 * (interrupted, or cut off by a trip) at the full reservation; anything else at nothing, since
 * no work was done or the provider answered with an error it does not bill.
 */
export const settleCall = <A, E>(
  budget: BudgetService,
  reservation: Reservation,
  exit: Exit.Exit<A, E>,
  phase: Phase,
  cost: (a: A) => Effect.Effect<number, unknown>,
  partialCost?: Effect.Effect<number, unknown> | undefined
): Effect.Effect<number> =>
  Exit.isSuccess(exit)
    ? chargeOrFull(
        budget,
        reservation,
        Effect.suspend(() => cost(exit.value))
      )
    : partialCost !== undefined
      ? chargeOrFull(budget, reservation, partialCost)
      : phase === "started"
        ? chargeFull(budget, reservation)
        : Effect.as(budget.release(reservation), 0)

/**
 * The usage a stream that ended early is charged: what the provider reported. Until its final
 * count arrives, output is bounded by the text bytes received (every token is at least a byte)
 * and by `maxTokens`: an upper bound, so the ledger does not undercount.
 */
export const partialUsage = (reported: Usage, final: boolean, bytesReceived: number, maxTokens: number): Usage =>
  final ? reported : { ...reported, outputTokens: Math.min(maxTokens, Math.max(reported.outputTokens, bytesReceived)) }

export const outcomeOf = (exit: Exit.Exit<unknown, unknown>): "success" | "failure" | "interrupted" =>
  Exit.isSuccess(exit) ? "success" : Cause.isInterruptedOnly(exit.cause) ? "interrupted" : "failure"

/** Tracks a call's phase: "started" once it runs, "answered" once it ends other than by interruption. */
export const phased = <A, E, R>(self: Effect.Effect<A, E, R>, phase: { current: Phase }): Effect.Effect<A, E, R> =>
  Effect.suspend(() => {
    phase.current = "started"
    return self
  }).pipe(
    Effect.onExit((exit) =>
      Effect.sync(() => {
        if (outcomeOf(exit) !== "interrupted") phase.current = "answered"
      })
    )
  )
