/**
 * The in-memory Budget: the ledger's `Book` behind the service's methods, its fast path, and the
 * backend's reports. The hot path is one synchronous validation and one step of the ledger;
 * effects are built only for what is rare.
 */
import { Effect } from "effect"
import type { BudgetExceeded, InvalidAmount } from "../../Errors.js"
import * as Backend from "../backend/budget.js"
import { type BudgetFastPath, withFastPath } from "../backend/fastPath.js"
import * as Ledger from "../policy/ledger.js"

interface Issued extends Ledger.Reservation {
  readonly [Backend.issuer]: object
}

/**
 * How one ledger marks the reservations it issues, and tells them from anything else: by an
 * object of its own, compared by identity (unique even with two copies of this module loaded).
 */
const marks = () => {
  const ledger = {}
  const issue = (id: number, agentId: string, nanos: number): Issued => ({
    id,
    agentId,
    usd: Ledger.toUsd(nanos),
    [Backend.issuer]: ledger
  })
  /** The id of a reservation this ledger made, or why `value` is not one. */
  const issuedId = (value: unknown): number | InvalidAmount => {
    const fields = Backend.fieldsOf(value)
    if (fields === undefined) return Backend.notAReservation(value)
    return fields.issuer === ledger ? fields.id : Backend.notIssued(value)
  }
  return { issue, issuedId }
}

const snapshotOf = (book: Ledger.Book, { limitUsd, perAgentLimitUsd, alertAt }: Backend.Limits) => ({
  limitUsd,
  perAgentLimitUsd,
  alertAt,
  spentUsd: Ledger.toUsd(book.fleet.spent),
  reservedUsd: Ledger.toUsd(book.fleet.reserved),
  agents: Object.fromEntries(
    Array.from(book.accounts, ([id, a]) => [
      id,
      { spentUsd: Ledger.toUsd(a.spent), reservedUsd: Ledger.toUsd(a.reserved) }
    ])
  )
})

const totalsOf = (book: Ledger.Book): Backend.Totals => ({
  spentNanos: book.fleet.spent,
  reservedNanos: book.fleet.reserved
})

/** Settles hold `id` at `nanos` now; what is left to publish (the alert, an estimate exceeded), if anything. */
const settling =
  (book: Ledger.Book, reports: Backend.Reports) =>
  (id: number, nanos: number): Effect.Effect<void> | undefined => {
    const result = book.settle(id, nanos)
    if (result._tag === "AlreadySettled") return undefined
    return reports.settled({
      agentId: result.hold.agentId,
      heldNanos: result.hold.amount,
      chargedNanos: nanos,
      crossed: result.crossedAlert ? totalsOf(book) : undefined
    })
  }

/** The service over a fresh ledger with these limits. */
export const make = (limits: Backend.Limits) => {
  const { limitUsd, perAgentLimitUsd, alertAt } = limits
  // Changed only by the ledger's pure steps, each in one synchronous call: atomic, as a
  // Ref.modify would be, without an interpreter step of its own on every call.
  const book = new Ledger.Book(Ledger.toNanos(limitUsd) ?? 0, Ledger.toNanos(perAgentLimitUsd) ?? 0, alertAt)
  const reports = Backend.reports(limits)
  const { issue, issuedId } = marks()

  const totals = () => totalsOf(book)

  const reserve = (agentId: string, usd: number): Effect.Effect<Ledger.Reservation, BudgetExceeded | InvalidAmount> =>
    Effect.suspend((): Effect.Effect<Ledger.Reservation, BudgetExceeded | InvalidAmount> => {
      const nanos = Backend.amount(usd)
      if (nanos === undefined) return Effect.fail(Backend.invalidAmount("usd", usd))
      if (typeof agentId !== "string") return Effect.fail(Backend.invalidAgentId(agentId))
      const [result, id] = book.reserve(agentId, nanos)
      if (result._tag === "Refused")
        return reports.refused(agentId, usd, {
          scope: result.scope,
          remainingNanos: result.remaining,
          limitNanos: result.limit,
          exhausted: result.firstExhaustion ? totals() : undefined
        })
      const reservation = issue(id, agentId, nanos)
      return result.crossedAlert ? Effect.as(reports.crossed(totals()), reservation) : Effect.succeed(reservation)
    })

  const settleNow = settling(book, reports)

  const settle = (id: number, nanos: number): Effect.Effect<void> =>
    Effect.suspend(() => settleNow(id, nanos) ?? Effect.void)

  const fastPath: BudgetFastPath = {
    tryReserve: (agentId, usd) => {
      const nanos = Backend.amount(usd)
      if (nanos === undefined || typeof agentId !== "string") return undefined
      const id = book.reserveQuietly(agentId, nanos)
      return id === undefined ? undefined : issue(id, agentId, nanos)
    },
    // Nanodollars go to the book: a cost it cannot hold is charged the whole hold, never less.
    settle: ({ id }, usd) => settleNow(id, Backend.amount(usd) ?? book.holds.get(id)?.amount ?? 0)
  }

  const commit = (reservation: Ledger.Reservation, actualUsd: number): Effect.Effect<void, InvalidAmount> => {
    const id = issuedId(reservation)
    if (typeof id !== "number") return Effect.fail(id)
    const nanos = Backend.amount(actualUsd)
    return nanos === undefined ? Effect.fail(Backend.invalidAmount("actualUsd", actualUsd)) : settle(id, nanos)
  }

  const release = (reservation: Ledger.Reservation): Effect.Effect<void, InvalidAmount> => {
    const id = issuedId(reservation)
    return typeof id === "number" ? settle(id, 0) : Effect.fail(id)
  }

  const snapshot = Effect.sync(() => snapshotOf(book, limits))

  return withFastPath({ limitUsd, perAgentLimitUsd, alertAt, reserve, commit, release, snapshot }, fastPath)
}
