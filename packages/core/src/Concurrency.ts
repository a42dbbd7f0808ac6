/**
 * Concurrency: the one gate every agent's calls pass through. A shared semaphore caps the calls in
 * flight; a shared rate-limit gate, closed by `pauseFor` when the provider says "slow down", holds
 * every caller until the pause has passed and then releases them spread over a short window.
 *
 * @module
 * @since 0.1.0
 */

import { Clock, Config, Context, Deferred, Duration, Effect, Exit, type Fiber, FiberId, Layer, Schema } from "effect"
import * as Env from "./Env.js"
import type { GuardUnavailable, InvalidOption } from "./Errors.js"
import * as Events from "./Events.js"
import { type ConcurrencyEngine, type Engined, EngineId } from "./internal/engine.js"
import { nowOf, withService } from "./internal/fiber.js"
import * as Gate from "./internal/gate.js"
import { Permits, type Waiter } from "./internal/permits.js"
import * as Metrics from "./Metrics.js"
import { DurationMillis, decode, durationMillis, layerFromConfig, Options, PositiveInteger } from "./Options.js"

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
 * The default `maxPause`.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultMaxPauseMillis = 60_000

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

const OptionsSchema = Options({
  maxConcurrency: PositiveInteger,
  releaseWindow: DurationMillis(true).pipe(Schema.optional),
  maxPause: DurationMillis().pipe(Schema.optional)
})

type Restore = <X, Y, Z>(effect: Effect.Effect<X, Y, Z>) => Effect.Effect<X, Y, Z>

/**
 * Concurrency options with their defaults filled in, durations in millis.
 *
 * @since 0.1.0
 * @category models
 */
export interface DecodedConcurrencyOptions {
  readonly limit: number
  readonly windowMillis: number
  readonly maxPauseMillis: number
}

/**
 * Decodes concurrency options as `make` does, defaults filled in: for semaphores and gates kept
 * elsewhere (another store) that take the same options.
 *
 * @since 0.1.0
 * @category utils
 */
export const decodeOptions = (options: ConcurrencyOptions): Effect.Effect<DecodedConcurrencyOptions, InvalidOption> =>
  Effect.map(decode(OptionsSchema, options), (decoded) => ({
    limit: decoded.maxConcurrency,
    windowMillis: decoded.releaseWindow ?? 1_000,
    maxPauseMillis: decoded.maxPause ?? defaultMaxPauseMillis
  }))

/**
 * Where in the release window the `ticket`-th caller held at a closed gate is released, as a
 * fraction in [0, 1): consecutive tickets land spread evenly, no two at the same offset.
 *
 * @since 0.1.0
 * @category utils
 */
export const releaseOffset: (ticket: number) => number = Gate.spread

