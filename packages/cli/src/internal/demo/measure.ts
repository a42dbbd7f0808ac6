/**
 * The demo's figures, computed from what was recorded: the server's request record, the charges
 * and the guard events. Pure, so that each definition is tested on its own.
 *
 * @since 0.1.0
 */
import type { Events, GuardEvent } from "@fleetguard/core"
import type { FakeAnthropic } from "@fleetguard/testing"
import type { Call, Charge, Wait } from "./scenario.js"

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
 * The wait a 429 answer's headers gave a client that saw it at `at`, read as the SDK reads them:
 * `retry-after-ms`, else `retry-after` (seconds or an HTTP date). None given: a wait of nothing.
 *
 * @since 0.1.0
 * @category measures
 */
export const waitOf = (headers: Headers, at: number): Wait => {
  const millis = Number.parseFloat(headers.get("retry-after-ms") ?? "")
  const after = headers.get("retry-after") ?? ""
  const seconds = Number.parseFloat(after)
  const date = Date.parse(after)
  const asked = Number.isFinite(millis)
    ? millis
    : Number.isFinite(seconds)
      ? seconds * 1000
      : Number.isFinite(date)
        ? date - Date.now()
        : 0
  return { from: at, until: at + Math.max(0, asked) }
}

/**
 * The guarded side's waits: each time its gate closed (or a closed one was extended), until when.
 *
 * @since 0.1.0
 * @category measures
 */
export const pausedWaits = (events: ReadonlyArray<GuardEvent>, startedAt: number): Array<Wait> =>
  events.flatMap((e) =>
    e._tag === "RateLimitPause" ? [{ from: e.at - startedAt, until: e.pausedUntil - startedAt }] : []
  )

/**
 * Requests the client sent (at `sent`) while a 429 it had already seen said wait: a rate limit is
 * the organisation's, so a 429 to one agent is a "wait" to all of them. A request sent before the
 * client knew is not counted, whenever the server answered it.
 *
 * @since 0.1.0
 * @category measures
 */
export const madeWhileWaiting = (sent: ReadonlyArray<number>, waits: ReadonlyArray<Wait>): number =>
  sent.filter((at) => waits.some((w) => w.from < at && at < w.until)).length

/** The width of an "instant": calls that arrive within it fire together. @since 0.1.0 @category measures */
export const instantMillis = 10

/**
 * When the first wait the client was given ran out: the naive agents each come back from then
 * on; the guarded gate may have been closed again meanwhile. Undefined without a wait.
 *
 * @since 0.1.0
 * @category measures
 */
export const endOfFirstWait = (waits: ReadonlyArray<Wait>): number | undefined =>
  waits.reduce<Wait | undefined>((first, w) => (first === undefined || w.from < first.from ? w : first), undefined)
    ?.until

/**
 * The first `size` calls fired from `reopenedAt`, when the first wait was over: the calls that
 * had waited, one per agent told to wait.
 *
 * @since 0.1.0
 * @category measures
 */
export const firstWave = (calls: ReadonlyArray<Call>, reopenedAt: number | undefined, size: number): Array<Call> =>
  reopenedAt === undefined ? [] : calls.filter((c) => c.at >= reopenedAt).slice(0, size)

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

const charges = (events: ReadonlyArray<GuardEvent>, startedAt: number, keep: (e: Events.CallSettled) => boolean) =>
  events.flatMap((e) =>
    e._tag === "CallSettled" && e.costUsd > 0 && keep(e) ? [{ at: e.at - startedAt, usd: e.costUsd }] : []
  )

/**
 * What the API reported for the guarded side: the usage of each answer it finished, priced, in
 * millis since `startedAt`. A stream cut short has no final usage, and is not in it.
 *
 * @since 0.1.0
 * @category measures
 */
export const reported = (events: ReadonlyArray<GuardEvent>, startedAt: number): Array<Charge> =>
  charges(events, startedAt, (e) => e.outcome === "success")

/**
 * What fleetguard's ledger charged the guarded side, every settlement: a stream cut short at its
 * upper bound (the API may bill what it generated, which the client never learns).
 *
 * @since 0.1.0
 * @category measures
 */
export const charged = (events: ReadonlyArray<GuardEvent>, startedAt: number): Array<Charge> =>
  charges(events, startedAt, () => true)

/**
 * The settlements of `agents`' calls.
 *
 * @since 0.1.0
 * @category measures
 */
export const settledBy = (events: ReadonlyArray<GuardEvent>, agents: ReadonlySet<string>): Array<Events.CallSettled> =>
  events.filter((e): e is Events.CallSettled => e._tag === "CallSettled" && agents.has(e.agentId))

/**
 * What the ledger charged `agents` in all: for agents that failed, the spend their work wasted.
 *
 * @since 0.1.0
 * @category measures
 */
export const chargedTo = (events: ReadonlyArray<GuardEvent>, agents: ReadonlySet<string>): number =>
  spent(charged(settledBy(events, agents), 0))

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
