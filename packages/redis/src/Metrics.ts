/**
 * The metrics of the guards on Redis, beside core's (which they record too): module-level
 * constants with stable names. A library emits; the application chooses the exporter.
 *
 * @module
 * @since 0.1.0
 */
import { Metric } from "effect"

/**
 * Guard steps that found Redis unreachable, tagged `guard` (budget, concurrency, breaker): the
 * call failed with GuardUnavailable, or ran failing open.
 *
 * @since 0.1.0
 * @category redis
 */
export const unavailable = Metric.counter("fleetguard_redis_unavailable_total", {
  description: "Guard steps that found Redis unreachable",
  incremental: true
})

/**
 * Settlements, permits given back and undo steps waiting in the outbox for Redis.
 *
 * @since 0.1.0
 * @category redis
 */
export const outboxPending = Metric.gauge("fleetguard_redis_outbox_pending", {
  description: "Steps waiting for Redis to be reachable again"
})

/**
 * Leases of this process that ran out before it could renew them (Redis out of reach for longer
 * than the lease): its reservations were charged in full, its permits given back.
 *
 * @since 0.1.0
 * @category redis
 */
export const leasesLost = Metric.counter("fleetguard_redis_leases_lost_total", {
  description: "Leases that ran out before this process could renew them",
  incremental: true
})
