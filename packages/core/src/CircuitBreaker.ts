/**
 * CircuitBreaker: Closed / Open / HalfOpen, and — unlike breakers that only stop new calls — it
 * interrupts every tracked in-flight fiber the moment it trips, so calls already running stop
 * costing money (interruption aborts their HTTP requests). Each interrupted caller gets a typed
 * `CircuitOpen`, never a bare interruption that would take its siblings in `Effect.all` down too.
 *
 * @since 0.1.0
 */

import {
  Cause,
  Clock,
  Config,
  Context,
  type Duration,
  Effect,
  Exit,
  Fiber,
  FiberRef,
  Layer,
  Metric,
  Option,
  Ref,
  Schema
} from "effect"
import { globalValue } from "effect/GlobalValue"
import * as Env from "./Env.js"
import type { InvalidOption } from "./Errors.js"
import { CircuitOpen, isCountedFailure } from "./Errors.js"
import * as Events from "./Events.js"
import * as Policy from "./internal/breaker.js"
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

export interface FailureRateOptions {
  /** Fraction of failures in the window that trips, in (0, 1]. */
  readonly threshold: number
  /** How many of the latest outcomes are looked at. */
  readonly windowSize: number
  /** No verdict until the window holds this many outcomes. */
  readonly minimumCalls: number
}

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
   * (BudgetExceeded, DepthLimitExceeded, CircuitOpen, UnknownModel, InvalidAmount, InvalidOption) and
   * client errors (InvalidRequest, AuthenticationFailed). Interruptions and defects never count.
   */
  readonly isFailure?: ((error: unknown) => boolean) | undefined
}

export type BreakerState = "Closed" | "Open" | "HalfOpen"

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

export interface CircuitBreakerService {
  /** Runs `self` if admitted, tracked (a trip interrupts it), and counts how it ended. */
  readonly protect: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | CircuitOpen, R>
  /** Runs `self` tracked, without admission or counting: a trip interrupts it (used by `Agent.run`). */
  readonly track: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | CircuitOpen, R>
  readonly state: Effect.Effect<BreakerState>
  readonly snapshot: Effect.Effect<CircuitBreakerSnapshot>
  /** Holds it open, interrupting tracked fibers, until `reset`. */
  readonly isolate: Effect.Effect<void>
  /** Closes it and forgets its statistics. */
  readonly reset: Effect.Effect<void>
}

/** 0 Closed, 1 HalfOpen, 2 Open. */
export const stateGauge = Metric.gauge("fleetguard_breaker_state", {
  description: "Circuit breaker state: 0 closed, 1 half-open, 2 open"
})
export const tripsCounter = Metric.counter("fleetguard_breaker_trips_total", {
  description: "Times the circuit breaker opened",
  incremental: true
})
export const interruptedCounter = Metric.counter("fleetguard_breaker_interrupted_total", {
  description: "In-flight fibers interrupted by a trip",
  incremental: true
})
export const rejectedCounter = Metric.counter("fleetguard_breaker_rejected_total", {
  description: "Calls refused while the breaker was open",
  incremental: true
})

const stateCode = { Closed: 0, HalfOpen: 1, Open: 2 } as const

/**
 * The breaker (its tracking set) that tracks the agent this fiber runs in. A protected call inside
 * a tracked agent needs no fiber of its own: a trip interrupts the whole agent, which fails with
 * CircuitOpen at its `Agent.run`. Only calls made outside any tracked agent are forked and tracked
 * one by one — a fork per call measured at about 10 µs here.
 */
const trackingAgent: FiberRef.FiberRef<unknown> = globalValue(
  Symbol.for("@fleetguard/core/CircuitBreaker/trackingAgent"),
  () => FiberRef.unsafeMake<unknown>(undefined)
)

interface Tracked {
  readonly fiber: Fiber.RuntimeFiber<unknown, unknown>
  readonly kind: "call" | "agent"
  /** Set by the trip that interrupted it, so its caller can answer with CircuitOpen. */
  trippedBy: CircuitOpen | undefined
}

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

