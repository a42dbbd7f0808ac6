/**
 * The fleet ledger as pure functions over immutable data. Amounts are whole nanodollars, so sums
 * are exact and a limit is never passed by rounding; the Budget service converts at its edge.
 */
import { HashMap, Option } from "effect"

export const NANOS_PER_USD = 1_000_000_000

/** USD → nanodollars; `undefined` when the amount cannot be held exactly (NaN, infinite, too large). */
export const toNanos = (usd: number): number | undefined => {
  const nanos = Math.round(usd * NANOS_PER_USD)
  return Number.isSafeInteger(nanos) ? nanos : undefined
}

export const toUsd = (nanos: number): number => nanos / NANOS_PER_USD

/** A held amount, settled exactly once by `commit` or `release`. */
export interface Reservation {
  readonly id: number
  readonly agentId: string
  readonly usd: number
}

export interface Account {
  readonly spent: number
  readonly reserved: number
}

export interface Hold {
  readonly agentId: string
  readonly amount: number
}

export interface Ledger {
  readonly limit: number
  readonly perAgentLimit: number
  /** Exposure (spent + reserved) at which the alert fires. */
  readonly alertThreshold: number
  readonly spent: number
  readonly reserved: number
  readonly agents: HashMap.HashMap<string, Account>
  /** Reservations not yet settled, by id. A settled id is gone, so settling twice is a no-op. */
  readonly holds: HashMap.HashMap<number, Hold>
  readonly nextId: number
  readonly alerted: boolean
  readonly exhausted: boolean
}

const emptyAccount: Account = { spent: 0, reserved: 0 }

export const make = (limit: number, perAgentLimit: number, alertAt: number): Ledger => ({
  limit,
  perAgentLimit,
  alertThreshold: Math.ceil(limit * alertAt),
  spent: 0,
  reserved: 0,
  agents: HashMap.empty(),
  holds: HashMap.empty(),
  nextId: 0,
  alerted: false,
  exhausted: false
})

export const account = (ledger: Ledger, agentId: string): Account =>
  Option.getOrElse(HashMap.get(ledger.agents, agentId), () => emptyAccount)

export type ReserveResult =
  | { readonly _tag: "Reserved"; readonly id: number; readonly crossedAlert: boolean }
  | {
      readonly _tag: "Refused"
      readonly scope: "fleet" | "agent"
      readonly limit: number
      readonly remaining: number
      /** The first refusal at the fleet limit. */
      readonly firstExhaustion: boolean
    }

/** Passing the alert threshold is reported once per ledger. */
const withAlert = (ledger: Ledger): readonly [boolean, Ledger] =>
  !ledger.alerted && ledger.spent + ledger.reserved >= ledger.alertThreshold
    ? [true, { ...ledger, alerted: true }]
    : [false, ledger]

/** Reserves `amount` for `agentId`, or refuses it whole if either limit would be passed. */
export const reserve = (ledger: Ledger, agentId: string, amount: number): readonly [ReserveResult, Ledger] => {
  const fleetRemaining = ledger.limit - ledger.spent - ledger.reserved
  if (amount > fleetRemaining) {
    return [
      {
        _tag: "Refused",
        scope: "fleet",
        limit: ledger.limit,
        remaining: Math.max(0, fleetRemaining),
        firstExhaustion: !ledger.exhausted
      },
      ledger.exhausted ? ledger : { ...ledger, exhausted: true }
    ]
  }
  const before = account(ledger, agentId)
  const agentRemaining = ledger.perAgentLimit - before.spent - before.reserved
  if (amount > agentRemaining) {
    return [
      {
        _tag: "Refused",
        scope: "agent",
        limit: ledger.perAgentLimit,
        remaining: Math.max(0, agentRemaining),
        firstExhaustion: false
      },
      ledger
    ]
  }
  const id = ledger.nextId
  const [crossedAlert, next] = withAlert({
    ...ledger,
    reserved: ledger.reserved + amount,
    agents: HashMap.set(ledger.agents, agentId, { spent: before.spent, reserved: before.reserved + amount }),
    holds: HashMap.set(ledger.holds, id, { agentId, amount }),
    nextId: id + 1
  })
  return [{ _tag: "Reserved", id, crossedAlert }, next]
}

export type SettleResult =
  | { readonly _tag: "Settled"; readonly hold: Hold; readonly charged: number; readonly crossedAlert: boolean }
  | { readonly _tag: "AlreadySettled" }

const alreadySettled: SettleResult = { _tag: "AlreadySettled" }

/**
 * Settles a reservation at `charged` (0 releases it). The truth is kept: a charge above the
 * reservation is recorded in full.
 */
export const settle = (ledger: Ledger, id: number, charged: number): readonly [SettleResult, Ledger] => {
  const found = HashMap.get(ledger.holds, id)
  if (Option.isNone(found)) return [alreadySettled, ledger]
  const hold = found.value
  const before = account(ledger, hold.agentId)
  const [crossedAlert, next] = withAlert({
    ...ledger,
    spent: ledger.spent + charged,
    reserved: ledger.reserved - hold.amount,
    agents: HashMap.set(ledger.agents, hold.agentId, {
      spent: before.spent + charged,
      reserved: before.reserved - hold.amount
    }),
    holds: HashMap.remove(ledger.holds, id)
  })
  return [{ _tag: "Settled", hold, charged, crossedAlert }, next]
}
