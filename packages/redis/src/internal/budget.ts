/**
 * Budget on Redis: the fleet ledger of the in-memory Budget (nanodollars, refuse-whole, per-agent
 * caps for named agents, alert and exhaustion published once per fleet), kept in Redis by the
 * scripts of `scripts/budget.ts` and reported through core's `Backend.budgetReports`. Each
 * reservation is a lease renewed by this process (see `leases.ts`).
 */
import {
  Backend,
  type BudgetExceeded,
  type BudgetService,
  type BudgetSnapshot,
  type GuardUnavailable,
  type InvalidAmount,
  type Reservation
} from "@fleetguard/core"
import { Effect, Either } from "effect"
import type { Leases } from "./leases.js"
import type { Outbox } from "./outbox.js"
import { list, num, numbers, str } from "./reply.js"
import * as Reservations from "./reservations.js"
import * as Scripts from "./scripts/budget.js"
import { retryUntilAnswered, type Store, type StoreDown, unavailable } from "./store.js"

export interface Deps {
  readonly store: Store
  readonly leases: Leases
  readonly outbox: Outbox
  readonly failOpen: boolean
}

/** What the budget's parts share: its dependencies, its limits in nanodollars and its reports. */
interface Context extends Deps {
  readonly keys: ReadonlyArray<string>
  readonly limit: number
  readonly perAgentLimit: number
  /** The alert threshold, in nanodollars, as the scripts take it. */
  readonly threshold: string
  readonly reports: Backend.BudgetReports
  readonly reservations: Reservations.Reservations
}

const totals = (spent: unknown, reserved: unknown): Backend.BudgetTotals => ({
  spentNanos: num(spent),
  reservedNanos: num(reserved)
})

/** A `Refused` reply of the reserve script, as the backend reports a refusal. */
const refusal = ({ limit, perAgentLimit }: Context, reply: ReadonlyArray<unknown>): Backend.BudgetRefusal => {
  const scope = str(reply[1]) === "fleet" ? "fleet" : "agent"
  return {
    scope,
    remainingNanos: num(reply[2]),
    limitNanos: scope === "fleet" ? limit : perAgentLimit,
    exhausted: num(reply[3]) === 1 ? totals(reply[4], reply[5]) : undefined
  }
}

/** `reserve`: a leased hold in Redis, or a refusal whole at the fleet's or the agent's limit. */
const reserving = (context: Context) => {
  const { store, leases, outbox, failOpen, keys, reports, reservations } = context
  // The per-agent cap applies to named agents: a call outside any Agent.run is under the fleet limit alone.
  const agentLimit = String(context.perAgentLimit)
  const agentLimitOf = (agentId: string) => (Backend.hasAgentLimit(agentId) ? agentLimit : "none")

  const reserved = (agentId: string, nanos: number, token: string, reply: ReadonlyArray<unknown>) => {
    leases.holds.add(token)
    const reservation = reservations.open(agentId, nanos, token)
    return num(reply[1]) === 1
      ? Effect.as(reports.crossed(totals(reply[2], reply[3])), reservation)
      : Effect.succeed(reservation)
  }

  /** Redis did not answer: undo the step if it ran after all, then fail closed or let the call through. */
  const notReserved = (agentId: string, nanos: number, token: string, down: StoreDown) => {
    if (down.sent) {
      outbox.add(Effect.asVoid(store.run(Scripts.settle, keys, [store.idleMillis, token, "0", context.threshold])))
    }
    const error = unavailable(store, "budget", down)
    return failOpen ? Effect.succeed(reservations.open(agentId, nanos, undefined)) : Effect.fail(error)
  }

  return (
    agentId: string,
    amount: number
  ): Effect.Effect<Reservation, BudgetExceeded | InvalidAmount | GuardUnavailable> => {
    const checked = Backend.nanosOf("usd", amount)
    if (Either.isLeft(checked)) return Effect.fail(checked.left)
    if (typeof agentId !== "string") return Effect.fail(Backend.invalidAgentId(agentId))
    const nanos = checked.right
    const token = leases.token()
    const args = [store.idleMillis, token, agentId, String(nanos), String(context.limit), agentLimitOf(agentId)]
    return store.run(Scripts.reserve, keys, [...args, context.threshold, leases.leaseMillis]).pipe(
      Effect.matchEffect({
        onFailure: (down) => notReserved(agentId, nanos, token, down),
        onSuccess: (reply) => {
          const answer = list(reply)
          return str(answer[0]) === "Reserved"
            ? reserved(agentId, nanos, token, answer)
            : reports.refused(agentId, amount, refusal(context, answer))
        }
      })
    )
  }
}

