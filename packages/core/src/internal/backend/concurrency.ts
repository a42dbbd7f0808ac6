/**
 * What every Concurrency store shares: its options as decoded, where a caller held at the closed
 * gate is released, how a requested pause is read and capped, and the metrics and events of a
 * pause and a resume, published the same whichever store keeps the gate.
 */
import { Duration, Effect, Schema } from "effect"
import type { InvalidOption } from "../../Errors.js"
import * as Events from "../../Events.js"
import * as Metrics from "../../Metrics.js"
import { DurationMillis, decode, durationMillis, Options, PositiveInteger } from "../../Options.js"
import * as Gate from "../policy/gate.js"

export const defaultMaxPauseMillis = 60_000

/** Concurrency options with their defaults filled in, durations in millis. */
export interface Limits {
  readonly limit: number
  readonly windowMillis: number
  readonly maxPauseMillis: number
}

const OptionsSchema = Options({
  maxConcurrency: PositiveInteger,
  releaseWindow: DurationMillis(true).pipe(Schema.optional),
  maxPause: DurationMillis().pipe(Schema.optional)
})

export const decodeOptions = (options: unknown): Effect.Effect<Limits, InvalidOption> =>
  Effect.map(decode(OptionsSchema, options), (decoded) => ({
    limit: decoded.maxConcurrency,
    windowMillis: decoded.releaseWindow ?? 1_000,
    maxPauseMillis: decoded.maxPause ?? defaultMaxPauseMillis
  }))

export const releaseOffset: (ticket: number) => number = Gate.spread

/** A pause as asked for, and as the gate takes it: at most `maxPause`. */
export interface PauseRequest {
  /** What was asked, in millis; Infinity for an infinite duration. */
  readonly requestedMillis: number
  /** Whether it was cut to `maxPause`. */
  readonly capped: boolean
  /** How long the gate closes, in whole millis. */
  readonly millis: number
}

/** How long `duration` closes a gate whose longest pause is `maxPauseMillis`; undefined when it closes nothing (negative, NaN, unreadable). */
export const pauseRequest = (duration: Duration.DurationInput, maxPauseMillis: number): PauseRequest | undefined => {
  const requestedMillis =
    Duration.isDuration(duration) && !Duration.isFinite(duration) ? Infinity : durationMillis(duration)
  if (requestedMillis === undefined) return undefined
  const capped = requestedMillis > maxPauseMillis
  return { requestedMillis, capped, millis: Math.ceil(capped ? maxPauseMillis : requestedMillis) }
}

/** What a store did with a pause: whether it moved the gate's end, and whether the gate was closed already. */
export interface Paused {
  readonly request: PauseRequest
  readonly moved: boolean
  readonly wasClosed: boolean
  /** Epoch millis until which the gate is closed now. */
  readonly pausedUntil: number
}

/**
 * The metrics and `RateLimitPause` of a pause. A pause is counted once, when the gate closes; a
 * later 429 only moves its end. A pause that moved nothing publishes nothing, unless it was capped.
 */
export const paused = ({ request, moved, wasClosed, pausedUntil }: Paused): Effect.Effect<void> => {
  if (!moved && !request.capped) return Effect.void
  if (moved && !wasClosed) Metrics.concurrencyPauses.unsafeUpdate(1, [])
  return Events.publish(
    (at) =>
      new Events.RateLimitPause({
        at,
        pausedUntil,
        requestedMillis: Number.isFinite(request.requestedMillis) ? request.requestedMillis : undefined,
        capped: request.capped,
        extended: wasClosed
      })
  )
}

/** The gate was reopened by an operator: `RateLimitResumed`. */
export const resumed: Effect.Effect<void> = Events.publish((at) => new Events.RateLimitResumed({ at }))
