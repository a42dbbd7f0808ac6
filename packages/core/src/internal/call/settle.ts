/**
 * Settlement's rules: what a guarded call that ended owes the ledger, as pure functions from how it
 * ended to an `Owed`, and what an `Owed` charges a reservation. Every caller that settles
 * (`LlmClient`'s attempts, `Guards.wrap`, `Budget.withReservation`) takes its rule from here; the
 * fleet's door (`fleet.ts`) charges it. The ledger may overcount a cost nobody can know; it never
 * undercounts.
 */
import { Cause, type Effect, Exit, Option } from "effect"
import { CircuitOpen, describeValue, ProviderUnavailable } from "../../Errors.js"
import type { Answer, CompletionRequest, GuardedCall, StreamProgress, Usage } from "../../Llm.js"
import { amount } from "../backend/budget.js"
import type { Reservation } from "../policy/ledger.js"

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

/** What usage cost, as an `Owed`: the fleet's prices (`Prices` in fleet.ts) answer it. */
export interface Pricer {
  /** What `usage` cost at `model`, or at `reported` when that is dearer. */
  readonly owed: (model: string, usage: Usage, reported: string | undefined) => Owed
}

export const failureOf = (exit: Exit.Exit<unknown, unknown>): unknown =>
  Exit.isFailure(exit) ? Option.getOrUndefined(Cause.failureOption(exit.cause)) : undefined

export const outcomeOf = (exit: Exit.Exit<unknown, unknown>): "success" | "failure" | "interrupted" =>
  Exit.isSuccess(exit) ? "success" : Cause.isInterruptedOnly(exit.cause) ? "interrupted" : "failure"

/** A call that had started was cut off before it could answer: interrupted, or by a trip. */
export const cutOff = (exit: Exit.Exit<unknown, unknown>): boolean => {
  if (Exit.isSuccess(exit)) return false
  if (Cause.isInterruptedOnly(exit.cause)) return true
  const error = failureOf(exit)
  return error instanceof CircuitOpen && error.interrupted
}

/**
 * Whether a failed provider call may have been billed with no readable answer: an answer that could
 * not be read, or a request that was sent and never answered (timed out, connection dropped). A
 * provider error response (it has a status) and a request that never reached the provider owe nothing.
 */
export const unanswered = (error: unknown): boolean =>
  error instanceof ProviderUnavailable &&
  (error.billed === true || (error.status === undefined && error.sent !== false))

/**
 * What an effect under `Guards.wrap` owes: a success its cost; one cut off after it started
 * everything (the work may have been paid for); anything else that did not succeed nothing.
 */
export const owedForWrapped = <A>(exit: Exit.Exit<A, unknown>, started: boolean, costOf: (a: A) => number): Owed =>
  Exit.isSuccess(exit) ? cost(() => costOf(exit.value)) : started && cutOff(exit) ? full : nothing

/**
 * What an effect under `Budget.withReservation` owes: a success its cost, an interruption the
 * whole reservation (the work may have been paid for), a failure its `failureUsd` (default nothing).
 */
export const owedForReservation = <A>(
  exit: Exit.Exit<A, unknown>,
  costOf: (a: A) => number,
  failureCost: ((cause: Cause.Cause<unknown>) => number) | undefined
): Owed => {
  if (Exit.isSuccess(exit)) return cost(() => costOf(exit.value))
  if (Cause.isInterruptedOnly(exit.cause)) return full
  const { cause } = exit
  return failureCost === undefined ? nothing : cost(() => failureCost(cause))
}

/** One attempt of `LlmClient`, as settlement reads it when it ends. */
export interface Attempt<A extends Answer> {
  readonly request: CompletionRequest
  readonly call: GuardedCall<A>
  /** Whether the attempt's request was sent. */
  readonly started: boolean
}

/**
 * The usage a stream that ended early is charged: what the provider reported. Until its final
 * count arrives, output is bounded by the text bytes received (every token is at least a byte)
 * and by `maxTokens`: an upper bound, so the ledger does not undercount.
 */
export const partialUsage = (reported: Usage, final: boolean, bytesReceived: number, maxTokens: number): Usage =>
  final ? reported : { ...reported, outputTokens: Math.min(maxTokens, Math.max(reported.outputTokens, bytesReceived)) }

/** The usage a streamed attempt reported before it ended (see `partialUsage`); undefined for none. */
export const partialOf = (progress: StreamProgress | undefined, maxTokens: number): Usage | undefined =>
  progress?.usage && partialUsage(progress.usage, progress.final, progress.bytes, maxTokens)

/**
 * What an attempt of `LlmClient` owes: an answer its usage (at the dearer of the model asked for
 * and the model it reports); a stream cut short the usage it reported; everything when text came
 * with no usage, when a request went out and no answer came back, or when it was cut off after it
 * was sent; else nothing.
 */
export const owedForAttempt = <A extends Answer>(
  exit: Exit.Exit<A, unknown>,
  attempt: Attempt<A>,
  prices: Pricer
): Owed => {
  const { model, maxTokens } = attempt.request
  if (Exit.isSuccess(exit)) return prices.owed(model, exit.value.usage, reportedModel(model, exit.value))
  const progress = attempt.call.progress
  const usage = partialOf(progress, maxTokens)
  if (usage !== undefined) return prices.owed(model, usage, undefined)
  if (progress?.received === true || unanswered(failureOf(exit))) return full
  return attempt.started && cutOff(exit) ? full : nothing
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

/** An amount the ledger can hold (USD ≥ 0, below its ceiling), or why not: tokens taken for dollars, say. */
export const holdable = (usd: unknown): number | Cause.Cause<unknown> =>
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

/**
 * What an `Owed` known now charges `reservation` (a `CostEffect` is not known now): the whole
 * reservation, nothing, or a cost the ledger can hold; else why the cost cannot be charged, and
 * the call is charged its whole reservation.
 */
export const chargeNow = (
  reservation: Reservation,
  owed: Exclude<Owed, { readonly _tag: "CostEffect" }>
): number | Cause.Cause<unknown> =>
  owed._tag === "Full" ? reservation.usd : owed._tag === "Nothing" ? 0 : computed(owed.usd)
