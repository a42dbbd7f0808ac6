/**
 * The in-memory Budget: the ledger's `Book` behind the service's methods, and the events and
 * metrics that a reservation, a refusal and a settlement publish. The hot path is one synchronous
 * validation and one step of the ledger; effects are built only for what is rare.
 */
import { Effect } from "effect"
import { BudgetExceeded, InvalidAmount } from "../Errors.js"
import * as Events from "../Events.js"
import * as Metrics from "../Metrics.js"
import { type BudgetEngine, EngineId } from "./engine.js"
import * as Ledger from "./ledger.js"

/** The limits, decoded, in USD. */
export interface Limits {
  readonly limitUsd: number
  readonly perAgentLimitUsd: number
  readonly alertAt: number
}

/** Nanodollars, or undefined for anything but a number of USD ≥ 0 the ledger can hold exactly. */
export const amount = (usd: unknown): number | undefined =>
  typeof usd === "number" && usd >= 0 ? Ledger.toNanos(usd) : undefined

export const invalidAmount = (field: string, usd: unknown) =>
  new InvalidAmount({
    field,
    value: usd,
    reason:
      typeof usd === "number" && usd >= 0 ? "must be finite and below 9,000,000 USD" : "must be a number of USD ≥ 0"
  })

/** Marks the reservations a ledger made with that ledger's number: another ledger's, or a forged one, is told apart. */
const issuer: unique symbol = Symbol.for("@fleetguard/core/Budget/issuer")

interface Issued extends Ledger.Reservation {
  readonly [issuer]: object
}

/**
 * A value's reservation fields, read once into a fresh object; undefined for anything not shaped
 * as a reservation. Never throws, whatever the value (a throwing getter, a Proxy).
 */
const fieldsOf = (u: unknown): (Ledger.Reservation & { readonly issuer: unknown }) | undefined => {
  try {
    if (typeof u !== "object" || u === null) return undefined
    const { id, agentId, usd, [issuer]: by } = u as Partial<Issued>
    return id !== undefined && Number.isSafeInteger(id) && typeof agentId === "string" && typeof usd === "number"
      ? { id, agentId, usd, issuer: by }
      : undefined
  } catch {
    return undefined
  }
}

/** A copy of the value's reservation fields, or undefined when it is not shaped as a reservation. */
export const reservationOf = (u: unknown): Ledger.Reservation | undefined => {
  const fields = fieldsOf(u)
  return fields && { id: fields.id, agentId: fields.agentId, usd: fields.usd }
}

export const notAReservation = (value: unknown) =>
  new InvalidAmount({ field: "reservation", value, reason: "must be a reservation made by Budget.reserve" })

export const notIssued = (value: unknown) =>
  new InvalidAmount({ field: "reservation", value, reason: "was not made by this budget" })

