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
import * as Lines from "./internal/status/summary.js"

/**
 * One agent's line in the report: what its calls were charged, how many it made, and what was refused it.
 *
 * @since 0.1.0
 * @category models
 */
export interface AgentSummary {
  readonly agentId: string
  readonly spentUsd: number
  /** Its `CallSettled` lines, failed and interrupted calls included. */
  readonly calls: number
  /** Its refusals by the refusing error's tag; an agent refused every call is listed with nothing spent. */
  readonly rejections: Readonly<Record<string, number>>
}

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
  /**
   * When the run wrote its `RunEnded` (with `--all`: the latest, once every run has); null while it
   * runs, or when it was cut off (killed, or its journal never closed).
   */
  readonly endedAt: number | null
  readonly fleet: { readonly limitUsd: number; readonly spentUsd: number; readonly reservedUsd: number }
  /** By spend, highest first. */
  readonly agents: ReadonlyArray<AgentSummary>
  readonly trips: ReadonlyArray<{ readonly at: number; readonly interrupted: number }>
  readonly pauses: ReadonlyArray<{ readonly at: number; readonly untilMillis: number; readonly capped: boolean }>
  readonly alerts: ReadonlyArray<{
    readonly at: number
    readonly kind: string
    /** What the alert said (`budget-full`, `budget-exhausted`, `breaker-1`…), by the incident it names. */
    readonly incident: string
    readonly sink: Events.AlertSink
    readonly delivered: boolean
  }>
  /** Refusals by the refusing error's tag. */
  readonly rejections: Readonly<Record<string, number>>
  /**
   * Lines that could not be read: torn by a crash, of an unknown version or event, or holding a value
   * no guard writes (a time outside the Date range, an amount the ledger cannot hold).
   */
  readonly skippedLines: number
  /**
   * Events the journal's writer dropped (its `EventsDropped` lines) among the lines shown: the agents'
   * figures, trips, pauses and refusals miss that many events.
   */
  readonly droppedEvents: number
  /**
   * Runs shown whose first line (`RunStarted`) is no longer in the journal: rotated away past
   * `maxFiles`. Their agents' figures cover only the lines kept; `fleet` still has the ledger's.
   */
  readonly prunedRuns: number
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

// What a terminal acts on rather than shows: C0 and C1 controls (escape sequences start with ESC or
// CSI), DEL, line separators and the bidirectional overrides that reorder what is shown.
const unprintable = /[\p{Cc}\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu
const named: Readonly<Record<string, string>> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" }
const code = (c: string, digits: number) => (c.codePointAt(0) ?? 0).toString(16).padStart(digits, "0")

/**
 * `text` (a run id, an agent id: anything read from a journal) safe to print to a terminal: every
 * character a terminal would act on is shown escaped (`\x1b`, `\n`, `\u202e`).
 *
 * @since 0.1.0
 * @category formatting
 */
export const printable = (text: string): string =>
  text.replace(unprintable, (c) => named[c] ?? (c < "\u0100" ? `\\x${code(c, 2)}` : `\\u${code(c, 4)}`))

/**
 * The report as the one line of JSON `--json` prints. JSON escapes C0 controls itself; the other
 * characters a terminal acts on are escaped too (`\u009b`), so the text is safe to print and reads
 * back as the same object.
 *
 * @since 0.1.0
 * @category formatting
 */
export const toJson = (report: StatusReport): string =>
  JSON.stringify(report).replace(unprintable, (c) => `\\u${code(c, 4)}`)

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
    const known =
      this.known.length === 0 ? "it holds none" : `its runs, latest last: ${this.known.map(printable).join(", ")}`
    return `no run ${printable(this.run)} in the journal (${known})`
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
    return `${printable(this.run)} is the start of several runs' ids: ${this.matches.map(printable).join(", ")}`
  }
}

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
 * The report for the latest run (or `selection.run`, or every run), over the lines in the window.
 * A line holding a value no guard writes (see `skippedLines`) is skipped like a torn one.
 *
 * @since 0.1.0
 * @category utils
 */
export const summarize = (
  journal: string,
  contents: Pick<JournalContents, "lines" | "torn" | "unknown">,
  selection: Selection = {}
): Either.Either<StatusReport, UnknownRun | AmbiguousRun> => {
  const readable = contents.lines.filter((line) => Lines.plausible(line, ""))
  const since = selection.since ?? -Infinity
  const inWindow = readable.filter((line) => line.at >= since)
  const { started, ended } = Lines.boundsOf(readable)
  return Either.map(pick(runsOf(readable), selection), (chosen) => {
    const runIds = new Set(chosen)
    const lines = inWindow.filter((line) => runIds.has(line.runId))
    const shown = runsOf(lines)
    const spends = shown.map((runId) =>
      Lines.spendOf(
        lines.filter((line) => line.runId === runId),
        selection.since === undefined || (started.get(runId) ?? -Infinity) >= since
      )
    )
    return {
      journal,
      runId: selection.all === true ? "all" : (chosen[0] ?? ""),
      runs: runsOf(inWindow).length,
      lastEventAt: lines.reduce<number | null>((last, line) => Math.max(last ?? line.at, line.at), null),
      endedAt: Lines.endOf(chosen, ended),
      fleet: {
        limitUsd: Lines.limitOf(readable.filter((line) => line.runId === chosen.at(-1))),
        spentUsd: Lines.usd(spends.reduce((n, s) => n + s.spent, 0)),
        reservedUsd: Lines.usd(spends.reduce((n, s) => n + s.reserved, 0))
      },
      agents: Lines.agentsOf(lines),
      trips: lines.flatMap(({ event }) =>
        event._tag === "BreakerOpened" ? [{ at: event.at, interrupted: event.interrupted }] : []
      ),
      pauses: Lines.pausesOf(lines),
      alerts: Lines.alertsOf(lines),
      rejections: Lines.rejectionsOf(lines),
      skippedLines: contents.torn + contents.unknown + contents.lines.length - readable.length,
      droppedEvents: lines.reduce((n, { event }) => n + (event._tag === "EventsDropped" ? event.dropped : 0), 0),
      prunedRuns: shown.filter((runId) => !started.has(runId)).length
    }
  })
}
