/**
 * CircuitBreaker: Closed / Open / HalfOpen, and — unlike breakers that only stop new calls — it
 * interrupts every tracked in-flight fiber the moment it trips, so calls already running stop
 * costing money (interruption aborts their HTTP requests). Each interrupted caller gets a typed
 * `CircuitOpen`, never a bare interruption that would take its siblings in `Effect.all` down too.
 *
 * @module
 * @since 0.1.0
 */

import { Config, Context, type Duration, Effect, Layer } from "effect"
import * as Env from "./Env.js"
import type { CircuitOpen, GuardUnavailable, InvalidOption } from "./Errors.js"
import * as Backend from "./internal/backend/breaker.js"
import * as InMemory from "./internal/memory/breaker.js"
import { withService } from "./internal/runtime/fiber.js"
import { layerFromConfig } from "./Options.js"

/**
 * Trip on the failure rate over a sliding window of outcomes, rather than on consecutive failures.
 *
 * @since 0.1.0
 * @category models
 */
export interface FailureRateOptions {
  /** Fraction of failures in the window that trips, in (0, 1]. */
  readonly threshold: number
  /** How many of the latest outcomes are looked at. */
  readonly windowSize: number
  /** No verdict until the window holds this many outcomes. */
  readonly minimumCalls: number
}

/**
 * When a `CircuitBreaker` trips, how long it stays open, how it probes, and which failures count.
 *
 * @since 0.1.0
 * @category models
 */
export interface CircuitBreakerOptions {
  /** Consecutive upstream failures that trip it (unless `failureRate` is given). */
  readonly failureThreshold: number
  /** How long it stays open before probes are admitted. */
  readonly resetAfter: Duration.DurationInput
  /** Probes running at once while half-open; this many successes close it. */
  readonly halfOpenMaxCalls: number
  /** Trip on a failure rate over a sliding window instead of consecutive failures. */
  readonly failureRate?: FailureRateOptions | undefined
  /** Each consecutive re-opening waits this many times longer (default 1: constant)… */
  readonly backoffFactor?: number | undefined
  /** …up to this (default 32 × resetAfter). */
  readonly maxResetAfter?: Duration.DurationInput | undefined
  /**
   * Which typed failures count. Default: every one except fleetguard's own rejections
   * (BudgetExceeded, DepthLimitExceeded, CircuitOpen, UnknownModel, InvalidAmount, InvalidOption,
   * GuardUnavailable) and client errors (InvalidRequest, AuthenticationFailed). Interruptions and
   * defects never count; nor, inside `LlmClient`, `GuardedLanguageModel` and `Guards.wrap`, do
   * rate limits (`isRateLimit`), whatever this says.
   */
  readonly isFailure?: ((error: unknown) => boolean) | undefined
}

/**
 * Where the breaker is: `Closed` admits every call, `Open` refuses them, `HalfOpen` admits a few
 * probes.
 *
 * @since 0.1.0
 * @category models
 */
export type BreakerState = "Closed" | "Open" | "HalfOpen"

/**
 * The breaker at one instant: its state, its counts, and when it reopens to probes.
 *
 * @since 0.1.0
 * @category models
 */
export interface CircuitBreakerSnapshot {
  readonly state: BreakerState
  /** Tracked fibers running now. */
  readonly tracked: number
  /** Consecutive openings without a close in between. */
  readonly trips: number
  /** Epoch millis when a probe may be admitted, while Open. */
  readonly reopenAt: number | null
  readonly isolated: boolean
}

/**
 * The breaker: protects calls (admits, tracks, counts them), and can be isolated or reset by hand.
 *
 * @since 0.1.0
 * @category models
 */
