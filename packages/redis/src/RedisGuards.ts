/**
 * RedisGuards: fleetguard's `Budget`, `Concurrency` and `CircuitBreaker` — the same services, with
 * the same contract — kept in Redis, so that a fleet spanning processes (or machines) shares one
 * budget, one concurrency limit, one rate-limit gate and one breaker. Layers sharing a `prefix`
 * are one fleet. Agent code and `LlmClient` do not change: provide these layers instead of the
 * in-memory ones.
 *
 * @module
 * @since 0.1.0
 */
import {
  Budget,
  type BudgetOptions,
  CircuitBreaker,
  type CircuitBreakerOptions,
  Concurrency,
  type ConcurrencyOptions,
  Env,
  type GuardServices,
  Guards,
  type InvalidOption,
  Options
} from "@fleetguard/core"
import { Config, type ConfigError, Context, type Duration, Effect, Layer, Option } from "effect"
import type { Redis } from "ioredis"
import * as Background from "./internal/background.js"
import * as RedisBreaker from "./internal/breaker.js"
import * as RedisBudget from "./internal/budget.js"
import * as RedisConcurrency from "./internal/concurrency.js"
import * as Leases from "./internal/leases.js"
import { decodeOptions, refusedBy } from "./internal/options.js"
import * as Outbox from "./internal/outbox.js"
import * as Store from "./internal/store.js"

/**
 * Where the fleet's state is kept in Redis (the server, the key prefix), the guards' options, and
 * what to do while Redis cannot be reached.
 *
 * @since 0.1.0
 * @category models
 */
export interface RedisGuardsOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://…` (TLS); default `redis://127.0.0.1:6379`. */
  readonly url?: string | undefined
  /**
   * An ioredis client to take the connection settings from (host, TLS, auth, sentinels…) instead of
   * `url`. fleetguard opens its own connections from it (`duplicate`), with no offline queue and no
   * resending on reconnect: a guard step must run now or be known not to have run.
   */
  readonly client?: Redis | undefined
  /** Every key and the pub/sub channel start with it; layers sharing it are one fleet. */
  readonly prefix: string
  readonly budget: BudgetOptions
  readonly concurrency: ConcurrencyOptions
  readonly breaker: CircuitBreakerOptions
  /**
   * When Redis cannot be reached: false (default) fails the call with `GuardUnavailable` before
   * anything runs; true lets it through under this process's own concurrency limit, unbudgeted,
   * and records its cost in the fleet's ledger once Redis is back.
   */
  readonly failOpen?: boolean | undefined
  /** How long a reservation or permit outlives a holder that stopped renewing it; default 10 seconds. */
  readonly lease?: Duration.DurationInput | undefined
  /** The fleet's keys expire this long after its last activity with no process attached; default 24 hours. */
  readonly idleExpiry?: Duration.DurationInput | undefined
  /**
   * How long a guard step waits for Redis before it counts as unreachable; default 2 seconds (at
   * most a quarter of the lease). It also bounds the waits of the layer itself: building waits at
   * most this long for a first connection, closing at most this long for the outbox.
   */
  readonly timeout?: Duration.DurationInput | undefined
}

/**
 * The services `RedisGuards.layer` provides: the guards whose state is shared through Redis.
 *
 * @since 0.1.0
 * @category models
 */
export type RedisGuardServices = Budget | Concurrency | CircuitBreaker

