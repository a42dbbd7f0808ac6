/**
 * Concurrency: the one gate every agent's calls pass through. A shared semaphore caps the calls in
 * flight; a shared rate-limit gate, closed by `pauseFor` when the provider says "slow down", holds
 * every caller until the pause has passed and then releases them spread over a short window.
 *
 * @module
 * @since 0.1.0
 */

import { Config, Context, type Duration, Effect, Layer } from "effect"
import * as Env from "./Env.js"
import type { GuardUnavailable, InvalidOption } from "./Errors.js"
import * as Backend from "./internal/backend/concurrency.js"
import * as InMemory from "./internal/memory/concurrency.js"
import { withService } from "./internal/runtime/fiber.js"
import { layerFromConfig } from "./Options.js"

/**
 * How many calls a `Concurrency` lets run at once, and how its rate-limit gate pauses and reopens.
 *
 * @since 0.1.0
 * @category models
 */
export interface ConcurrencyOptions {
  /** The most calls in flight at once, across the whole fleet. */
  readonly maxConcurrency: number
  /** Over how long waiters are released when the gate reopens; default 1 second. */
  readonly releaseWindow?: Duration.DurationInput | undefined
  /**
   * The longest the gate ever stays closed; default 60 seconds. A provider asking for a longer
   * wait gets that call failed with `RateLimited` (not retried) and the gate closed for `maxPause`.
   */
  readonly maxPause?: Duration.DurationInput | undefined
}

/**
 * The gate at one instant: its limit, calls in flight and waiting, and until when it is closed.
 *
 * @since 0.1.0
 * @category models
 */
export interface ConcurrencySnapshot {
  readonly limit: number
  readonly inFlight: number
  readonly waiting: number
  /** Epoch millis until which the gate is closed; null while it is open. */
  readonly pausedUntil: number | null
}

/**
 * The fleet's gate: permits for calls in flight, and the rate-limit pause every caller waits out.
 *
 * @since 0.1.0
 * @category models
 */
export interface ConcurrencyService {
  readonly limit: number
  /** The longest the gate closes, in millis. */
  readonly maxPauseMillis: number
  /**
   * Runs `self` holding one permit, taken only while the gate is open. The permit comes back on
   * success, failure and interruption; waiting is interruptible.
   */
  readonly withPermit: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | GuardUnavailable, R>
  /**
   * Closes the gate for every caller for `duration`, at most `maxPause`; never shortens a longer
   * pause. A duration that is negative, NaN or unreadable closes nothing.
   */
  readonly pauseFor: (duration: Duration.DurationInput) => Effect.Effect<void>
  /** Reopens the gate now, releasing every waiter (for operators). */
  readonly resume: Effect.Effect<void>
  readonly snapshot: Effect.Effect<ConcurrencySnapshot>
}

/**
 * An in-memory semaphore and gate with the limits `options` give, or `InvalidOption` naming a bad
 * one.
 */
const make = (options: ConcurrencyOptions): Effect.Effect<ConcurrencyService, InvalidOption> =>
  Effect.map(Backend.decodeOptions(options), InMemory.make)

/**
 * The in-memory `Concurrency` with the limits `options` give.
 *
 * @since 0.1.0
 * @category layers
 */
const layer = (options: ConcurrencyOptions): Layer.Layer<Concurrency, InvalidOption> =>
  Layer.effect(Concurrency, make(options))

/**
 * FLEETGUARD_MAX_CONCURRENCY (default 8), FLEETGUARD_RELEASE_WINDOW (default "1 second") and
 * FLEETGUARD_MAX_PAUSE (default "60 seconds").
 *
 * @since 0.1.0
 * @category config
 */
const config: Config.Config<ConcurrencyOptions> = Config.all({
  maxConcurrency: Env.int("FLEETGUARD_MAX_CONCURRENCY").pipe(Config.withDefault(8)),
  releaseWindow: Env.optional(Env.duration("FLEETGUARD_RELEASE_WINDOW")),
  maxPause: Env.optional(Env.duration("FLEETGUARD_MAX_PAUSE"))
})

/**
 * The in-memory `Concurrency` with the limits read from `config` (the environment by default); a
 * bad value fails naming its variable.
 *
 * @since 0.1.0
 * @category layers
 */
const layerConfig = (options: Config.Config<ConcurrencyOptions> = config) =>
  layerFromConfig(
    options,
    {
      maxConcurrency: "FLEETGUARD_MAX_CONCURRENCY",
      releaseWindow: "FLEETGUARD_RELEASE_WINDOW",
      maxPause: "FLEETGUARD_MAX_PAUSE"
    },
    layer
  )

/**
 * The tag of the fleet's concurrency limit and rate-limit gate, with the module's constructors,
 * layers and accessors as static members.
 *
 * @since 0.1.0
 * @category tags
 */
export class Concurrency extends Context.Tag("@fleetguard/core/Concurrency")<Concurrency, ConcurrencyService>() {
  static readonly make = make
  static readonly layer = layer
  static readonly layerConfig = layerConfig
  static readonly config = config
  static readonly withPermit = <A, E, R>(
    self: Effect.Effect<A, E, R>
  ): Effect.Effect<A, E | GuardUnavailable, R | Concurrency> => withService(Concurrency, (c) => c.withPermit(self))
  static readonly pauseFor = (duration: Duration.DurationInput): Effect.Effect<void, never, Concurrency> =>
    Effect.flatMap(Concurrency, (c) => c.pauseFor(duration))
  /** Reopens the gate now, for operators. */
  static readonly resume: Effect.Effect<void, never, Concurrency> = Effect.flatMap(Concurrency, (c) => c.resume)
  static readonly snapshot: Effect.Effect<ConcurrencySnapshot, never, Concurrency> = Effect.flatMap(
    Concurrency,
    (c) => c.snapshot
  )
}
