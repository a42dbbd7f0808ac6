/**
 * Leases: every reservation and permit this process holds in Redis carries a deadline, renewed
 * here while the process lives (every third of the lease, all in one script). A process that dies
 * stops renewing: its permits come back and its reservations are charged in full when the deadline
 * passes. The renewal also keeps the fleet's keys from expiring while any process is attached.
 */
import { randomUUID } from "node:crypto"
import { hostname } from "node:os"
import { Duration, Effect } from "effect"
import * as Metrics from "../Metrics.js"
import type { Background } from "./background.js"
import * as Scripts from "./scripts/leases.js"
import type { Store } from "./store.js"

export interface Leases {
  /** Hold tokens this process must keep alive: reservations not yet settled in Redis. */
  readonly holds: Set<string>
  /** Permit tokens this process holds. */
  readonly permits: Set<string>
  /** A token no other process (or earlier run of this one) has used. */
  readonly token: () => string
  readonly leaseMillis: number
}

/** Renewed by a fiber in `background`: closing the layer does not wait for a renewal Redis does not answer. */
export const make = (store: Store, leaseMillis: number, background: Background): Leases => {
  const instance = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`
  let next = 0
  const leases: Leases = {
    holds: new Set(),
    permits: new Set(),
    token: () => `${instance}:${next++}`,
    leaseMillis
  }

  const renew = Effect.gen(function* () {
    const holds = [...leases.holds]
    const permits = [...leases.permits]
    const reply = yield* store.run(Scripts.renew, store.keys.all, [
      store.idleMillis,
      leaseMillis,
      holds.length,
      ...holds,
      ...permits
    ])
    // A token settled or given back while the renewal was on its way is gone by right.
    const lost = (Array.isArray(reply) ? reply : []).filter(
      (token): token is string => typeof token === "string" && (leases.holds.has(token) || leases.permits.has(token))
    )
    if (lost.length === 0) return
    Metrics.leasesLost.unsafeUpdate(lost.length, [])
    yield* Effect.logWarning(
      `fleetguard: ${lost.length} lease(s) of this process ran out before they could be renewed (Redis was out of reach for longer than the lease); the reservations were charged in full and the permits given back`
    )
    for (const token of lost) {
      leases.holds.delete(token)
      leases.permits.delete(token)
    }
  })

  // Missed renewals (Redis away) are retried at the next tick; the lease is three ticks long.
  background.run(Effect.forever(Effect.zipRight(Effect.sleep(Duration.millis(leaseMillis / 3)), Effect.ignore(renew))))
  return leases
}
