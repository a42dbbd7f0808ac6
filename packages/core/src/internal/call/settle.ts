/**
 * Settlement: what a guarded call that ended owes the ledger, decided by pure rules, and the one
 * place that charges it. The ledger may overcount a cost nobody can know; it never undercounts.
 */
import { Cause, Effect, Exit, Option } from "effect"
import { CircuitOpen, describeValue, type InvalidAmount, ProviderUnavailable } from "../../Errors.js"
import type { Answer, Usage } from "../../Llm.js"
import { amount } from "../backend/budget.js"
import { type BudgetFastPath, fastPathOf } from "../backend/fastPath.js"
import type { Reservation } from "../policy/ledger.js"

/** What settlement needs of a ledger (`Budget` is one). */
export interface Ledger {
  readonly commit: (reservation: Reservation, usd: number) => Effect.Effect<void, InvalidAmount>
  readonly release: (reservation: Reservation) => Effect.Effect<void, InvalidAmount>
}

/**
 * What a call owes: a cost computed now (a function that may throw) or by an effect, its whole
 * reservation, or nothing.
 */
export type Owed =
  | { readonly _tag: "Cost"; readonly usd: () => number }
  | { readonly _tag: "CostEffect"; readonly usd: Effect.Effect<number, unknown> }
  | { readonly _tag: "Full" }
  | { readonly _tag: "Nothing" }

export const full: Owed = { _tag: "Full" }
export const nothing: Owed = { _tag: "Nothing" }
export const cost = (usd: () => number): Owed => ({ _tag: "Cost", usd })
export const costEffect = (usd: Effect.Effect<number, unknown>): Owed => ({ _tag: "CostEffect", usd })

export const failureOf = (exit: Exit.Exit<unknown, unknown>): unknown =>
  Exit.isFailure(exit) ? Option.getOrUndefined(Cause.failureOption(exit.cause)) : undefined

/** A call that had started was cut off before it could answer: interrupted, or by a trip. */
export const cutOff = (exit: Exit.Exit<unknown, unknown>): boolean => {
  if (Exit.isSuccess(exit)) return false
  if (Cause.isInterruptedOnly(exit.cause)) return true
  const error = failureOf(exit)
  return error instanceof CircuitOpen && error.interrupted
}

/**
 * What a call owes for how it ended, when its success has a cost: one cut off after it started
 * owes everything (the work may have been paid for), anything else that did not succeed nothing.
 */
export const owedOnExit = <A>(exit: Exit.Exit<A, unknown>, started: boolean, costOf: (a: A) => Owed): Owed =>
  Exit.isSuccess(exit) ? costOf(exit.value) : started && cutOff(exit) ? full : nothing

/**
 * Whether a failed provider call may have been billed with no readable answer: an answer that could
 * not be read, or a request that was sent and never answered (timed out, connection dropped). A
 * provider error response (it has a status) and a request that never reached the provider owe nothing.
 */
export const unanswered = (error: unknown): boolean =>
  error instanceof ProviderUnavailable &&
  (error.billed === true || (error.status === undefined && error.sent !== false))

/** An amount the ledger can hold (USD ≥ 0, below its ceiling), or why not: tokens taken for dollars, say. */
const holdable = (usd: unknown): number | Cause.Cause<unknown> =>
  amount(usd) === undefined
    ? Cause.fail(`not an amount of USD the ledger can hold: ${describeValue(usd)}`)
    : (usd as number)

/** A cost computed now, when the ledger can hold it; else why not (it threw, or gave something else). */
const computed = (usd: () => number): number | Cause.Cause<unknown> => {
  try {
    return holdable(usd())
  } catch (error) {
    return Cause.die(error)
  }
}

/** Commits the whole reservation: what a call whose cost is unknown is charged. */
const chargeFull = (budget: Ledger, reservation: Reservation): Effect.Effect<number> =>
  Effect.as(Effect.orDie(budget.commit(reservation, reservation.usd)), reservation.usd)

const uncomputable = (budget: Ledger, reservation: Reservation, cause: Cause.Cause<unknown>) =>
  Effect.zipRight(
    Effect.logWarning("fleetguard: cost could not be computed; charged the full reservation", cause),
    chargeFull(budget, reservation)
  )

/** Commits `usd` when the ledger can hold it, else the whole reservation. */
const commitOrFull = (budget: Ledger, reservation: Reservation, usd: number | Cause.Cause<unknown>) =>
  typeof usd === "number"
    ? Effect.as(Effect.orDie(budget.commit(reservation, usd)), usd)
    : uncomputable(budget, reservation, usd)

/** Settles through the ledger's effects: any ledger, and the in-memory one when it has events to publish. */
const settleThrough = (budget: Ledger, reservation: Reservation, owed: Owed): Effect.Effect<number> => {
  switch (owed._tag) {
    case "Cost":
      return Effect.suspend(() => commitOrFull(budget, reservation, computed(owed.usd)))
    case "CostEffect":
      return owed.usd.pipe(
        Effect.matchCauseEffect({
          onFailure: (cause) => uncomputable(budget, reservation, cause),
          onSuccess: (usd) => commitOrFull(budget, reservation, holdable(usd))
        })
      )
    case "Full":
      return chargeFull(budget, reservation)
    case "Nothing":
      return Effect.as(Effect.orDie(budget.release(reservation)), 0)
  }
}

/**
 * Settles `reservation` at what is owed; answers what was charged. The in-memory ledger settles
 * in the same step when the cost is known now; a cost that cannot be computed or held (it throws,
 * it is not an amount of USD ≥ 0, it is past the ledger's ceiling) is charged as the full
 * reservation: the ledger may overcount, never undercount.
 */
export const settle = (budget: Ledger, reservation: Reservation, owed: Owed): Effect.Effect<number> => {
  const engine = fastPathOf<BudgetFastPath>(budget)
  if (engine === undefined || owed._tag === "CostEffect") return settleThrough(budget, reservation, owed)
  const usd = owed._tag === "Full" ? reservation.usd : owed._tag === "Nothing" ? 0 : computed(owed.usd)
  if (typeof usd !== "number") return uncomputable(budget, reservation, usd)
  const report = engine.settle(reservation, usd)
  return report === undefined ? Effect.succeed(usd) : Effect.as(report, usd)
}

/**
 * The model an answer reports having run (`reportedModel`, else a provider completion's `model`)
 * when it is not the one asked for. The answer is charged the dearer of the two, so that neither a
 * model the provider substituted nor a misreport can undercount; a reported model with no price
 * makes the cost uncomputable, and the call is charged its full reservation.
 */
export const reportedModel = (asked: string, answer: Answer): string | undefined => {
  const reported = answer.reportedModel ?? (answer as { readonly model?: unknown }).model
  return typeof reported === "string" && reported !== asked ? reported : undefined
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
