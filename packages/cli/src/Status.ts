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
import { SystemError } from "@effect/platform/Error"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import { Options as GuardOptions, Journal, type JournalContents } from "@fleetguard/core"
import { Clock, Config, Console, Effect, Either, Option, Schedule, Schema, Stream } from "effect"
import { Output } from "./Output.js"
import { printable, type Selection, type StatusReport, summarize, toJson } from "./Summary.js"

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
    Options.withDescription(
      "The journal file to read; its rotated files beside it are read too. Default: FLEETGUARD_JOURNAL."
    ),
    Options.mapEffect((path) =>
      path.trim() === ""
        ? Effect.fail(ValidationError.invalidValue(HelpDoc.p("--journal: an empty path (name the journal's file)")))
        : Effect.succeed(path)
    ),
    Options.optional
  ),
  run: Options.text("run").pipe(
    Options.withPseudoName("ID"),
    Options.withDescription("The run to show, by its id or the start of it. Default: the run that began last."),
    Options.optional
  ),
  all: Options.boolean("all").pipe(
    Options.withDescription("Every run in the journal together (the limit shown is the latest run's).")
  ),
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
  json: Options.boolean("json").pipe(Options.withDescription("Print one JSON object (one line) instead of a table.")),
  watch: Options.boolean("watch").pipe(
    Options.withDescription(
      "Redraw as new lines arrive, until Ctrl-C; on a terminal also every second, as the times age. With --json: one object a line, when it changes."
    )
  )
} as const

type Parsed = Command.Command.ParseConfig<typeof options>

const journalPath = (given: Option.Option<string>) =>
  Effect.gen(function* () {
    const path = yield* Path.Path
    // An explicit --journal wins; an empty FLEETGUARD_JOURNAL counts as unset.
    const chosen = Option.isSome(given)
      ? given
      : Option.filter(yield* Config.option(Config.string("FLEETGUARD_JOURNAL")), (text) => text.trim() !== "")
    if (Option.isNone(chosen)) return yield* new NoJournalGiven()
    return path.resolve(chosen.value)
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

const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? "" : "s"}`

/** Which run, and how many the window holds. */
const runLine = ({ runId, runs }: StatusReport) =>
  runId === "all"
    ? `all ${plural(runs, "run")}`
    : `${printable(runId)} (${plural(runs, "run")}${runs > 1 ? "; --run ID or --all for others" : ""})`

/** Whether the run has ended, or how long it has been silent: still going, or cut off. */
const stateLine = (report: StatusReport, now: number) => {
  if (report.endedAt !== null) return `ended at ${time(report.endedAt)}`
  const silent = report.lastEventAt === null ? "" : `; last event ${ago(now - report.lastEventAt)}`
  const which = report.runId === "all" ? "not every run has ended" : "not ended"
  return `${which} (no RunEnded): still going, or cut off${silent}`
}

const fleetLine = ({ fleet }: StatusReport) => {
  const limit =
    fleet.limitUsd > 0
      ? `of ${usd(fleet.limitUsd)} (${Math.round((100 * fleet.spentUsd) / fleet.limitUsd)}%)`
      : "(no limit in the journal)"
  return `${usd(fleet.spentUsd)} spent ${limit}, ${usd(fleet.reservedUsd)} reserved`
}

/** The agents' title: partial, and by how much, when the journal lost events or a run's first lines. */
const agentsTitle = (report: StatusReport) => {
  const lost = [
    ...(report.droppedEvents > 0
      ? [`the journal's writer dropped ${plural(report.droppedEvents, "event")} (EventsDropped)`]
      : []),
    ...(report.prunedRuns === 0
      ? []
      : [
          report.runId === "all"
            ? `the first lines of ${plural(report.prunedRuns, "run")} were rotated away (maxFiles)`
            : "the run's first lines were rotated away (maxFiles)"
        ])
  ]
  if (lost.length === 0) return "agents by spend"
  const counted = report.agents.reduce((n, a) => n + Math.round(a.spentUsd * 1e9), 0) / 1e9
  const short =
    counted < report.fleet.spentUsd
      ? `; the agents below account for ${usd(counted)} of the ${usd(report.fleet.spentUsd)} spent`
      : ""
  return `agents by spend: partial, ${lost.join(" and ")}${short}`
}

const agentRows = (report: StatusReport) =>
  columns(
    report.agents.map((a) => {
      const refused = Object.entries(a.rejections).map(([reason, n]) => `${printable(reason)} ${n}`)
      return [
        printable(a.agentId),
        usd(a.spentUsd),
        plural(a.calls, "call"),
        refused.length === 0 ? "" : `refused ${refused.join(", ")}`
      ]
    })
  )

/**
 * The report as a table. Every text that came from the journal is printed with its control
 * characters escaped (`Summary.printable`).
 *
 * @since 0.1.0
 * @category formatting
 */
