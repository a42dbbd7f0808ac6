/**
 * Where a fleet stands, from its journal's lines: the object `fleetguard status --json` prints.
 * Pure over decoded lines, so that it is tested directly and any tool that reads a journal
 * (`Journal.read` from @fleetguard/core) can summarise it the same way.
 *
 * @module
 * @since 0.1.0
 */
import type { Events, JournalContents, JournalLine } from "@fleetguard/core"
import { Either, Schema } from "effect"

/**
 * What `fleetguard status` reports for a run: the object `--json` prints.
 *
 * @since 0.1.0
 * @category models
 */
export interface StatusReport {
  readonly journal: string
  /** The run summarised; "all" with `--all`; "" when no run has a line in the window. */
  readonly runId: string
  /** Runs with a line in the window. */
  readonly runs: number
  readonly lastEventAt: number | null
  readonly fleet: { readonly limitUsd: number; readonly spentUsd: number; readonly reservedUsd: number }
  /** By spend, highest first. */
  readonly agents: ReadonlyArray<{ readonly agentId: string; readonly spentUsd: number; readonly calls: number }>
  readonly trips: ReadonlyArray<{ readonly at: number; readonly interrupted: number }>
  readonly pauses: ReadonlyArray<{ readonly at: number; readonly untilMillis: number; readonly capped: boolean }>
  readonly alerts: ReadonlyArray<{
    readonly at: number
    readonly kind: string
    readonly sink: Events.AlertSink
    readonly delivered: boolean
  }>
  /** Refusals by the refusing error's tag. */
  readonly rejections: Readonly<Record<string, number>>
  /** Lines that could not be read: torn by a crash, or of an unknown version or event. */
  readonly skippedLines: number
}

/**
 * Which lines of the journal to summarise: the run (`--run`, or all of them) and the window (`--since`).
 *
 * @since 0.1.0
 * @category models
 */
export interface Selection {
  /** A run id, or the start of one. */
  readonly run?: string | undefined
  /** Every run together. */
  readonly all?: boolean | undefined
  /** Only lines at or after this time (epoch millis). */
  readonly since?: number | undefined
}

/**
 * No run in the journal has an id that starts with `run`.
 *
 * @since 0.1.0
 * @category errors
 */
export class UnknownRun extends Schema.TaggedError<UnknownRun>()("UnknownRun", {
  run: Schema.String,
  known: Schema.Array(Schema.String)
}) {
  override get message(): string {
    const known = this.known.length === 0 ? "it holds none" : `its runs, latest last: ${this.known.join(", ")}`
    return `no run ${this.run} in the journal (${known})`
  }
}

/**
 * More than one run has an id that starts with `run`.
 *
 * @since 0.1.0
 * @category errors
 */
export class AmbiguousRun extends Schema.TaggedError<AmbiguousRun>()("AmbiguousRun", {
  run: Schema.String,
  matches: Schema.Array(Schema.String)
}) {
  override get message(): string {
    return `${this.run} is the start of several runs' ids: ${this.matches.join(", ")}`
  }
}

// Sums in whole nanodollars, as the ledger keeps them: adding floats would show $0.30000000000000004.
const nanos = (usd: number) => Math.round(usd * 1e9)
const usd = (n: number) => n / 1e9

/**
 * Run ids, by when each run's first line was written, oldest first.
 *
 * @since 0.1.0
 * @category utils
 */
export const runsOf = (lines: ReadonlyArray<JournalLine>): ReadonlyArray<string> => {
  const first = new Map<string, number>()
  for (const line of lines) first.set(line.runId, Math.min(first.get(line.runId) ?? Infinity, line.at))
  return [...first].sort((a, b) => a[1] - b[1]).map(([runId]) => runId)
}

const pick = (
  runs: ReadonlyArray<string>,
  selection: Selection
): Either.Either<ReadonlyArray<string>, UnknownRun | AmbiguousRun> => {
  if (selection.all === true) return Either.right(runs)
  const wanted = selection.run
  if (wanted === undefined) return Either.right(runs.slice(-1))
  const matches = runs.filter((runId) => runId.startsWith(wanted))
  if (matches.includes(wanted)) return Either.right([wanted])
  if (matches.length === 1) return Either.right(matches)
  return Either.left(
    matches.length === 0
      ? new UnknownRun({ run: wanted, known: runs.slice(-5) })
      : new AmbiguousRun({ run: wanted, matches })
  )
}

