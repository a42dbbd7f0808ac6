/**
 * The demo's figures, computed from what was recorded: the server's request record, the charges
 * and the guard events. Pure, so that each definition is tested on its own.
 *
 * @since 0.1.0
 */
import type { Events, GuardEvent } from "@fleetguard/core"
import type { FakeAnthropic } from "@fleetguard/testing"
import type { Call, Charge } from "./scenario.js"

/**
 * The Messages API calls of a server's record, in millis since `startedAt`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const callsOf = (requests: ReadonlyArray<FakeAnthropic.RecordedRequest>, startedAt: number): Array<Call> =>
  requests
    .filter((r) => r.method === "POST" && r.path === "/v1/messages")
    .map((r) => ({
      at: r.at - startedAt,
      endedAt: r.endedAt === null ? null : r.endedAt - startedAt,
      status: r.status,
      outcome: r.outcome,
      stream: typeof r.body === "object" && r.body !== null && (r.body as { stream?: unknown }).stream === true
    }))

/** @since 0.1.0 @category measures */
export const withStatus = (calls: ReadonlyArray<Call>, status: number): number =>
  calls.filter((c) => c.status === status).length

/** Calls answered with a server error (5xx). @since 0.1.0 @category measures */
export const serverErrors = (calls: ReadonlyArray<Call>): number =>
  calls.filter((c) => c.status !== null && c.status >= 500).length

/**
 * Calls that arrived while an earlier 429 had told the fleet to wait: a rate limit is the
 * organisation's, so a 429 to one agent is a "wait" to all of them.
 *
 * @since 0.1.0
 * @category measures
 */
export const madeWhileWaiting = (calls: ReadonlyArray<Call>, retryAfterMillis: number): number => {
  const waits = calls.filter((c) => c.status === 429).map((c) => c.endedAt ?? c.at)
  return calls.filter((c) => waits.some((told) => told < c.at && c.at < told + retryAfterMillis)).length
}

/** The width of an "instant": calls that arrive within it fire together. @since 0.1.0 @category measures */
export const instantMillis = 10

/**
 * The first `size` calls fired once the wait the first 429 asked for was over: the calls that had
 * waited, one per agent told to wait.
 *
 * @since 0.1.0
 * @category measures
 */
export const firstWave = (calls: ReadonlyArray<Call>, retryAfterMillis: number, size: number): Array<Call> => {
  const first = calls.find((c) => c.status === 429)
  if (first === undefined) return []
  const reopened = (first.endedAt ?? first.at) + retryAfterMillis
  return calls.filter((c) => c.at >= reopened).slice(0, size)
}

/** From the first call's start to the last's, in millis. @since 0.1.0 @category measures */
export const spread = (calls: ReadonlyArray<Call>): number =>
  calls.length === 0 ? 0 : Math.max(...calls.map((c) => c.at)) - Math.min(...calls.map((c) => c.at))

/**
 * How many calls fired at each instant (`instantMillis` wide), busiest first.
 *
 * @since 0.1.0
 * @category measures
 */
export const bursts = (calls: ReadonlyArray<Call>): Array<number> => {
  const byInstant = new Map<number, number>()
  for (const c of calls) {
    const instant = Math.floor(c.at / instantMillis)
    byInstant.set(instant, (byInstant.get(instant) ?? 0) + 1)
  }
  return [...byInstant.values()].sort((a, b) => b - a)
}

/** @since 0.1.0 @category measures */
export const spent = (charges: ReadonlyArray<Charge>): number =>
  charges.reduce((nanos, c) => nanos + Math.round(c.usd * 1e9), 0) / 1e9

/**
 * Guard refusals by reason, fan-out truncations included as "FanOutTruncated" (branches dropped).
 *
 * @since 0.1.0
 * @category measures
 */
export const refusals = (events: ReadonlyArray<GuardEvent>): Record<string, number> => {
  const counts: Record<string, number> = {}
  for (const e of events) {
    if (e._tag === "Rejected") counts[e.reason] = (counts[e.reason] ?? 0) + 1
    if (e._tag === "FanOutTruncated") counts.FanOutTruncated = (counts.FanOutTruncated ?? 0) + e.dropped
  }
  return counts
}

/**
 * Times the gate closed: a `RateLimitPause` that only moved the end of a closed gate (`extended`)
 * is part of the same pause.
 *
 * @since 0.1.0
 * @category measures
 */
export const pauses = (events: ReadonlyArray<GuardEvent>): number =>
  events.filter((e) => e._tag === "RateLimitPause" && !e.extended).length

/**
 * What the guarded side was charged, from its settlements, in millis since `startedAt`.
 *
 * @since 0.1.0
 * @category measures
 */
export const settled = (events: ReadonlyArray<GuardEvent>, startedAt: number): Array<Charge> =>
  events.flatMap((e) => (e._tag === "CallSettled" && e.costUsd > 0 ? [{ at: e.at - startedAt, usd: e.costUsd }] : []))

/** The first trip, if the breaker tripped. */
const firstTrip = (events: ReadonlyArray<GuardEvent>): Events.BreakerOpened | undefined =>
  events.find((e): e is Events.BreakerOpened => e._tag === "BreakerOpened")

/**
 * When a breaker that trips after `threshold` failures would have tripped: when the server answered
 * that failure (5xx). Infinity when there were fewer.
 */
const wouldTrip = (calls: ReadonlyArray<Call>, threshold: number): number => {
  const failed = calls.flatMap((c) => (c.status !== null && c.status >= 500 && c.endedAt !== null ? [c.endedAt] : []))
  return failed.sort((a, b) => a - b)[threshold - 1] ?? Number.POSITIVE_INFINITY
}

/**
 * Each side's trip, in millis since it started: the naive side's when a breaker with `threshold`
 * would have tripped, the guarded side's when its breaker did. Infinity for a side that had none.
 *
 * @since 0.1.0
 * @category measures
 */
export const trips = (
  naive: ReadonlyArray<Call>,
  guarded: { readonly events: ReadonlyArray<GuardEvent>; readonly startedAt: number },
  threshold: number
): readonly [naive: number, guarded: number] => [
  wouldTrip(naive, threshold),
  (firstTrip(guarded.events)?.at ?? Number.POSITIVE_INFINITY) - guarded.startedAt
]
