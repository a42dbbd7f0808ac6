/**
 * What every Budget store shares: its options as decoded, amounts as the ledger holds them, the
 * check of a value given as a reservation, and the metrics and events of a reservation, a refusal
 * and a settlement, published the same whichever store keeps the ledger.
 */
import { Effect, Either, Schema } from "effect"
import { BudgetExceeded, InvalidAmount, type InvalidOption, type LimitScope } from "../../Errors.js"
import * as Events from "../../Events.js"
import * as Metrics from "../../Metrics.js"
import { check, decode, Fraction, Options, option } from "../../Options.js"
import * as Ledger from "../policy/ledger.js"

/** A budget's options, decoded, defaults filled in, in USD. */
export interface Limits {
  readonly limitUsd: number
  readonly perAgentLimitUsd: number
  readonly alertAt: number
}

/** A limit the ledger can hold: positive, and not rounded to $0 or past its range in nanodollars. */
const Limit = option(
  (n): n is number => typeof n === "number" && n > 0 && (Ledger.toNanos(n) ?? 0) > 0,
  "must be a positive number of USD, at least $0.000000001 and below 9,000,000"
)

const OptionsSchema = Options({
  limitUsd: Limit,
  perAgentLimitUsd: Schema.optional(Limit),
  alertAt: Schema.optional(Fraction)
})

export const decodeOptions = (options: unknown): Effect.Effect<Limits, InvalidOption> =>
  Effect.gen(function* () {
    const decoded = yield* decode(OptionsSchema, options)
    const limitUsd = decoded.limitUsd
    const perAgentLimitUsd = yield* check(
      "perAgentLimitUsd",
      decoded.perAgentLimitUsd ?? limitUsd / 5,
      (n) => n <= limitUsd && (Ledger.toNanos(n) ?? 0) > 0,
      `must be no greater than limitUsd (${limitUsd}) and at least $0.000000001`
    )
    return { limitUsd, perAgentLimitUsd, alertAt: decoded.alertAt ?? 0.8 }
  })

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

export const nanosOf = (field: string, usd: unknown): Either.Either<number, InvalidAmount> => {
  const nanos = amount(usd)
  return nanos === undefined ? Either.left(invalidAmount(field, usd)) : Either.right(nanos)
}

export const usdOf: (nanos: number) => number = Ledger.toUsd

export const invalidAgentId = (agentId: unknown) =>
  new InvalidAmount({ field: "agentId", value: agentId, reason: "must be a string" })

/** Marks the reservations of a ledger with that ledger's own object, so another's (or a forged one) is told apart. */
export const issuer: unique symbol = Symbol.for("@fleetguard/core/Budget/issuer")

/** A reservation's fields, and the mark of the ledger that issued it (if any). */
export interface ReservationFields extends Ledger.Reservation {
  readonly issuer: unknown
}

/**
 * A value's reservation fields, read once into a fresh object; undefined for anything not shaped
 * as a reservation. Never throws, whatever the value (a throwing getter, a Proxy).
 */
export const fieldsOf = (u: unknown): ReservationFields | undefined => {
  try {
    if (typeof u !== "object" || u === null) return undefined
    const { id, agentId, usd, [issuer]: by } = u as Partial<Ledger.Reservation> & { readonly [issuer]?: unknown }
    return id !== undefined && Number.isSafeInteger(id) && typeof agentId === "string" && typeof usd === "number"
      ? { id, agentId, usd, issuer: by }
      : undefined
  } catch {
    return undefined
  }
}

export const notAReservation = (value: unknown) =>
  new InvalidAmount({ field: "reservation", value, reason: "must be a reservation made by Budget.reserve" })

export const notIssued = (value: unknown) =>
  new InvalidAmount({ field: "reservation", value, reason: "was not made by this budget" })

export const checkReservation = (value: unknown): Either.Either<Ledger.Reservation, InvalidAmount> => {
  const fields = fieldsOf(value)
  return fields === undefined
    ? Either.left(notAReservation(value))
    : Either.right({ id: fields.id, agentId: fields.agentId, usd: fields.usd })
}

export const hasAgentLimit: (agentId: string) => boolean = Ledger.hasAgentLimit

