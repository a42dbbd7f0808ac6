/**
 * Budget on Redis: the fleet ledger of the in-memory Budget (nanodollars, refuse-whole, per-agent
 * caps for named agents, alert and exhaustion published once per fleet), kept in Redis by the
 * scripts of `scripts/budget.ts`. Each reservation is a lease renewed by this process (see `leases.ts`).
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
import * as Scripts from "./scripts/budget.js"
import { retryUntilAnswered, type Store, type StoreDown, unavailable } from "./store.js"

export interface Deps {
  readonly store: Store
  readonly leases: Leases
  readonly outbox: Outbox
  readonly failOpen: boolean
}

const usd = Backend.usdOf

/** A reservation made here and not settled: its amount, and its hold in Redis (none when let through failing open). */
interface Open {
  readonly reservation: Reservation
  readonly nanos: number
  readonly token: string | undefined
}

export const make = (options: Backend.BudgetLimits, deps: Deps): BudgetService => {
  const { limitUsd, perAgentLimitUsd, alertAt } = options
  const { store, leases, outbox, failOpen } = deps
  const keys = store.keys.budget
  const limitNanos = (amount: number) => Either.getOrThrow(Backend.nanosOf("usd", amount))
  const limit = limitNanos(limitUsd)
  const perAgentLimit = limitNanos(perAgentLimitUsd)
  const threshold = String(Math.ceil(limit * alertAt))
  // The per-agent cap applies to named agents: a call outside any Agent.run is under the fleet limit alone.
  const agentLimitOf = (agentId: string) => (Backend.hasAgentLimit(agentId) ? String(perAgentLimit) : "none")
  /** The reservations this process has not settled, by id; ids below `nextId` were all made here. */
  const open = new Map<number, Open>()
  let nextId = 0

  const reports = Backend.budgetReports(options)
  const totals = (spent: unknown, reserved: unknown): Backend.BudgetTotals => ({
    spentNanos: num(spent),
    reservedNanos: num(reserved)
  })

  const refused = (agentId: string, amount: number, reply: ReadonlyArray<unknown>) => {
    const scope = str(reply[1]) === "fleet" ? "fleet" : "agent"
    return reports.refused(agentId, amount, {
      scope,
      remainingNanos: num(reply[2]),
      limitNanos: scope === "fleet" ? limit : perAgentLimit,
      exhausted: num(reply[3]) === 1 ? totals(reply[4], reply[5]) : undefined
    })
  }

  const opened = (agentId: string, nanos: number, token: string | undefined): Reservation => {
    const reservation: Reservation = { id: nextId++, agentId, usd: usd(nanos) }
    open.set(reservation.id, { reservation, nanos, token })
    return reservation
  }

  const reserved = (agentId: string, nanos: number, token: string, reply: ReadonlyArray<unknown>) => {
    leases.holds.add(token)
    const reservation = opened(agentId, nanos, token)
    return num(reply[1]) === 1
      ? Effect.as(reports.crossed(totals(reply[2], reply[3])), reservation)
      : Effect.succeed(reservation)
  }

  /** Redis did not answer: undo the step if it ran after all, then fail closed or let the call through. */
  const notReserved = (agentId: string, nanos: number, token: string, down: StoreDown) => {
    if (down.sent) outbox.add(Effect.asVoid(store.run(Scripts.settle, keys, [store.idleMillis, token, "0", threshold])))
    const error = unavailable(store, "budget", down)
    return failOpen ? Effect.succeed(opened(agentId, nanos, undefined)) : Effect.fail(error)
  }

  const reserve = (
    agentId: string,
    amount: number
  ): Effect.Effect<Reservation, BudgetExceeded | InvalidAmount | GuardUnavailable> => {
    const checked = Backend.nanosOf("usd", amount)
    if (Either.isLeft(checked)) return Effect.fail(checked.left)
    if (typeof agentId !== "string") return Effect.fail(Backend.invalidAgentId(agentId))
    const token = leases.token()
    const args = [store.idleMillis, token, agentId, String(checked.right), String(limit), agentLimitOf(agentId)]
    return store.run(Scripts.reserve, keys, [...args, threshold, leases.leaseMillis]).pipe(
      Effect.matchEffect({
        onFailure: (down) => notReserved(agentId, checked.right, token, down),
        onSuccess: (reply) => {
          const answer = list(reply)
          return str(answer[0]) === "Reserved"
            ? reserved(agentId, checked.right, token, answer)
            : refused(agentId, amount, answer)
        }
      })
    )
  }

  const settled = (charged: number, reply: ReadonlyArray<unknown>): Effect.Effect<void> => {
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

  /** Settles in Redis now, or through the outbox once Redis is back: a settlement is never lost. */
  const settle = ({ reservation, token }: Open, charged: number): Effect.Effect<void> => {
    open.delete(reservation.id)
    if (token === undefined) return record(reservation.agentId, charged)
    leases.holds.delete(token)
    const step = store
      .run(Scripts.settle, keys, [store.idleMillis, token, String(charged), threshold])
      .pipe(Effect.flatMap((reply) => settled(charged, list(reply))))
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

  /** What a call let through with Redis away cost, added to the fleet's spend once Redis is back. */
  const record = (agentId: string, charged: number): Effect.Effect<void> => {
    if (charged === 0) return Effect.void
    const step = store.run(Scripts.charge, keys, [store.idleMillis, agentId, String(charged), threshold]).pipe(
      Effect.flatMap((reply) => {
        const answer = list(reply)
        return (
          reports.settled({
            agentId,
            heldNanos: charged,
            chargedNanos: charged,
            crossed: num(answer[0]) === 1 ? totals(answer[1], answer[2]) : undefined
          }) ?? Effect.void
        )
      })
    )
    return Effect.catchAll(step, () => Effect.sync(() => outbox.add(step)))
  }

  /**
   * The open reservation `value` is; undefined for one made here and settled already (settling it
   * again changes nothing); `InvalidAmount` for anything this store did not make.
   */
  const find = (value: unknown): Either.Either<Open | undefined, InvalidAmount> =>
    Either.flatMap(Backend.checkReservation(value), (given) => {
      const entry = open.get(given.id)
      if (entry !== undefined) {
        const same = entry.reservation.agentId === given.agentId && entry.reservation.usd === given.usd
        return same ? Either.right(entry) : Either.left(Backend.notIssued(value))
      }
      return given.id >= 0 && given.id < nextId ? Either.right(undefined) : Either.left(Backend.notIssued(value))
    })

  const commit = (reservation: Reservation, actualUsd: number): Effect.Effect<void, InvalidAmount> => {
    const found = find(reservation)
    if (Either.isLeft(found)) return Effect.fail(found.left)
    // An amount the ledger cannot hold is refused, as in memory; the guards' own settlement
    // (core's settle) charges such a cost the full reservation before it gets here.
    const charged = Backend.nanosOf("actualUsd", actualUsd)
    if (Either.isLeft(charged)) return Effect.fail(charged.left)
    const entry = found.right
    return entry === undefined ? Effect.void : settle(entry, charged.right)
  }

  const release = (reservation: Reservation): Effect.Effect<void, InvalidAmount> =>
    Either.match(find(reservation), {
      onLeft: Effect.fail,
      onRight: (entry) => (entry === undefined ? Effect.void : settle(entry, 0))
    })

  const snapshot = retryUntilAnswered(
    Effect.map(store.run(Scripts.snapshot, keys, [store.idleMillis]), (reply): BudgetSnapshot => {
      const [spent, reserved, agentSpent, agentReserved] = list(reply)
      const spentBy = numbers(agentSpent)
      const reservedBy = numbers(agentReserved)
      const ids = new Set([...spentBy.keys(), ...reservedBy.keys()])
      return {
        limitUsd,
        perAgentLimitUsd,
        alertAt,
        spentUsd: usd(num(spent)),
        reservedUsd: usd(num(reserved)),
        agents: Object.fromEntries(
          Array.from(ids, (id) => [
            id,
            { spentUsd: usd(spentBy.get(id) ?? 0), reservedUsd: usd(reservedBy.get(id) ?? 0) }
          ])
        )
      }
    })
  )

  return {
    limitUsd,
    perAgentLimitUsd,
    alertAt,
    reserve,
    commit,
    release,
    snapshot
  } satisfies BudgetService
}