export const table = (report: StatusReport, now: number): string =>
  [
    `journal     ${printable(report.journal)}`,
    `run         ${runLine(report)}`,
    ...(report.runId === "" ? [] : [`state       ${stateLine(report, now)}`]),
    `last event  ${report.lastEventAt === null ? "none" : `${time(report.lastEventAt)}, ${ago(now - report.lastEventAt)}`}`,
    `fleet       ${fleetLine(report)}`,
    ...section(agentsTitle(report), agentRows(report)),
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
      report.alerts.map(
        (a) =>
          `${time(a.at)}  ${printable(a.kind)} (${printable(a.incident)}) to ${printable(a.sink)}: ${a.delivered ? "delivered" : "not delivered"}`
      )
    ),
    ...section(
      "refusals",
      Object.entries(report.rejections).map(([reason, n]) => `${printable(reason)}: ${n}`)
    ),
    ...(report.skippedLines === 0
      ? []
      : [
          "",
          `skipped ${plural(report.skippedLines, "line")} that could not be read (torn by a crash, of an unknown kind, or holding a time or amount no guard writes)`
        ])
  ].join("\n")

const selectionOf = (parsed: Parsed, now: number): Selection => ({
  run: Option.getOrUndefined(parsed.run),
  all: parsed.all,
  since: Option.getOrUndefined(Option.map(parsed.since, (millis) => now - millis))
})

/** What to print for the journal as it was read, at the current time. */
const render = (path: string, contents: JournalContents, parsed: Parsed) =>
  Effect.flatMap(Clock.currentTimeMillis, (now) =>
    Either.match(summarize(path, contents, selectionOf(parsed, now)), {
      onLeft: Effect.fail,
      onRight: (report) =>
        Effect.succeed(
          parsed.json
            ? toJson(report)
            : contents.lines.length === 0 && report.skippedLines === 0
              ? `the journal at ${printable(path)} is empty: no fleet has written to it yet`
              : table(report, now)
        )
    })
  )

const kinds: Readonly<Record<FileSystem.File.Type, string>> = {
  File: "a file",
  Directory: "a directory",
  SymbolicLink: "a symbolic link",
  BlockDevice: "a block device",
  CharacterDevice: "a character device",
  FIFO: "a FIFO (named pipe)",
  Socket: "a socket",
  Unknown: "not a regular file"
}

/**
 * The file system, reading regular files only: reading a FIFO named like the journal (or one of
 * its rotated files) would wait for a writer for ever, and a device would never end.
 */
const regularFilesOnly = (fs: FileSystem.FileSystem): FileSystem.FileSystem => ({
  ...fs,
  readFileString: (path, encoding) =>
    Effect.flatMap(fs.stat(path), (info) =>
      info.type === "File"
        ? fs.readFileString(path, encoding)
        : Effect.fail(
            new SystemError({
              reason: "InvalidData",
              module: "FileSystem",
              method: "readFileString",
              pathOrDescriptor: path,
              description: `${kinds[info.type]}, not a regular file: a journal is a file its fleet appends to`
            })
          )
    )
})

/** The journal and its rotated files, as they are now. */
const read = (path: string) =>
  Effect.flatMap(FileSystem.FileSystem, (fs) =>
    Effect.provideService(Journal.read(path), FileSystem.FileSystem, regularFilesOnly(fs))
  )

const once = (path: string, parsed: Parsed) =>
  Effect.flatMap(read(path), (contents) => Effect.flatMap(render(path, contents, parsed), Console.log))

// A burst of appends is one redraw.
const settle = "200 millis"
// How often a terminal's table is redrawn as its times age ("last event 5 s ago").
const tick = "1 second"

/**
 * Prints the report, then again whenever the journal changes — and, on a terminal or with --json,
 * every second from the lines last read: ages move, and lines leave a --since window. Only a text
 * that differs from the last one is printed; a pipe gets no ticking table.
 */
const watch = (path: string, parsed: Parsed) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const paths = yield* Path.Path
    const { terminal } = yield* Output
    const clear = terminal && !parsed.json
    let latest = yield* read(path)
    let shown = ""
    /** Draws the journal as read now (`contents`), or as last read. */
    const draw = (contents?: JournalContents) => {
      if (contents !== undefined) latest = contents
      return Effect.flatMap(render(path, latest, parsed), (text) => {
        if (text === shown) return Effect.void
        shown = text
        return Console.log(clear ? `\x1b[2J\x1b[H${text}` : text)
      })
    }
    const changes = fs.watch(paths.dirname(path)).pipe(
      Stream.debounce(settle),
      Stream.mapEffect(() => read(path))
    )
    const ticks = terminal || parsed.json ? Stream.fromSchedule(Schedule.spaced(tick)) : Stream.empty
    yield* draw()
    yield* Stream.merge(changes, Stream.as(ticks, undefined)).pipe(Stream.runForEach(draw))
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
