/**
 * The fleet ledger. Its arithmetic is pure functions over immutable data — the fleet's totals and
 * one agent's account in, the new ones out — and amounts are whole nanodollars, so sums are exact
 * and a limit is never passed by rounding; the Budget service converts at its edge. `Book` keeps
 * the accounts and the open holds, indexed by agent and by reservation, and applies one pure step
 * per change.
 */
/** The id of calls made outside any `Agent.run`: under the fleet limit alone. */
export const defaultAgentId = "default"

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

/** The fleet's totals and limits. */
export interface Fleet {
  readonly limit: number
  readonly perAgentLimit: number
  /** Exposure (spent + reserved) at which the alert fires. */
  readonly alertThreshold: number
  readonly spent: number
  readonly reserved: number
  readonly alerted: boolean
  /**
   * What the fleet's refusals have reported: nothing yet, a refusal while spend was below the
   * limit (calls in flight held the rest, or too little was left), or spend at the limit. Each is
   * reported once, so a budget first refused short of its limit is reported again when spend
   * itself reaches it.
   */
  readonly exhausted: "no" | "short" | "spent"
}

export const emptyAccount: Account = { spent: 0, reserved: 0 }

export const make = (limit: number, perAgentLimit: number, alertAt: number): Fleet => ({
  limit,
  perAgentLimit,
  alertThreshold: Math.ceil(limit * alertAt),
  spent: 0,
  reserved: 0,
  alerted: false,
  exhausted: "no"
})

export type ReserveResult =
  | { readonly _tag: "Reserved"; readonly crossedAlert: boolean }
  | {
      readonly _tag: "Refused"
      readonly scope: "fleet" | "agent"
      readonly limit: number
      readonly remaining: number
      /** The first refusal at the fleet limit, or the first once spend itself reached it. */
      readonly firstExhaustion: boolean
    }

/** Passing the alert threshold is reported once per ledger. */
const alertOnce = (fleet: Fleet, spent: number, reserved: number): readonly [boolean, Fleet] => {
  const crossed = !fleet.alerted && spent + reserved >= fleet.alertThreshold
  return [crossed, { ...fleet, spent, reserved, alerted: fleet.alerted || crossed }]
}

/**
 * Whether the per-agent limit applies to an agent: to named ones (`Agent.run`) only. A call outside
 * any agent is under the fleet limit alone, so that a program with no agents can spend its budget.
 */
export const hasAgentLimit = (agentId: string): boolean => agentId !== defaultAgentId

/**
 * Reserves `amount` on `account`, or refuses it whole if the fleet limit would be passed, or the
 * agent's (when `agentLimited`).
 */
export const reserve = (
  fleet: Fleet,
  account: Account,
  amount: number,
  agentLimited: boolean
): readonly [ReserveResult, Fleet, Account] => {
  const fleetRemaining = fleet.limit - fleet.spent - fleet.reserved
  if (amount > fleetRemaining) {
    const exhausted = fleet.spent >= fleet.limit ? "spent" : fleet.exhausted === "no" ? "short" : fleet.exhausted
    const refusal = {
      _tag: "Refused",
      scope: "fleet",
      limit: fleet.limit,
      remaining: Math.max(0, fleetRemaining),
      firstExhaustion: exhausted !== fleet.exhausted
    } as const
    return [refusal, refusal.firstExhaustion ? { ...fleet, exhausted } : fleet, account]
  }
  const agentRemaining = fleet.perAgentLimit - account.spent - account.reserved
  if (agentLimited && amount > agentRemaining) {
    const refusal = {
      _tag: "Refused",
      scope: "agent",
      limit: fleet.perAgentLimit,
      remaining: Math.max(0, agentRemaining),
      firstExhaustion: false
    } as const
    return [refusal, fleet, account]
  }
  const [crossedAlert, next] = alertOnce(fleet, fleet.spent, fleet.reserved + amount)
  return [
    crossedAlert ? reservedCrossing : reservedQuietly,
    next,
    { spent: account.spent, reserved: account.reserved + amount }
  ]
}

const reservedQuietly: ReserveResult = { _tag: "Reserved", crossedAlert: false }
const reservedCrossing: ReserveResult = { _tag: "Reserved", crossedAlert: true }

/**
 * Settles a hold of `held` on `account` at `charged` (0 releases it). The truth is kept: a charge
 * above the hold is recorded in full.
 */
export const settle = (
  fleet: Fleet,
  account: Account,
  held: number,
  charged: number
): readonly [crossedAlert: boolean, Fleet, Account] => {
  const [crossedAlert, next] = alertOnce(fleet, fleet.spent + charged, fleet.reserved - held)
  return [crossedAlert, next, { spent: account.spent + charged, reserved: account.reserved - held }]
}

export type SettleResult =
  | { readonly _tag: "Settled"; readonly hold: Hold; readonly crossedAlert: boolean }
  | { readonly _tag: "AlreadySettled" }

const alreadySettled: SettleResult = { _tag: "AlreadySettled" }

/**
 * The ledger's state: the fleet's totals, each agent's account and each open hold. Every change
 * is one pure step applied in one synchronous call, so no fiber ever sees it half done.
 */
export class Book {
  fleet: Fleet
  readonly accounts = new Map<string, Account>()
  /** Holds not yet settled, by reservation id: a settled id is gone, so settling twice is a no-op. */
  readonly holds = new Map<number, Hold>()
  private nextId = 0

  constructor(limit: number, perAgentLimit: number, alertAt: number) {
    this.fleet = make(limit, perAgentLimit, alertAt)
  }

  account(agentId: string): Account {
    return this.accounts.get(agentId) ?? emptyAccount
  }

  /** Reserves `amount` for `agentId`: the result, and the new hold's id (-1 when refused). */
  reserve(agentId: string, amount: number): readonly [ReserveResult, id: number] {
    const [result, fleet, account] = reserve(this.fleet, this.account(agentId), amount, hasAgentLimit(agentId))
    this.fleet = fleet
    return result._tag === "Refused" ? [result, -1] : [result, this.hold(agentId, amount, account)]
  }

  /** Reserves only when that needs no report (no refusal, no alert): the new hold's id, else undefined. */
  reserveQuietly(agentId: string, amount: number): number | undefined {
    const [result, fleet, account] = reserve(this.fleet, this.account(agentId), amount, hasAgentLimit(agentId))
    if (result._tag === "Refused" || result.crossedAlert) return undefined
    this.fleet = fleet
    return this.hold(agentId, amount, account)
  }

  private hold(agentId: string, amount: number, account: Account): number {
    const id = this.nextId++
    this.accounts.set(agentId, account)
    this.holds.set(id, { agentId, amount })
    return id
  }

  settle(id: number, charged: number): SettleResult {
    const hold = this.holds.get(id)
    if (hold === undefined) return alreadySettled
    this.holds.delete(id)
    const [crossedAlert, fleet, account] = settle(this.fleet, this.account(hold.agentId), hold.amount, charged)
    this.fleet = fleet
    this.accounts.set(hold.agentId, account)
    return { _tag: "Settled", hold, crossedAlert }
  }
}
