/**
 * Settlement: what a guarded call that ended owes the ledger, decided by pure rules, and the one
 * place that charges it. The ledger may overcount a cost nobody can know; it never undercounts.
 */
import { Cause, Effect, Exit, Option } from "effect"
import { ProviderUnavailable } from "../Errors.js"
import type { Usage } from "../Llm.js"

/** A held amount: what `Budget.reserve` gives. */
export interface Hold {
  readonly usd: number
}

/** What settlement needs of a ledger (`Budget` is one). */
export interface Ledger<H extends Hold> {
  readonly commit: (hold: H, usd: number) => Effect.Effect<void, unknown>
  readonly release: (hold: H) => Effect.Effect<void>
}

/** Where a guarded call was when it ended. */
export type Phase = "waiting" | "started" | "answered"

/** What a call owes: a cost to compute, its whole reservation, or nothing. */
export type Owed =
  | { readonly _tag: "Cost"; readonly usd: Effect.Effect<number, unknown> }
  | { readonly _tag: "Full" }
  | { readonly _tag: "Nothing" }

export const full: Owed = { _tag: "Full" }
export const nothing: Owed = { _tag: "Nothing" }
export const cost = (usd: Effect.Effect<number, unknown>): Owed => ({ _tag: "Cost", usd })

/**
 * What a call owes for how it ended, when its success has a cost: an interruption after it started
 * owes everything (the work may have been paid for), anything else that did not succeed nothing.
 */
export const owedOnExit = <A>(exit: Exit.Exit<A, unknown>, phase: Phase, costOf: (a: A) => Owed): Owed =>
  Exit.isSuccess(exit) ? costOf(exit.value) : phase === "started" ? full : nothing

/**
 * Whether a failed provider call may have been billed with no readable answer: an answer that could
 * not be read, or a request that was sent and never answered (timed out, connection dropped). A
 * provider error response (it has a status) and a request that never reached the provider owe nothing.
 */
export const unanswered = (error: unknown): boolean =>
  error instanceof ProviderUnavailable &&
  (error.billed === true || (error.status === undefined && error.sent !== false))

export const failureOf = (exit: Exit.Exit<unknown, unknown>): unknown =>
  Exit.isFailure(exit) ? Option.getOrUndefined(Cause.failureOption(exit.cause)) : undefined

/** Commits the whole reservation: what a call whose cost is unknown is charged. */
export const chargeFull = <H extends Hold>(budget: Ledger<H>, reservation: H): Effect.Effect<number> =>
  Effect.as(Effect.orDie(budget.commit(reservation, reservation.usd)), reservation.usd)

/**
 * Commits what `cost` says; if it cannot say (it fails, throws or gives a bad amount), commits the
 * full reservation: the ledger may overcount an unknown cost, never undercount it.
 */
export const chargeOrFull = <H extends Hold>(
  budget: Ledger<H>,
  reservation: H,
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

/** Settles `reservation` at what is owed; answers what was charged. */
export const settle = <H extends Hold>(budget: Ledger<H>, reservation: H, owed: Owed): Effect.Effect<number> => {
  switch (owed._tag) {
    case "Cost":
      return chargeOrFull(budget, reservation, owed.usd)
    case "Full":
      return chargeFull(budget, reservation)
    case "Nothing":
      return Effect.as(budget.release(reservation), 0)
  }
}

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
