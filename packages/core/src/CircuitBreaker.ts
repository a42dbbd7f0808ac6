/**
 * CircuitBreaker: Closed / Open / HalfOpen, and — unlike breakers that only stop new calls — it
 * interrupts every tracked in-flight fiber the moment it trips, so calls already running stop
 * costing money (interruption aborts their HTTP requests). Each interrupted caller gets a typed
 * `CircuitOpen`, never a bare interruption that would take its siblings in `Effect.all` down too.
 *
 * @module
 * @since 0.1.0
 */

import { Cause, Clock, Config, Context, type Duration, Effect, Exit, Layer, Metric, Option, Schema } from "effect"
import * as Env from "./Env.js"
import type { GuardUnavailable, InvalidOption } from "./Errors.js"
import { CircuitOpen, isCountedFailure } from "./Errors.js"
import * as Events from "./Events.js"
import * as Policy from "./internal/breaker.js"
import { type BreakerEngine, type Engined, EngineId } from "./internal/engine.js"
import { nowOf, withService } from "./internal/fiber.js"
import * as Tracking from "./internal/tracking.js"
import * as Metrics from "./Metrics.js"
import {
  check,
  DurationMillis,
  decode,
  Fraction,
  FunctionOption,
  layerFromConfig,
  maxTimerMillis,
  Options,
  option,
  PositiveInteger
} from "./Options.js"

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

const stateCode = { Closed: 0, HalfOpen: 1, Open: 2 } as const

const OptionsSchema = Options({
  failureThreshold: PositiveInteger,
  resetAfter: DurationMillis(),
  halfOpenMaxCalls: PositiveInteger,
  failureRate: Schema.optional(
    Options({ threshold: Fraction, windowSize: PositiveInteger, minimumCalls: PositiveInteger })
  ),
  backoffFactor: Schema.optional(
    option((n): n is number => typeof n === "number" && Number.isFinite(n) && n >= 1, "must be a finite number ≥ 1")
  ),
  maxResetAfter: Schema.optional(DurationMillis()),
  isFailure: Schema.optional(FunctionOption)
})

/**
 * The breaker's policy as `make` decodes it: the trip rule, the waits and the probes.
 *
 * @since 0.1.0
 * @category models
 */
export interface BreakerSettings extends Policy.Settings {}

/**
 * How the breaker decides to trip: consecutive failures, or a failure rate over a window.
 *
 * @since 0.1.0
 * @category models
 */
export type { Policy as BreakerPolicy } from "./internal/breaker.js"

/**
 * What tracks the fibers a trip interrupts (see `CircuitBreaker.tracker`).
 *
 * @since 0.1.0
 * @category models
 */
export interface Tracker extends Tracking.Tracker {}

/**
 * The policy's settings and the failure rule, from decoded options: for breakers whose state is
 * kept elsewhere (another store) that take the same options.
 *
 * @since 0.1.0
 * @category utils
 */
export const decodeOptions = (
  options: CircuitBreakerOptions
): Effect.Effect<
  { readonly settings: BreakerSettings; readonly isFailure: (error: unknown) => boolean },
  InvalidOption
> =>
  Effect.gen(function* () {
    const decoded = yield* decode(OptionsSchema, options)
    const { halfOpenMaxCalls, resetAfter: resetAfterMillis } = decoded
    const rate = decoded.failureRate
    if (rate !== undefined) {
      yield* check(
        "failureRate.minimumCalls",
        rate.minimumCalls,
        (n) => n <= rate.windowSize,
        "must be a whole number from 1 to windowSize"
      )
    }
    const settings: Policy.Settings = {
      policy:
        rate === undefined
          ? { _tag: "Consecutive", threshold: decoded.failureThreshold }
          : { _tag: "FailureRate", ...rate },
      resetAfterMillis,
      backoffFactor: decoded.backoffFactor ?? 1,
      maxResetAfterMillis: Math.min(
        maxTimerMillis,
        Math.max(decoded.maxResetAfter ?? resetAfterMillis * 32, resetAfterMillis)
      ),
      halfOpenMaxCalls
    }
    const isFailure: (error: unknown) => boolean = options.isFailure ?? isCountedFailure
    return { settings, isFailure }
  })

/**
 * A trip: every tracked fiber is interrupted at once, then it is counted and published.
 *
 * @since 0.1.0
 * @category events
 */
export const tripped = (tracker: Tracker, reopenAt: number | undefined, trips: number) =>
  Effect.gen(function* () {
    const now = yield* Clock.currentTimeMillis
    const error = new CircuitOpen({
      interrupted: true,
      ...(reopenAt === undefined ? {} : { retryAfterMillis: reopenAt - now })
    })
    const interrupted = yield* tracker.interruptAll(error)
    yield* Metric.set(Metrics.breakerState, stateCode.Open)
    yield* Metric.increment(Metrics.breakerTrips)
    yield* Metric.incrementBy(Metrics.breakerInterrupted, interrupted.call + interrupted.agent)
    yield* Events.publish(
      (at) =>
        new Events.BreakerOpened({
          at,
          interrupted: interrupted.call + interrupted.agent,
          interruptedAgents: interrupted.agent,
          trips,
          ...(reopenAt === undefined ? {} : { reopenAt })
        })
    )
  })

/**
 * The breaker closed: the state gauge and `BreakerClosed`.
 *
 * @since 0.1.0
 * @category events
 */
export const closed = Effect.zipRight(
  Metric.set(Metrics.breakerState, stateCode.Closed),
  Events.publish((at) => new Events.BreakerClosed({ at }))
)