/**
 * `Budget`, `Concurrency` and `CircuitBreaker` on Redis. A bad option fails naming it
 * (`budget.limitUsd`, `lease`). Redis being unreachable does not fail the layer: it builds within
 * `timeout`, calls fail with `GuardUnavailable` (or pass, failing open) until Redis is back, and the
 * layer recovers by itself. Redis refusing the credentials (or the user's permissions) is not
 * transient: the build fails at once with `InvalidOption` naming `url` (or `client`) and saying
 * "authentication failed", never showing the password.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: RedisGuardsOptions): Layer.Layer<RedisGuardServices, InvalidOption> =>
  Layer.scopedContext(
    Effect.gen(function* () {
      const decoded = yield* decodeOptions(options)
      const { failOpen } = decoded
      const store = yield* Effect.mapError(Store.make(decoded.store), (refused) => refusedBy(options, refused))
      const background = yield* Background.make
      const outbox = yield* Outbox.make(decoded.store.timeoutMillis, background)
      const leases = Leases.make(store, decoded.leaseMillis, background)
      const breaker = RedisBreaker.make(decoded.breaker, { store, outbox, failOpen, background })
      const concurrency = RedisConcurrency.make(decoded.concurrency, {
        store,
        leases,
        outbox,
        failOpen,
        observeBreaker: breaker.observe
      })
      const budget = RedisBudget.make(decoded.budget, { store, leases, outbox, failOpen })
      store.listen(concurrency.onMessage)
      store.listen(breaker.onMessage)
      return Context.make(Budget, budget).pipe(
        Context.add(Concurrency, concurrency.service),
        Context.add(CircuitBreaker, breaker.service)
      )
    })
  )

/**
 * FLEETGUARD_REDIS_URL (required), FLEETGUARD_REDIS_PREFIX (default "fleetguard"),
 * FLEETGUARD_REDIS_FAIL_OPEN (default false), FLEETGUARD_REDIS_LEASE, FLEETGUARD_REDIS_IDLE_EXPIRY,
 * FLEETGUARD_REDIS_TIMEOUT, and the guards' usual FLEETGUARD_* variables.
 *
 * @since 0.1.0
 * @category config
 */
export const config: Config.Config<RedisGuardsOptions> = Config.all({
  url: Config.string("FLEETGUARD_REDIS_URL"),
  prefix: Config.string("FLEETGUARD_REDIS_PREFIX").pipe(Config.withDefault("fleetguard")),
  failOpen: Config.boolean("FLEETGUARD_REDIS_FAIL_OPEN").pipe(Config.withDefault(false)),
  lease: Env.optional(Env.duration("FLEETGUARD_REDIS_LEASE")),
  idleExpiry: Env.optional(Env.duration("FLEETGUARD_REDIS_IDLE_EXPIRY")),
  timeout: Env.optional(Env.duration("FLEETGUARD_REDIS_TIMEOUT")),
  budget: Budget.config,
  concurrency: Concurrency.config,
  breaker: CircuitBreaker.config
})

const variables = {
  url: "FLEETGUARD_REDIS_URL",
  prefix: "FLEETGUARD_REDIS_PREFIX",
  lease: "FLEETGUARD_REDIS_LEASE",
  idleExpiry: "FLEETGUARD_REDIS_IDLE_EXPIRY",
  timeout: "FLEETGUARD_REDIS_TIMEOUT",
  "budget.limitUsd": "FLEETGUARD_BUDGET_USD",
  "budget.perAgentLimitUsd": "FLEETGUARD_AGENT_BUDGET_USD",
  "budget.alertAt": "FLEETGUARD_ALERT_AT",
  "concurrency.maxConcurrency": "FLEETGUARD_MAX_CONCURRENCY",
  "concurrency.releaseWindow": "FLEETGUARD_RELEASE_WINDOW",
  "concurrency.maxPause": "FLEETGUARD_MAX_PAUSE",
  "breaker.failureThreshold": "FLEETGUARD_BREAKER_THRESHOLD",
  "breaker.resetAfter": "FLEETGUARD_BREAKER_RESET",
  "breaker.halfOpenMaxCalls": "FLEETGUARD_BREAKER_HALF_OPEN_CALLS"
} as const

/**
 * The Redis guards from the environment; a bad value fails naming the variable.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options: Config.Config<RedisGuardsOptions> = config
): Layer.Layer<RedisGuardServices, ConfigError.ConfigError> => Options.layerFromConfig(options, variables, layer)

/**
 * Every guard from the environment, as `Guards.layerConfig()`, with `Budget`, `Concurrency` and
 * `CircuitBreaker` on Redis when FLEETGUARD_REDIS_URL is set: one variable moves a program from
 * one process to a fleet of them.
 *
 * @since 0.1.0
 * @category layers
 */
export const guardsLayerConfig = (): Layer.Layer<GuardServices, ConfigError.ConfigError | InvalidOption> =>
  Layer.unwrapEffect(
    Effect.map(Config.option(Config.string("FLEETGUARD_REDIS_URL")), (url) =>
      Option.isNone(url) ? Guards.layerConfig() : Layer.merge(Guards.layerConfig(), layerConfig())
    )
  )

/**
 * The guards on Redis as one: their layer from options or from the environment, and every guard
 * with the shared ones on Redis.
 *
 * @since 0.1.0
 * @category layers
 */
export const RedisGuards = { layer, layerConfig, config, guardsLayerConfig } as const