/**
 * An in-memory semaphore and gate with the limits `options` give, or `InvalidOption` naming a bad
 * one.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: ConcurrencyOptions): Effect.Effect<ConcurrencyService, InvalidOption> =>
  Effect.gen(function* () {
    const { limit, windowMillis, maxPauseMillis } = yield* decodeOptions(options)
    const permits = new Permits(limit)
    // The gate is changed only by applying its pure functions in one synchronous step.
    let gate = Gate.open
    /** Completed by `resume`, so that callers asleep at the gate wake at once; then replaced. */
    let resumed = Deferred.unsafeMake<void>(FiberId.none)
    /** Callers asleep at the closed gate (those queued for a permit are counted by `permits`). */
    let atGate = 0

    const updateGauges = () => {
      Metrics.concurrencyInFlight.unsafeUpdate(permits.inFlight, [])
      Metrics.concurrencyWaiting.unsafeUpdate(atGate + permits.waiting, [])
    }

    const release = () => {
      permits.release()
      updateGauges()
    }

    // `self` holding a permit, given back however it ends: run where interruption is masked, so
    // the continuation that gives it back always runs.
    const held = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
      Effect.flatMap(Effect.exit(self), (exit) => {
        release()
        return exit
      })

    /** Undefined when the gate lets a caller pass at the fiber's clock, else when to look again. */
    const passes = (fiber: Fiber.RuntimeFiber<unknown, unknown>): number | undefined => {
      if (gate.pausedUntil === 0) return undefined
      const [wakeAt, next] = Gate.admit(gate, nowOf(fiber), windowMillis)
      gate = next
      return wakeAt
    }

    // Asleep at the gate until the wake-up time it handed out, or until an operator resumes.
    const sleepAtGate = (fiber: Fiber.RuntimeFiber<unknown, unknown>, wakeAt: number) =>
      Effect.suspend(() => {
        atGate++
        updateGauges()
        return Effect.ensuring(
          Effect.raceFirst(Effect.sleep(wakeAt - nowOf(fiber)), Deferred.await(resumed)),
          Effect.sync(() => {
            atGate--
            updateGauges()
          })
        )
      })

    // The slow path, masked except where it waits: past the gate, then a permit (given back, and
    // the gate passed again, if the gate closed while it waited).
    const acquireThen = <A, E, R>(restore: Restore, self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
      Effect.withFiberRuntime((fiber) => {
        const wakeAt = passes(fiber)
        if (wakeAt !== undefined)
          return Effect.zipRight(restore(sleepAtGate(fiber, wakeAt)), acquireThen(restore, self))
        if (permits.tryTake()) {
          updateGauges()
          return held(restore(self))
        }
        const waiter: Waiter = { granted: false, resume: undefined }
        const parked = permits.park(waiter)
        return Effect.matchCauseEffect(restore(parked), {
          onFailure: (cause) => {
            permits.abandon(waiter)
            updateGauges()
            return Effect.failCause(cause)
          },
          onSuccess: () => {
            if (passes(fiber) === undefined) return held(restore(self))
            release()
            return acquireThen(restore, self)
          }
        })
      })

    // Fast path: the gate has never been closed (or was cleared) and a permit is free.
    const withPermit = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
      Effect.uninterruptibleMask((restore) => (engine.tryAcquire() ? held(restore(self)) : acquireThen(restore, self)))

    const pauseFor = (duration: Duration.DurationInput): Effect.Effect<void> => {
      const requested =
        Duration.isDuration(duration) && !Duration.isFinite(duration) ? Infinity : durationMillis(duration)
      if (requested === undefined) return Effect.void
      return Effect.flatMap(Clock.currentTimeMillis, (now) => {
        const capped = requested > maxPauseMillis
        const until = now + Math.ceil(capped ? maxPauseMillis : requested)
        const wasClosed = gate.pausedUntil > now
        const [moved, next] = Gate.pauseUntil(gate, until)
        gate = next
        if (!moved && !capped) return Effect.void
        // A pause is counted once, when the gate closes; a later 429 only moves its end.
        if (moved && !wasClosed) Metrics.concurrencyPauses.unsafeUpdate(1, [])
        return Events.publish(
          (at) =>
            new Events.RateLimitPause({
              at,
              pausedUntil: gate.pausedUntil,
              requestedMillis: Number.isFinite(requested) ? requested : undefined,
              capped,
              extended: wasClosed
            })
        )
      })
    }

    const resume = Effect.suspend(() => {
      const wasClosed = gate.pausedUntil !== 0
      gate = Gate.open
      const waking = resumed
      resumed = Deferred.unsafeMake<void>(FiberId.none)
      Deferred.unsafeDone(waking, Exit.void)
      return wasClosed ? Events.publish((at) => new Events.RateLimitResumed({ at })) : Effect.void
    })

    const snapshot = Effect.map(
      Clock.currentTimeMillis,
      (now): ConcurrencySnapshot => ({
        limit,
        inFlight: permits.inFlight,
        waiting: atGate + permits.waiting,
        pausedUntil: Gate.isOpen(gate, now) ? null : gate.pausedUntil
      })
    )

    const engine: ConcurrencyEngine = {
      tryAcquire: () => {
        if (gate.pausedUntil !== 0 || !permits.tryTake()) return false
        updateGauges()
        return true
      },
      release
    }

    return {
      limit,
      maxPauseMillis,
      withPermit,
      pauseFor,
      resume,
      snapshot,
      [EngineId]: engine
    } satisfies ConcurrencyService & Engined<ConcurrencyEngine>
  })

/**
 * The in-memory `Concurrency` with the limits `options` give.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: ConcurrencyOptions): Layer.Layer<Concurrency, InvalidOption> =>
  Layer.effect(Concurrency, make(options))

/**
 * FLEETGUARD_MAX_CONCURRENCY (default 8), FLEETGUARD_RELEASE_WINDOW (default "1 second") and
 * FLEETGUARD_MAX_PAUSE (default "60 seconds").
 *
 * @since 0.1.0
 * @category config
 */
export const config: Config.Config<ConcurrencyOptions> = Config.all({
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
export const layerConfig = (options: Config.Config<ConcurrencyOptions> = config) =>
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
  static readonly decodeOptions = decodeOptions
  static readonly releaseOffset = releaseOffset
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