/**
 * One run's spend: what its calls were charged, or more if its latest ledger figure says so (the
 * ledger also holds spend made outside `LlmClient`). A ledger figure covers the whole run, so it
 * counts only when the run began inside the window.
 */
const spendOf = (lines: ReadonlyArray<JournalLine>) => {
  let calls = 0
  let ledger: { readonly spentUsd?: number | undefined; readonly reservedUsd?: number | undefined } | undefined
  const whole = lines.some((line) => line.event._tag === "RunStarted")
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

const limitOf = (lines: ReadonlyArray<JournalLine>): number => {
  for (const { event } of [...lines].reverse()) {
    if (event._tag === "RunStarted" && event.budget !== undefined) return event.budget.limitUsd
    if (event._tag === "BudgetThresholdCrossed" || event._tag === "BudgetExhausted") return event.limitUsd
  }
  return 0
}

const agentsOf = (lines: ReadonlyArray<JournalLine>): StatusReport["agents"] => {
  const agents = new Map<string, { spent: number; calls: number }>()
  for (const { event } of lines) {
    if (event._tag !== "CallSettled") continue
    const agent = agents.get(event.agentId) ?? { spent: 0, calls: 0 }
    agents.set(event.agentId, { spent: agent.spent + nanos(event.costUsd), calls: agent.calls + 1 })
  }
  return [...agents]
    .sort(([a, x], [b, y]) => y.spent - x.spent || (a < b ? -1 : a > b ? 1 : 0))
    .map(([agentId, { spent, calls }]) => ({ agentId, spentUsd: usd(spent), calls }))
}

/** One entry per alert: delivered if any attempt was, at its latest attempt. */
/** One entry per pause: a later 429 that only moved the end of a pause (`extended`) moves the entry's end. */
const pausesOf = (lines: ReadonlyArray<JournalLine>): StatusReport["pauses"] => {
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

const alertsOf = (lines: ReadonlyArray<JournalLine>): StatusReport["alerts"] => {
  const alerts = new Map<string, { at: number; kind: string; sink: Events.AlertSink; delivered: boolean }>()
  for (const { runId, event } of lines) {
    if (event._tag !== "AlertDelivered" && event._tag !== "AlertFailed") continue
    const key = `${runId}/${event.sink}/${event.incident}/${event.kind}`
    const delivered = (alerts.get(key)?.delivered ?? false) || event._tag === "AlertDelivered"
    alerts.delete(key)
    alerts.set(key, { at: event.at, kind: event.kind, sink: event.sink, delivered })
  }
  return [...alerts.values()]
}

const rejectionsOf = (lines: ReadonlyArray<JournalLine>): Record<string, number> => {
  const counts: Record<string, number> = {}
  for (const { event } of lines) if (event._tag === "Rejected") counts[event.reason] = (counts[event.reason] ?? 0) + 1
  return counts
}

/**
 * The report for the latest run (or `selection.run`, or every run), over the lines in the window.
 *
 * @since 0.1.0
 * @category utils
 */
export const summarize = (
  journal: string,
  contents: Pick<JournalContents, "lines" | "torn" | "unknown">,
  selection: Selection = {}
): Either.Either<StatusReport, UnknownRun | AmbiguousRun> => {
  const since = selection.since ?? -Infinity
  const inWindow = contents.lines.filter((line) => line.at >= since)
  return Either.map(pick(runsOf(contents.lines), selection), (chosen) => {
    const runIds = new Set(chosen)
    const lines = inWindow.filter((line) => runIds.has(line.runId))
    const spends = chosen.map((runId) => spendOf(lines.filter((line) => line.runId === runId)))
    return {
      journal,
      runId: selection.all === true ? "all" : (chosen[0] ?? ""),
      runs: runsOf(inWindow).length,
      lastEventAt: lines.reduce<number | null>((last, line) => Math.max(last ?? line.at, line.at), null),
      fleet: {
        limitUsd: limitOf(contents.lines.filter((line) => line.runId === chosen.at(-1))),
        spentUsd: usd(spends.reduce((n, s) => n + s.spent, 0)),
        reservedUsd: usd(spends.reduce((n, s) => n + s.reserved, 0))
      },
      agents: agentsOf(lines),
      trips: lines.flatMap(({ event }) =>
        event._tag === "BreakerOpened" ? [{ at: event.at, interrupted: event.interrupted }] : []
      ),
      pauses: pausesOf(lines),
      alerts: alertsOf(lines),
      rejections: rejectionsOf(lines),
      skippedLines: contents.torn + contents.unknown
    }
  })
}
