/**
 * `fleetguard status`: where the fleet stands, read from its journal — spend against the limit,
 * agents by spend, breaker trips, rate-limit pauses, alerts, refusals — as a table for people or
 * as one JSON object (`--json`), once or redrawn as lines arrive (`--watch`).
 *
 * @module
 * @since 0.1.0
 */
import { Command, Options, ValidationError } from "@effect/cli"
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import { Env, Options as GuardOptions, Journal, type JournalContents } from "@fleetguard/core"
import { Clock, Console, Effect, Either, Option, Schema, Stream } from "effect"
import { type Selection, type StatusReport, summarize } from "./Summary.js"

/**
 * Neither `--journal` nor FLEETGUARD_JOURNAL says where the journal is.
 *
 * @since 0.1.0
 * @category errors
 */
export class NoJournalGiven extends Schema.TaggedError<NoJournalGiven>()("NoJournalGiven", {}) {
  override get message(): string {
    return [
      "no journal given.",
      "Set FLEETGUARD_JOURNAL to the file your fleet's journal is written to (the program reads it",
      "through Guards.layerConfig() or Journal.layerConfig()), e.g. export FLEETGUARD_JOURNAL=./fleet.jsonl,",
      "or pass --journal PATH."
    ].join("\n")
  }
}

/**
 * Options given together that contradict each other.
 *
 * @since 0.1.0
 * @category errors
 */
export class ConflictingOptions extends Schema.TaggedError<ConflictingOptions>()("ConflictingOptions", {
  options: Schema.String
}) {
  override get message(): string {
    return `${this.options} cannot be used together`
  }
}

const unitNames: Readonly<Record<string, string>> = {
  ms: "millis",
  s: "seconds",
  m: "minutes",
  h: "hours",
  d: "days",
  w: "weeks"
}

/** "30m", "1h", "2d", "90s", "500ms", or as the guards read durations ("1 hour", "90 seconds"). */
const parseSince = (text: string): number | undefined => {
  const short = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$/.exec(text)
  return GuardOptions.durationMillis(short === null ? text : `${short[1]} ${unitNames[short[2] ?? ""]}`)
}

/**
 * The options of `fleetguard status`: `--journal`, `--run`, `--all`, `--since`, `--json`, `--watch`.
 *
 * @since 0.1.0
 * @category options
 */
export const options = {
  journal: Options.text("journal").pipe(
    Options.withPseudoName("PATH"),
    Options.withDescription("The journal to read (its rotated files are read too). Default: FLEETGUARD_JOURNAL."),
    Options.optional
  ),
  run: Options.text("run").pipe(
    Options.withPseudoName("ID"),
    Options.withDescription("The run to show, by its id or the start of it. Default: the latest run."),
    Options.optional
  ),
  all: Options.boolean("all").pipe(Options.withDescription("Every run in the journal together.")),
  since: Options.text("since").pipe(
    Options.withPseudoName("DURATION"),
    Options.withDescription('Only what happened in the last DURATION: 30m, 1h, 2d, or "90 seconds".'),
    Options.mapEffect((text) => {
      const millis = parseSince(text)
      return millis === undefined
        ? Effect.fail(
            ValidationError.invalidValue(
              HelpDoc.p(`--since ${JSON.stringify(text)}: not a duration (try 30m, 1h or 2d)`)
            )
          )
        : Effect.succeed(millis)
    }),
    Options.optional
  ),
  json: Options.boolean("json").pipe(Options.withDescription("Print one JSON object instead of a table.")),
  watch: Options.boolean("watch").pipe(Options.withDescription("Redraw as new lines arrive, until Ctrl-C."))
} as const

type Parsed = Command.Command.ParseConfig<typeof options>

const journalPath = (given: Option.Option<string>) =>
  Effect.gen(function* () {
    const path = yield* Path.Path
    const fromEnv = yield* Env.optional(Env.text("FLEETGUARD_JOURNAL"))
    const chosen = Option.getOrElse(given, () => fromEnv)
    if (chosen === undefined) return yield* new NoJournalGiven()
    return path.resolve(chosen)
  })

const usd = (n: number) => `$${n.toFixed(4)}`
const time = (at: number) => new Date(at).toISOString()

const ago = (millis: number) => {
  const s = Math.max(0, Math.round(millis / 1000))
  return s < 120 ? `${s} s ago` : s < 7200 ? `${Math.round(s / 60)} min ago` : `${Math.round(s / 3600)} h ago`
}

/** Rows of cells, each column as wide as its widest cell. */
const columns = (rows: ReadonlyArray<ReadonlyArray<string>>): ReadonlyArray<string> => {
  const widths = rows.reduce<Array<number>>((w, row) => row.map((cell, i) => Math.max(w[i] ?? 0, cell.length)), [])
  return rows.map((row) =>
    row
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd()
  )
}