export const make = (options: CircuitBreakerOptions): Effect.Effect<CircuitBreakerService, InvalidOption> =>
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
    const policy: Policy.Policy =
      rate === undefined
        ? { _tag: "Consecutive", threshold: decoded.failureThreshold }
        : { _tag: "FailureRate", ...rate }
    const settings: Policy.Settings = {
      policy,
      resetAfterMillis,
      backoffFactor: decoded.backoffFactor ?? 1,
      maxResetAfterMillis: Math.min(
        maxTimerMillis,
        Math.max(decoded.maxResetAfter ?? resetAfterMillis * 32, resetAfterMillis)
      ),
      halfOpenMaxCalls
    }
    const isFailure: (error: unknown) => boolean = options.isFailure ?? isCountedFailure
    const state = yield* Ref.make(Policy.closed(settings))
    // Fibers are tracked in a plain set: membership changes are synchronous, and a trip must reach
    // every member in the same instant.
    const tracked = new Set<Tracked>()

    const interruptTracked = (error: CircuitOpen) =>
      Effect.withFiberRuntime<{ call: number; agent: number }>((current) => {
        const interrupted = { call: 0, agent: 0 }
        for (const entry of tracked) {
          if (entry.fiber === current || entry.trippedBy !== undefined) continue
          entry.trippedBy = error
          entry.fiber.unsafeInterruptAsFork(current.id())
          interrupted[entry.kind]++
        }
        return Effect.succeed(interrupted)
      })

    const opened = (reopenAt: number | undefined, trips: number) =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        const error = new CircuitOpen({
          interrupted: true,
          ...(reopenAt === undefined ? {} : { retryAfterMillis: reopenAt - now })
        })
        const interrupted = yield* interruptTracked(error)
        yield* Metric.set(stateGauge, stateCode.Open)
        yield* Metric.increment(tripsCounter)
        yield* Metric.incrementBy(interruptedCounter, interrupted.call + interrupted.agent)
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

    const closedEvent = Effect.zipRight(
      Metric.set(stateGauge, stateCode.Closed),
      Events.publish((at) => new Events.BreakerClosed({ at }))
    )

    const tracking =
      (kind: Tracked["kind"]) =>
      <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E | CircuitOpen, R> =>
        Effect.uninterruptibleMask((restore) =>
          Effect.flatMap(
            Effect.fork(restore(kind === "agent" ? Effect.locally(self, trackingAgent, tracked) : self)),
            (fiber) => {
              const entry: Tracked = { fiber, kind, trippedBy: undefined }
              tracked.add(entry)
              return restore(Fiber.await(fiber)).pipe(
                Effect.onInterrupt(() => Fiber.interrupt(fiber)),
                Effect.ensuring(Effect.sync(() => tracked.delete(entry))),
                Effect.flatMap(
                  (exit): Effect.Effect<A, E | CircuitOpen> =>
                    entry.trippedBy !== undefined && Exit.isInterrupted(exit) ? Effect.fail(entry.trippedBy) : exit
                )
              )
            }
          )
        )

    const forkAndTrack = tracking("call")
    const trackCall = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E | CircuitOpen, R> =>
      Effect.flatMap(FiberRef.get(trackingAgent), (agentTracker) =>
        agentTracker === tracked ? self : forkAndTrack(self)
      )

    const outcomeOf = (exit: Exit.Exit<unknown, unknown>): Policy.Outcome =>
      Exit.isSuccess(exit)
        ? "success"
        : Option.match(Cause.failureOption(exit.cause), {
            onNone: () => "ignored",
            onSome: (error) => (isFailure(error) ? "failure" : "ignored")
          })

    const recordOutcome = (ticket: Policy.Ticket, exit: Exit.Exit<unknown, unknown>) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        Effect.flatMap(
          Ref.modify(state, (s) => Policy.record(settings, s, ticket, outcomeOf(exit), now)),
          (transition) =>
            transition === undefined
              ? Effect.void
              : transition._tag === "Opened"
                ? opened(transition.reopenAt, transition.trips)
                : closedEvent
        )
      )

    const reject = (retryAfterMillis: number | undefined) =>
      Effect.zipRight(
        Effect.zipRight(
          Metric.increment(rejectedCounter),
          Events.rejected(
            "CircuitOpen",
            retryAfterMillis === undefined ? "isolated" : `retry after ${retryAfterMillis} ms`
          )
        ),
        Effect.fail(
          new CircuitOpen({ interrupted: false, ...(retryAfterMillis === undefined ? {} : { retryAfterMillis }) })
        )
      )

    const protect = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E | CircuitOpen, R> =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        Effect.flatMap(
          Ref.modify(state, (s) => Policy.admit(settings, s, now)),
          (admission): Effect.Effect<A, E | CircuitOpen, R> => {
            if (admission._tag === "Rejected") return reject(admission.retryAfterMillis)
            const run = Effect.onExit(trackCall(self), (exit) => recordOutcome(admission.ticket, exit))
            return admission.halfOpened
              ? Effect.zipRight(
                  Effect.zipRight(
                    Metric.set(stateGauge, stateCode.HalfOpen),
                    Events.publish((at) => new Events.BreakerHalfOpened({ at }))
                  ),
                  run
                )
              : run
          }
        )
      )

    const snapshot = Effect.map(
      Ref.get(state),
      (s): CircuitBreakerSnapshot => ({
        state: Policy.publicState(s),
        tracked: tracked.size,
        trips: s._tag === "Open" || s._tag === "HalfOpen" ? s.trips : 0,
        reopenAt: s._tag === "Open" ? s.reopenAt : null,
        isolated: s._tag === "Isolated"
      })
    )

    return {
      protect,
      track: tracking("agent"),
      state: Effect.map(Ref.get(state), Policy.publicState),
      snapshot,
      isolate: Effect.flatMap(
        Ref.modify(state, (s) => [s._tag, Policy.isolate(s)] as const),
        (before) => (before === "Isolated" ? Effect.void : opened(undefined, 0))
      ),
      reset: Effect.zipRight(
        Ref.update(state, (s) => Policy.reset(settings, s)),
        closedEvent
      )
    } satisfies CircuitBreakerService
  })

export const layer = (options: CircuitBreakerOptions): Layer.Layer<CircuitBreaker, InvalidOption> =>
  Layer.effect(CircuitBreaker, make(options))

/**
 * FLEETGUARD_BREAKER_THRESHOLD (default 5), FLEETGUARD_BREAKER_RESET (default "30 seconds"),
 * FLEETGUARD_BREAKER_HALF_OPEN_CALLS (default 1).
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

export const layerConfig = (options: Config.Config<CircuitBreakerOptions> = config) =>
  layerFromConfig(options, variables, layer)

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
  ): Effect.Effect<A, E | CircuitOpen, R | CircuitBreaker> =>
    Effect.flatMap(CircuitBreaker, (breaker) => breaker.protect(self))
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