/** The fleet's totals at one instant, in nanodollars. */
export interface Totals {
  readonly spentNanos: number
  readonly reservedNanos: number
}

/** Why a store refused a reservation, in nanodollars; `exhausted` when this refusal is the first at a full budget. */
export interface Refusal {
  readonly scope: LimitScope
  readonly remainingNanos: number
  readonly limitNanos: number
  readonly exhausted?: Totals | undefined
}

/** How a store settled a hold, in nanodollars. */
export interface Settlement {
  readonly agentId: string
  readonly heldNanos: number
  readonly chargedNanos: number
  /** What this settlement added to the fleet's spend; default `chargedNanos`. */
  readonly addedNanos?: number | undefined
  /** The fleet's totals, when this settlement crossed the alert threshold. */
  readonly crossed?: Totals | undefined
}

/** The metrics and events of one budget's reservations, refusals and settlements. */
export interface Reports {
  /** A reservation or settlement crossed the alert threshold: `BudgetThresholdCrossed`. */
  readonly crossed: (totals: Totals) => Effect.Effect<void>
  /** A reservation refused: counted, `Rejected` and (the first time at a full budget) `BudgetExhausted` published, failed with `BudgetExceeded`. */
  readonly refused: (agentId: string, requestedUsd: number, refusal: Refusal) => Effect.Effect<never, BudgetExceeded>
  /** A hold settled: spend counted now; what is left to publish (the alert, `EstimateExceeded`), if anything. */
  readonly settled: (settlement: Settlement) => Effect.Effect<void> | undefined
}

/** `BudgetExhausted`: the first refusal at a full budget (and again once spend itself reaches the limit). */
const exhausted = (limitUsd: number, agentId: string, requestedUsd: number, { spentNanos, reservedNanos }: Totals) =>
  Events.publish(
    (at) =>
      new Events.BudgetExhausted({
        at,
        agentId,
        requestedUsd,
        limitUsd,
        spentUsd: Ledger.toUsd(spentNanos),
        reservedUsd: Ledger.toUsd(reservedNanos)
      })
  )

/** `EstimateExceeded`: a settlement charged more than its hold. */
const exceeded = (s: Settlement) =>
  Events.publish(
    (at) =>
      new Events.EstimateExceeded({
        at,
        agentId: s.agentId,
        reservedUsd: Ledger.toUsd(s.heldNanos),
        actualUsd: Ledger.toUsd(s.chargedNanos)
      })
  )

export const reports = ({ limitUsd, alertAt }: Limits): Reports => {
  const crossed = ({ spentNanos, reservedNanos }: Totals) =>
    Events.publish(
      (at) =>
        new Events.BudgetThresholdCrossed({
          at,
          alertAt,
          limitUsd,
          spentUsd: Ledger.toUsd(spentNanos),
          reservedUsd: Ledger.toUsd(reservedNanos)
        })
    )

  const refused = (agentId: string, requestedUsd: number, refusal: Refusal): Effect.Effect<never, BudgetExceeded> => {
    const { scope } = refusal
    const error = new BudgetExceeded({
      scope,
      agentId,
      requestedUsd,
      remainingUsd: Ledger.toUsd(refusal.remainingNanos),
      limitUsd: Ledger.toUsd(refusal.limitNanos)
    })
    Metrics.budgetRefusalsByScope[scope].unsafeUpdate(1, [])
    const published = Events.rejected("BudgetExceeded", error.message, { agentId, scope })
    return Effect.zipRight(
      refusal.exhausted === undefined
        ? published
        : Effect.zipRight(published, exhausted(limitUsd, agentId, requestedUsd, refusal.exhausted)),
      Effect.fail(error)
    )
  }

  const settled = (s: Settlement): Effect.Effect<void> | undefined => {
    const added = s.addedNanos ?? s.chargedNanos
    if (added > 0) Metrics.budgetSpentUsd.unsafeUpdate(Ledger.toUsd(added), [])
    const over = s.chargedNanos > s.heldNanos
    if (s.crossed === undefined) return over ? exceeded(s) : undefined
    return over ? Effect.zipRight(crossed(s.crossed), exceeded(s)) : crossed(s.crossed)
  }

  return { crossed, refused, settled }
}