/** The service over a fresh ledger with these limits. */
export const make = ({ limitUsd, perAgentLimitUsd, alertAt }: Limits) => {
  // Changed only by the ledger's pure steps, each in one synchronous call: atomic, as a
  // Ref.modify would be, without an interpreter step of its own on every call.
  const book = new Ledger.Book(Ledger.toNanos(limitUsd) ?? 0, Ledger.toNanos(perAgentLimitUsd) ?? 0, alertAt)
  // Compared by identity: unique to this ledger, even with two copies of this module loaded.
  const ledger = {}
  const issue = (id: number, agentId: string, nanos: number): Issued => ({
    id,
    agentId,
    usd: Ledger.toUsd(nanos),
    [issuer]: ledger
  })

  /** The id of a reservation this ledger made, or why `value` is not one. */
  const issuedId = (value: unknown): number | InvalidAmount => {
    const fields = fieldsOf(value)
    if (fields === undefined) return notAReservation(value)
    return fields.issuer === ledger ? fields.id : notIssued(value)
  }

  const crossed = Effect.suspend(() => {
    const l = book.fleet
    return Events.publish(
      (at) =>
        new Events.BudgetThresholdCrossed({
          at,
          alertAt,
          limitUsd,
          spentUsd: Ledger.toUsd(l.spent),
          reservedUsd: Ledger.toUsd(l.reserved)
        })
    )
  })

  const refused = (agentId: string, usd: number, refusal: Extract<Ledger.ReserveResult, { _tag: "Refused" }>) =>
    Effect.gen(function* () {
      const error = new BudgetExceeded({
        scope: refusal.scope,
        agentId,
        requestedUsd: usd,
        remainingUsd: Ledger.toUsd(refusal.remaining),
        limitUsd: Ledger.toUsd(refusal.limit)
      })
      Metrics.budgetRefusalsByScope[refusal.scope].unsafeUpdate(1, [])
      yield* Events.rejected("BudgetExceeded", error.message, { agentId, scope: refusal.scope })
      if (refusal.firstExhaustion) {
        const l = book.fleet
        yield* Events.publish(
          (at) =>
            new Events.BudgetExhausted({
              at,
              agentId,
              requestedUsd: usd,
              limitUsd,
              spentUsd: Ledger.toUsd(l.spent),
              reservedUsd: Ledger.toUsd(l.reserved)
            })
        )
      }
      return yield* Effect.fail(error)
    })

  // The hot path: one synchronous validation, one step of the ledger, and effects only for what is rare.
  const reserve = (agentId: string, usd: number): Effect.Effect<Ledger.Reservation, BudgetExceeded | InvalidAmount> =>
    Effect.suspend((): Effect.Effect<Ledger.Reservation, BudgetExceeded | InvalidAmount> => {
      const nanos = amount(usd)
      if (nanos === undefined) return Effect.fail(invalidAmount("usd", usd))
      if (typeof agentId !== "string")
        return Effect.fail(new InvalidAmount({ field: "agentId", value: agentId, reason: "must be a string" }))
      const [result, id] = book.reserve(agentId, nanos)
      if (result._tag === "Refused") return refused(agentId, usd, result)
      const reservation = issue(id, agentId, nanos)
      return result.crossedAlert ? Effect.as(crossed, reservation) : Effect.succeed(reservation)
    })

  /** Settles now; what is left to publish (the alert, an estimate exceeded), if anything. */
  const settleNow = (id: number, nanos: number): Effect.Effect<void> | undefined => {
    const result = book.settle(id, nanos)
    if (result._tag === "AlreadySettled") return undefined
    if (nanos > 0) Metrics.budgetSpentUsd.unsafeUpdate(Ledger.toUsd(nanos), [])
    if (!result.crossedAlert && nanos <= result.hold.amount) return undefined
    return Effect.zipRight(
      result.crossedAlert ? crossed : Effect.void,
      nanos > result.hold.amount
        ? Events.publish(
            (at) =>
              new Events.EstimateExceeded({
                at,
                agentId: result.hold.agentId,
                reservedUsd: Ledger.toUsd(result.hold.amount),
                actualUsd: Ledger.toUsd(nanos)
              })
          )
        : Effect.void
    )
  }

  const settle = (id: number, nanos: number): Effect.Effect<void> =>
    Effect.suspend(() => settleNow(id, nanos) ?? Effect.void)

  const engine: BudgetEngine = {
    tryReserve: (agentId, usd) => {
      const nanos = amount(usd)
      if (nanos === undefined || typeof agentId !== "string") return undefined
      const id = book.reserveQuietly(agentId, nanos)
      return id === undefined ? undefined : issue(id, agentId, nanos)
    },
    // Nanodollars go to the book: a cost it cannot hold is charged the whole hold, never less.
    settle: ({ id }, usd) => settleNow(id, amount(usd) ?? book.holds.get(id)?.amount ?? 0)
  }

  const commit = (reservation: Ledger.Reservation, actualUsd: number): Effect.Effect<void, InvalidAmount> => {
    const id = issuedId(reservation)
    if (typeof id !== "number") return Effect.fail(id)
    const nanos = amount(actualUsd)
    return nanos === undefined ? Effect.fail(invalidAmount("actualUsd", actualUsd)) : settle(id, nanos)
  }

  const release = (reservation: Ledger.Reservation): Effect.Effect<void, InvalidAmount> => {
    const id = issuedId(reservation)
    return typeof id === "number" ? settle(id, 0) : Effect.fail(id)
  }

  const snapshot = Effect.sync((l = book.fleet) => ({
    limitUsd,
    perAgentLimitUsd,
    alertAt,
    spentUsd: Ledger.toUsd(l.spent),
    reservedUsd: Ledger.toUsd(l.reserved),
    agents: Object.fromEntries(
      Array.from(book.accounts, ([id, a]) => [
        id,
        { spentUsd: Ledger.toUsd(a.spent), reservedUsd: Ledger.toUsd(a.reserved) }
      ])
    )
  }))

  return { limitUsd, perAgentLimitUsd, alertAt, reserve, commit, release, snapshot, [EngineId]: engine }
}
