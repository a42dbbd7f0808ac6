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
import * as Path from "@effect/platform/Path"
import { Options as GuardOptions, type JournalContents } from "@fleetguard/core"
import { Clock, Config, Console, Effect, Either, Option, Schema } from "effect"
import * as JournalFile from "./internal/status/journal.js"
import * as Table from "./internal/status/table.js"
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

/**
 * The report as a table. Every text that came from the journal is printed with its control
 * characters escaped (`Summary.printable`).
 *
 * @since 0.1.0
 * @category formatting
 */
export const table: (report: StatusReport, now: number) => string = Table.table

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

const once = (path: string, parsed: Parsed) =>
  Effect.flatMap(JournalFile.read(path), (contents) => Effect.flatMap(render(path, contents, parsed), Console.log))

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
    return yield* parsed.watch
      ? JournalFile.watch(path, (contents) => render(path, contents, parsed), parsed.json)
      : once(path, parsed)
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