export interface CircuitBreakerService {
  /** Runs `self` if admitted, tracked (a trip interrupts it), and counts how it ended. */
  readonly protect: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | CircuitOpen | GuardUnavailable, R>
  /** Runs `self` tracked, without admission or counting: a trip interrupts it (used by `Agent.run`). */
  readonly track: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | CircuitOpen, R>
  readonly state: Effect.Effect<BreakerState>
  readonly snapshot: Effect.Effect<CircuitBreakerSnapshot>
  /** Holds it open, interrupting tracked fibers, until `reset`. */
  readonly isolate: Effect.Effect<void>
  /** Closes it and forgets its statistics. */
  readonly reset: Effect.Effect<void>
}

/** An in-memory breaker with the policy `options` give, or `InvalidOption` naming a bad one. */
const make = (options: CircuitBreakerOptions): Effect.Effect<CircuitBreakerService, InvalidOption> =>
  Effect.map(Backend.decodeOptions(options), InMemory.make)

/**
 * The in-memory `CircuitBreaker` with the policy `options` give.
 *
 * @since 0.1.0
 * @category layers
 */
const layer = (options: CircuitBreakerOptions): Layer.Layer<CircuitBreaker, InvalidOption> =>
  Layer.effect(CircuitBreaker, make(options))

/**
 * FLEETGUARD_BREAKER_THRESHOLD (default 5), FLEETGUARD_BREAKER_RESET (default "30 seconds"),
 * FLEETGUARD_BREAKER_HALF_OPEN_CALLS (default 1).
 *
 * @since 0.1.0
 * @category config
 */
const config: Config.Config<CircuitBreakerOptions> = Config.all({
  failureThreshold: Env.int("FLEETGUARD_BREAKER_THRESHOLD").pipe(Config.withDefault(5)),
  resetAfter: Env.duration("FLEETGUARD_BREAKER_RESET").pipe(Config.withDefault(30_000)),
  halfOpenMaxCalls: Env.int("FLEETGUARD_BREAKER_HALF_OPEN_CALLS").pipe(Config.withDefault(1))
})

const variables = {
  failureThreshold: "FLEETGUARD_BREAKER_THRESHOLD",
  resetAfter: "FLEETGUARD_BREAKER_RESET",
  halfOpenMaxCalls: "FLEETGUARD_BREAKER_HALF_OPEN_CALLS"
} as const

/**
 * The in-memory `CircuitBreaker` with the policy read from `config` (the environment by default);
 * a bad value fails naming its variable.
 *
 * @since 0.1.0
 * @category layers
 */
const layerConfig = (options: Config.Config<CircuitBreakerOptions> = config) =>
  layerFromConfig(options, variables, layer)

/**
 * The tag of the fleet's circuit breaker, with the module's constructors, layers and accessors as
 * static members.
 *
 * @since 0.1.0
 * @category tags
 */
export class CircuitBreaker extends Context.Tag("@fleetguard/core/CircuitBreaker")<
  CircuitBreaker,
  CircuitBreakerService
>() {
  static readonly make = make
  static readonly layer = layer
  static readonly layerConfig = layerConfig
  static readonly config = config
  static readonly protect = <A, E, R>(
    self: Effect.Effect<A, E, R>
  ): Effect.Effect<A, E | CircuitOpen | GuardUnavailable, R | CircuitBreaker> =>
    withService(CircuitBreaker, (breaker) => breaker.protect(self))
  static readonly state: Effect.Effect<BreakerState, never, CircuitBreaker> = Effect.flatMap(
    CircuitBreaker,
    (breaker) => breaker.state
  )
  static readonly snapshot: Effect.Effect<CircuitBreakerSnapshot, never, CircuitBreaker> = Effect.flatMap(
    CircuitBreaker,
    (breaker) => breaker.snapshot
  )
  static readonly isolate: Effect.Effect<void, never, CircuitBreaker> = Effect.flatMap(
    CircuitBreaker,
    (breaker) => breaker.isolate
  )
  static readonly reset: Effect.Effect<void, never, CircuitBreaker> = Effect.flatMap(
    CircuitBreaker,
    (breaker) => breaker.reset
  )
}