/**
 * The first probe was admitted: the state gauge and `BreakerHalfOpened`.
 *
 * @since 0.1.0
 * @category events
 */
export const halfOpened = Effect.zipRight(
  Metric.set(Metrics.breakerState, stateCode.HalfOpen),
  Events.publish((at) => new Events.BreakerHalfOpened({ at }))
)

/**
 * A call refused while open (or while the probe slots are taken): counted, published, failed with `CircuitOpen`.
 *
 * @since 0.1.0
 * @category events
 */
export const refused = (retryAfterMillis: number | undefined) =>
  Effect.zipRight(
    Effect.zipRight(
      Metric.increment(Metrics.breakerRejected),
      Events.rejected("CircuitOpen", retryAfterMillis === undefined ? "isolated" : `retry after ${retryAfterMillis} ms`)
    ),
    Effect.fail(
      new CircuitOpen({ interrupted: false, ...(retryAfterMillis === undefined ? {} : { retryAfterMillis }) })
    )
  )

/**
 * An in-memory breaker with the policy `options` give, or `InvalidOption` naming a bad one.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: CircuitBreakerOptions): Effect.Effect<CircuitBreakerService, InvalidOption> =>
  Effect.gen(function* () {
    const { settings, isFailure } = yield* decodeOptions(options)
    // Changed only by applying the policy's pure functions in one synchronous step.
    let state = Policy.closed(settings)
    const tracker = Tracking.make()

    const outcomeOf = (exit: Exit.Exit<unknown, unknown>): Policy.Outcome =>
      Exit.isSuccess(exit)
        ? "success"
        : Option.match(Cause.failureOption(exit.cause), {
            onNone: () => "ignored",
            onSome: (error) => (isFailure(error) ? "failure" : "ignored")
          })

    /** Records how an admitted call ended; what its transition calls for, if any. */
    const record = (ticket: Policy.Ticket, exit: Exit.Exit<unknown, unknown>, now: number) => {
      const [transition, next] = Policy.record(settings, state, ticket, outcomeOf(exit), now)
      state = next
      return transition === undefined
        ? undefined
        : transition._tag === "Opened"
          ? tripped(tracker, transition.reopenAt, transition.trips)
          : closed
    }

    const engine: BreakerEngine = {
      tryAdmit: (fiber) => {
        if (state._tag !== "Closed") return undefined
        const [admission] = Policy.admit(settings, state, nowOf(fiber))
        return admission._tag === "Admitted" ? admission.ticket : undefined
      },
      run: tracker.call,
      end: (ticket, exit, fiber) => record(ticket, exit, nowOf(fiber))
    }

    // Admission and the record of the outcome are masked from interruption, so that a probe's
    // slot is always given back; only the call runs interruptible.
    const protect = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E | CircuitOpen, R> =>
      Effect.uninterruptibleMask((restore) =>
        Effect.withFiberRuntime((fiber) => {
          const [admission, next] = Policy.admit(settings, state, nowOf(fiber))
          state = next
          if (admission._tag === "Rejected") return refused(admission.retryAfterMillis)
          const run = Effect.flatMap(Effect.exit(restore(tracker.call(fiber, self))), (exit) => {
            const report = record(admission.ticket, exit, nowOf(fiber))
            return report === undefined ? exit : Effect.zipRight(report, exit)
          })
          return admission.halfOpened ? Effect.zipRight(halfOpened, run) : run
        })
      )

    const snapshot = Effect.sync(
      (s = state): CircuitBreakerSnapshot => ({
        state: Policy.publicState(s),
        tracked: tracker.size(),
        trips: s._tag === "Open" || s._tag === "HalfOpen" ? s.trips : 0,
        reopenAt: s._tag === "Open" ? s.reopenAt : null,
        isolated: s._tag === "Isolated"
      })
    )

    return {
      protect,
      track: tracker.agent,
      state: Effect.sync(() => Policy.publicState(state)),
      snapshot,
      isolate: Effect.suspend(() => {
        const before = state._tag
        state = Policy.isolate(state)
        return before === "Isolated" ? Effect.void : tripped(tracker, undefined, 0)
      }),
      reset: Effect.suspend(() => {
        state = Policy.reset(settings, state)
        return closed
      }),
      [EngineId]: engine
    } satisfies CircuitBreakerService & Engined<BreakerEngine>
  })

/**
 * The in-memory `CircuitBreaker` with the policy `options` give.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: CircuitBreakerOptions): Layer.Layer<CircuitBreaker, InvalidOption> =>
  Layer.effect(CircuitBreaker, make(options))

/**
 * FLEETGUARD_BREAKER_THRESHOLD (default 5), FLEETGUARD_BREAKER_RESET (default "30 seconds"),
 * FLEETGUARD_BREAKER_HALF_OPEN_CALLS (default 1).
 *
 * @since 0.1.0
 * @category config
 */
export const config: Config.Config<CircuitBreakerOptions> = Config.all({
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
export const layerConfig = (options: Config.Config<CircuitBreakerOptions> = config) =>
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
  static readonly decodeOptions = decodeOptions
  /**
   * A fiber tracker of the kind `make` uses: for breakers whose state is kept elsewhere (another
   * store), which must interrupt this process's tracked fibers when they trip.
   */
  static readonly tracker = (): Tracker => Tracking.make()
  /** The metrics and events of transitions, as `make` publishes them, for breakers kept elsewhere. */
  static readonly tripped = tripped
  static readonly closed = closed
  static readonly halfOpened = halfOpened
  static readonly refused = refused
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