/** A settle reply, reported: spend counted now, the alert and an estimate exceeded published. */
const settled = (
  reports: Backend.BudgetReports,
  charged: number,
  reply: ReadonlyArray<unknown>
): Effect.Effect<void> => {
  const kind = str(reply[0])
  if (kind !== "Settled" && kind !== "Expired") return Effect.void
  const held = num(reply[1])
  return (
    reports.settled({
      agentId: str(reply[2]),
      heldNanos: held,
      chargedNanos: charged,
      // An expired hold was charged in full when its lease ran out: only a cost above it was added now.
      addedNanos: kind === "Settled" ? charged : Math.max(0, charged - held),
      crossed: num(reply[3]) === 1 ? totals(reply[4], reply[5]) : undefined
    }) ?? Effect.void
  )
}

/** Settling an open reservation in Redis now, or through the outbox once Redis is back: a settlement is never lost. */
const settling = (context: Context) => {
  const { store, leases, outbox, keys, reports, reservations, threshold } = context

  /** What a call let through with Redis away cost, added to the fleet's spend once Redis is back. */
  const charge = (agentId: string, charged: number): Effect.Effect<void> => {
    if (charged === 0) return Effect.void
    const step = store.run(Scripts.charge, keys, [store.idleMillis, agentId, String(charged), threshold]).pipe(
      Effect.flatMap((reply) => {
        const answer = list(reply)
        const crossed = num(answer[0]) === 1 ? totals(answer[1], answer[2]) : undefined
        return reports.settled({ agentId, heldNanos: charged, chargedNanos: charged, crossed }) ?? Effect.void
      })
    )
    return outbox.send(step)
  }

  return (entry: Reservations.Open, charged: number): Effect.Effect<void> => {
    const { reservation, token } = entry
    reservations.close(entry)
    if (token === undefined) return charge(reservation.agentId, charged)
    leases.holds.delete(token)
    const step = store
      .run(Scripts.settle, keys, [store.idleMillis, token, String(charged), threshold])
      .pipe(Effect.flatMap((reply) => settled(reports, charged, list(reply))))
    // While the settlement waits in the outbox its lease is still renewed: it is charged what it
    // cost, not the full reservation, if Redis comes back within the lease.
    const later = Effect.tap(step, () => Effect.sync(() => leases.holds.delete(token)))
    return Effect.catchAll(step, () =>
      Effect.sync(() => {
        leases.holds.add(token)
        outbox.add(later)
      })
    )
  }
}

/** The snapshot script's reply, in USD. */
const snapshotOf = (limits: Backend.BudgetLimits, reply: ReadonlyArray<unknown>): BudgetSnapshot => {
  const usd = Backend.usdOf
  const [spent, reserved, agentSpent, agentReserved] = reply
  const spentBy = numbers(agentSpent)
  const reservedBy = numbers(agentReserved)
  const ids = new Set([...spentBy.keys(), ...reservedBy.keys()])
  return {
    limitUsd: limits.limitUsd,
    perAgentLimitUsd: limits.perAgentLimitUsd,
    alertAt: limits.alertAt,
    spentUsd: usd(num(spent)),
    reservedUsd: usd(num(reserved)),
    agents: Object.fromEntries(
      Array.from(ids, (id) => [id, { spentUsd: usd(spentBy.get(id) ?? 0), reservedUsd: usd(reservedBy.get(id) ?? 0) }])
    )
  }
}

export const make = (options: Backend.BudgetLimits, deps: Deps): BudgetService => {
  const { limitUsd, perAgentLimitUsd, alertAt } = options
  const { store } = deps
  const limitNanos = (amount: number) => Either.getOrThrow(Backend.nanosOf("usd", amount))
  const limit = limitNanos(limitUsd)
  const context: Context = {
    ...deps,
    keys: store.keys.budget,
    limit,
    perAgentLimit: limitNanos(perAgentLimitUsd),
    threshold: String(Math.ceil(limit * alertAt)),
    reports: Backend.budgetReports(options),
    reservations: Reservations.make()
  }
  const settle = settling(context)

  const commit = (reservation: Reservation, actualUsd: number): Effect.Effect<void, InvalidAmount> => {
    const found = context.reservations.find(reservation)
    if (Either.isLeft(found)) return Effect.fail(found.left)
    // An amount the ledger cannot hold is refused, as in memory; the guards' own settlement
    // (core's settle) charges such a cost the full reservation before it gets here.
    const charged = Backend.nanosOf("actualUsd", actualUsd)
    if (Either.isLeft(charged)) return Effect.fail(charged.left)
    const entry = found.right
    return entry === undefined ? Effect.void : settle(entry, charged.right)
  }

  const release = (reservation: Reservation): Effect.Effect<void, InvalidAmount> =>
    Either.match(context.reservations.find(reservation), {
      onLeft: Effect.fail,
      onRight: (entry) => (entry === undefined ? Effect.void : settle(entry, 0))
    })

  const snapshot = retryUntilAnswered(
    Effect.map(store.run(Scripts.snapshot, context.keys, [store.idleMillis]), (reply) =>
      snapshotOf(options, list(reply))
    )
  )

  return {
    limitUsd,
    perAgentLimitUsd,
    alertAt,
    reserve: reserving(context),
    commit,
    release,
    snapshot
  } satisfies BudgetService
}