const section = (title: string, lines: ReadonlyArray<string>) => [
  "",
  `${title}${lines.length === 0 ? ": none" : ""}`,
  ...lines.map((line) => `  ${line}`)
]

/**
 * The report as a table.
 *
 * @since 0.1.0
 * @category formatting
 */
export const table = (report: StatusReport, now: number): string => {
  const { fleet } = report
  const share = fleet.limitUsd > 0 ? ` (${Math.round((100 * fleet.spentUsd) / fleet.limitUsd)}%)` : ""
  const run =
    report.runId === "all"
      ? `all ${report.runs} runs`
      : `${report.runId} (${report.runs} runs; --run ID or --all for others)`
  return [
    `journal     ${report.journal}`,
    `run         ${run}`,
    `last event  ${report.lastEventAt === null ? "none" : `${time(report.lastEventAt)}, ${ago(now - report.lastEventAt)}`}`,
    `fleet       ${usd(fleet.spentUsd)} spent of ${usd(fleet.limitUsd)}${share}, ${usd(fleet.reservedUsd)} reserved`,
    ...section(
      "agents by spend",
      columns(report.agents.map((a) => [a.agentId, usd(a.spentUsd), `${a.calls} call${a.calls === 1 ? "" : "s"}`]))
    ),
    ...section(
      "breaker trips",
      report.trips.map((t) => `${time(t.at)}  ${t.interrupted} interrupted`)
    ),
    ...section(
      "rate-limit pauses",
      report.pauses.map((p) => `${time(p.at)}  until ${time(p.untilMillis)}${p.capped ? "  capped by maxPause" : ""}`)
    ),
    ...section(
      "alerts",
      report.alerts.map((a) => `${time(a.at)}  ${a.kind} to ${a.sink}: ${a.delivered ? "delivered" : "not delivered"}`)
    ),
    ...section(
      "refusals",
      Object.entries(report.rejections).map(([reason, n]) => `${reason}: ${n}`)
    ),
    ...(report.skippedLines === 0
      ? []
      : ["", `skipped ${report.skippedLines} line(s) that could not be read (torn by a crash, or of an unknown kind)`])
  ].join("\n")
}

const selectionOf = (parsed: Parsed, now: number): Selection => ({
  run: Option.getOrUndefined(parsed.run),
  all: parsed.all,
  since: Option.getOrUndefined(Option.map(parsed.since, (millis) => now - millis))
})

/** What to print for the journal as it is now. */
const render = (path: string, contents: JournalContents, parsed: Parsed) =>
  Effect.flatMap(Clock.currentTimeMillis, (now) =>
    Either.match(summarize(path, contents, selectionOf(parsed, now)), {
      onLeft: Effect.fail,
      onRight: (report) =>
        Effect.succeed(
          parsed.json
            ? JSON.stringify(report)
            : contents.lines.length === 0 && report.skippedLines === 0
              ? `the journal at ${path} is empty: no fleet has written to it yet`
              : table(report, now)
        )
    })
  )

const once = (path: string, parsed: Parsed) =>
  Effect.flatMap(Journal.read(path), (contents) => Effect.flatMap(render(path, contents, parsed), Console.log))

// A burst of appends is one redraw.
const settle = "200 millis"

const watch = (path: string, parsed: Parsed) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const paths = yield* Path.Path
    let shown = ""
    const draw = Effect.flatMap(Journal.read(path), (contents) =>
      Effect.flatMap(render(path, contents, parsed), (text) => {
        if (text === shown) return Effect.void
        shown = text
        return Console.log(parsed.json ? text : `\x1b[2J\x1b[H${text}`)
      })
    )
    yield* draw
    yield* fs.watch(paths.dirname(path)).pipe(
      Stream.debounce(settle),
      Stream.runForEach(() => draw)
    )
  })

/**
 * The handler: reads FLEETGUARD_JOURNAL when `--journal` is not given.
 *
 * @since 0.1.0
 * @category running
 */
export const run = (parsed: Parsed) =>
  Effect.gen(function* () {
    if (parsed.all && Option.isSome(parsed.run)) return yield* new ConflictingOptions({ options: "--run and --all" })
    const path = yield* journalPath(parsed.journal)
    return yield* parsed.watch ? watch(path, parsed) : once(path, parsed)
  })

/**
 * `fleetguard status`, as an @effect/cli command.
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make("status", options, run).pipe(
  Command.withDescription(
    "Where the fleet stands, from its journal: spend, agents, breaker trips, pauses, alerts, refusals"
  )
)
