/**
 * What `Summary.summarize` counts over a journal's lines: which lines are readable at all, and
 * each run's spend, limit, agents, pauses, alerts, refusals and bounds. The shapes are the
 * report's; `summarize` puts them together (and its type checks them against `StatusReport`).
 */
import type { JournalLine } from "@fleetguard/core"

// Sums in whole nanodollars, as the ledger keeps them: adding floats would show $0.30000000000000004.
const nanos = (usd: number) => Math.round(usd * 1e9)
export const usd = (n: number) => n / 1e9

/** The widest time a `Date` holds, either side of 1970. */
const maxTime = 8.64e15
const times = new Set(["at", "pausedUntil", "reopenAt"])
const counts = new Set(["dropped", "interrupted"])

/**
 * Whether a value read from a line is one a guard could have written: a finite number; a time a
 * `Date` holds; an amount the ledger holds (whole nanodollars as a safe integer, not negative); a
 * count a whole number. A line with any other value is skipped, so that no sum can overflow and no
 * time fails to print.
 */
export const plausible = (value: unknown, key: string): boolean => {
  if (typeof value === "number") {
    if (key.endsWith("Usd")) return value >= 0 && Number.isSafeInteger(nanos(value))
    if (times.has(key)) return Math.abs(value) <= maxTime
    if (counts.has(key)) return value >= 0 && Number.isSafeInteger(value)
    return Number.isFinite(value)
  }
  return typeof value !== "object" || value === null || Object.entries(value).every(([k, v]) => plausible(v, k))
}

/**
 * One run's spend over its lines in the window: what its calls were charged, or more if its latest
 * ledger figure says so (the ledger also holds spend made outside `LlmClient`, and calls whose lines
 * were dropped or rotated away). A ledger figure covers the whole run, so it counts only when the
 * run began inside the window (`whole`).
 */
export const spendOf = (lines: ReadonlyArray<JournalLine>, whole: boolean) => {
  let calls = 0
  let ledger: { readonly spentUsd?: number | undefined; readonly reservedUsd?: number | undefined } | undefined
  for (const { event } of lines) {
    if (event._tag === "CallSettled") calls += nanos(event.costUsd)
    if (
      whole &&
      (event._tag === "RunEnded" || event._tag === "BudgetThresholdCrossed" || event._tag === "BudgetExhausted")
    )
      ledger = event
  }
  return { spent: Math.max(calls, nanos(ledger?.spentUsd ?? 0)), reserved: nanos(ledger?.reservedUsd ?? 0) }
}

export const limitOf = (lines: ReadonlyArray<JournalLine>): number => {
  for (const { event } of [...lines].reverse()) {
    if (event._tag === "RunStarted" && event.budget !== undefined) return event.budget.limitUsd
    if (event._tag === "BudgetThresholdCrossed" || event._tag === "BudgetExhausted") return event.limitUsd
  }
  return 0
}

export const agentsOf = (lines: ReadonlyArray<JournalLine>) => {
  const agents = new Map<string, { spent: number; calls: number; rejections: Record<string, number> }>()
  const agent = (agentId: string) => {
    const found = agents.get(agentId) ?? { spent: 0, calls: 0, rejections: {} }
    agents.set(agentId, found)
    return found
  }
  for (const { event } of lines) {
    if (event._tag === "CallSettled") {
      const a = agent(event.agentId)
      a.spent += nanos(event.costUsd)
      a.calls++
    } else if (event._tag === "Rejected") {
      const { rejections } = agent(event.agentId)
      rejections[event.reason] = (rejections[event.reason] ?? 0) + 1
    }
  }
  return [...agents]
    .sort(([a, x], [b, y]) => y.spent - x.spent || (a < b ? -1 : a > b ? 1 : 0))
    .map(([agentId, { spent, calls, rejections }]) => ({ agentId, spentUsd: usd(spent), calls, rejections }))
}

/** One entry per pause: a later 429 that only moved the end of a pause (`extended`) moves the entry's end. */
export const pausesOf = (lines: ReadonlyArray<JournalLine>) => {
  const pauses: Array<{ at: number; untilMillis: number; capped: boolean }> = []
  for (const { event } of lines) {
    if (event._tag !== "RateLimitPause") continue
    const last = pauses.at(-1)
    if (event.extended && last !== undefined) {
      last.untilMillis = Math.max(last.untilMillis, event.pausedUntil)
      last.capped ||= event.capped
    } else pauses.push({ at: event.at, untilMillis: event.pausedUntil, capped: event.capped })
  }
  return pauses
}

type AlertEvent = Extract<JournalLine["event"], { readonly _tag: "AlertDelivered" | "AlertFailed" }>

interface Alert extends Pick<AlertEvent, "at" | "kind" | "incident" | "sink"> {
  readonly delivered: boolean
}

/** One entry per alert: delivered if any attempt was, at its latest attempt. */
export const alertsOf = (lines: ReadonlyArray<JournalLine>): ReadonlyArray<Alert> => {
  const alerts = new Map<string, Alert>()
  for (const { runId, event } of lines) {
    if (event._tag !== "AlertDelivered" && event._tag !== "AlertFailed") continue
    const key = `${runId}/${event.sink}/${event.incident}/${event.kind}`
    const delivered = (alerts.get(key)?.delivered ?? false) || event._tag === "AlertDelivered"
    alerts.delete(key)
    alerts.set(key, { at: event.at, kind: event.kind, incident: event.incident, sink: event.sink, delivered })
  }
  return [...alerts.values()]
}

export const rejectionsOf = (lines: ReadonlyArray<JournalLine>): Record<string, number> => {
  const counts: Record<string, number> = {}
  for (const { event } of lines) if (event._tag === "Rejected") counts[event.reason] = (counts[event.reason] ?? 0) + 1
  return counts
}

/** When each run started and ended, as far as the journal (all of it, not the window) still says. */
export const boundsOf = (lines: ReadonlyArray<JournalLine>) => {
  const started = new Map<string, number>()
  const ended = new Map<string, number>()
  for (const { runId, event } of lines) {
    if (event._tag === "RunStarted") started.set(runId, Math.min(started.get(runId) ?? Infinity, event.at))
    if (event._tag === "RunEnded") ended.set(runId, Math.max(ended.get(runId) ?? -Infinity, event.at))
  }
  return { started, ended }
}

/** The latest end of the runs, once every one of them has ended. */
export const endOf = (runs: ReadonlyArray<string>, ended: ReadonlyMap<string, number>): number | null =>
  runs.length === 0 || runs.some((runId) => !ended.has(runId))
    ? null
    : Math.max(...runs.map((runId) => ended.get(runId) ?? -Infinity))
