/**
 * @fleetguard/redis: fleetguard's Budget, Concurrency and CircuitBreaker on Redis, for fleets that
 * span processes.
 *
 * @packageDocumentation
 * @since 0.1.0
 */
export * as RedisMetrics from "./Metrics.js"
export { type RedisGuardServices, RedisGuards, type RedisGuardsOptions } from "./RedisGuards.js"
