/**
 * What every CircuitBreaker store shares: its options as decoded (the policy's settings and the
 * failure rule), the tracker of the fibers a trip interrupts, how a call's exit counts, and the
 * metrics and events of each transition, published the same whichever store keeps the state.
 */
import { Cause, Clock, Effect, Exit, Metric, Option, Schema } from "effect"
import { CircuitOpen, type InvalidOption, isCountedFailure } from "../../Errors.js"
import * as Events from "../../Events.js"
import * as Metrics from "../../Metrics.js"
import {
  check,
  DurationMillis,
  decode,
  Fraction,
  FunctionOption,
  maxTimerMillis,
  Options,
  option,
  PositiveInteger
} from "../../Options.js"
import * as Policy from "../policy/breaker.js"
import * as Tracking from "./tracking.js"

/** The breaker's options, decoded: the policy's settings, and which failures count. */
export interface Decoded {
  readonly settings: Policy.Settings
  readonly isFailure: (error: unknown) => boolean
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

export const decodeOptions = (options: unknown): Effect.Effect<Decoded, InvalidOption> =>
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
    const isFailure = (decoded.isFailure as ((error: unknown) => boolean) | undefined) ?? isCountedFailure
    return { settings, isFailure }
  })

/** How an admitted call's exit counts: a success, a failure (as `isFailure` says), or neither (interruptions, defects). */
export const outcomeOf =
  (isFailure: (error: unknown) => boolean) =>
  (exit: Exit.Exit<unknown, unknown>): Policy.Outcome =>
    Exit.isSuccess(exit)
      ? "success"
      : Option.match(Cause.failureOption(exit.cause), {
          onNone: () => "ignored",
          onSome: (error) => (isFailure(error) ? "failure" : "ignored")
        })

/** The state gauge set for a state heard of (from another process, say), without an event. */
export const observed = (state: Policy.State["_tag"]): void =>
  Metrics.breakerState.unsafeUpdate(stateCode[Policy.publicState({ _tag: state })], [])

export const tracker = (): Tracking.Tracker => Tracking.make()

/** A trip: every tracked fiber is interrupted at once, then it is counted and published. */
export const tripped = (tracker: Tracking.Tracker, reopenAt: number | undefined, trips: number) =>
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

/** The breaker closed: the state gauge and `BreakerClosed`. */
export const closed = Effect.zipRight(
  Metric.set(Metrics.breakerState, stateCode.Closed),
  Events.publish((at) => new Events.BreakerClosed({ at }))
)

/** The first probe was admitted: the state gauge and `BreakerHalfOpened`. */
export const halfOpened = Effect.zipRight(
  Metric.set(Metrics.breakerState, stateCode.HalfOpen),
  Events.publish((at) => new Events.BreakerHalfOpened({ at }))
)

/** A call refused while open (or while the probe slots are taken): counted, published, failed with `CircuitOpen`. */
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
