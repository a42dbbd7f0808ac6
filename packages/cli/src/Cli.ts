/**
 * The `fleetguard` command on @effect/cli: `demo` and `status`. `--help` documents every option,
 * coloured only on a terminal that welcomes it (`Output`); an unknown command or option, or an
 * option's bad value, is refused with the usage (exit 2); a user's mistake (no journal, an unknown
 * run) is said in plain words, never with a stack trace (exit 1). `main` answers the exit status.
 *
 * @module
 * @since 0.1.0
 */
import { stripVTControlCharacters } from "node:util"
import { CliConfig, Command, Options, Usage, ValidationError } from "@effect/cli"
import * as HelpDoc from "@effect/cli/HelpDoc"
import { Array as Arr, Console, Effect } from "effect"
import * as DemoCommand from "./DemoCommand.js"
import { Output } from "./Output.js"
import * as Status from "./Status.js"
import { printable } from "./Summary.js"

const version = "0.1.0"

/**
 * The `fleetguard` command: `demo` and `status` as subcommands.
 *
 * @since 0.1.0
 * @category commands
 */
export const fleetguard = Command.make("fleetguard").pipe(
  Command.withDescription("Keeps fleets of concurrent LLM agents inside a cost envelope."),
  Command.withSubcommands([DemoCommand.command, Status.command])
)

const cli = Command.run(fleetguard, { name: "fleetguard", version })

const commands = {
  demo: {
    usage: () => Command.getUsage(DemoCommand.command),
    help: (config: CliConfig.CliConfig) => Command.getHelp(DemoCommand.command, config)
  },
  status: {
    usage: () => Command.getUsage(Status.command),
    help: (config: CliConfig.CliConfig) => Command.getHelp(Status.command, config)
  }
} as const
type Named = keyof typeof commands
const names = Object.keys(commands) as ReadonlyArray<Named>

/** The command `args` name, if any: @effect/cli reads it wherever the root's options leave it. */
const named = (args: ReadonlyArray<string>) => args.find((arg): arg is Named => Object.hasOwn(commands, arg))

const text = (doc: HelpDoc.HelpDoc) => stripVTControlCharacters(HelpDoc.toAnsiText(doc)).trim()

const usageLine = (name: Named) => `fleetguard ${text(Usage.getHelp(commands[name].usage()))}`

/** The usage of the command `argv` names, else of every command. */
const usage = (argv: ReadonlyArray<string>) => {
  const name = named(argv.slice(2))
  const lines = (name === undefined ? names : [name]).map(usageLine)
  return `usage: ${lines.join("\n       ")}`
}

const paragraphs = (doc: HelpDoc.HelpDoc): ReadonlyArray<string> => {
  switch (doc._tag) {
    case "Paragraph":
      return [text(doc)]
    case "Sequence":
      return [...paragraphs(doc.left), ...paragraphs(doc.right)]
    case "DescriptionList":
      return doc.definitions.flatMap(([, definition]) => paragraphs(definition))
    case "Enumeration":
      return doc.elements.flatMap(paragraphs)
    default:
      return []
  }
}

/**
 * What @effect/cli writes for an option of no description ("A user-defined piece of text.", "A true
 * or false value.", "This setting is optional."): it says nothing the option's own text does not.
 */
const placeholders = new Set(
  [Options.getHelp(Options.text("x").pipe(Options.optional)), Options.getHelp(Options.boolean("x"))].flatMap(paragraphs)
)

const withoutPlaceholders = (doc: HelpDoc.HelpDoc): HelpDoc.HelpDoc => {
  switch (doc._tag) {
    case "Paragraph":
      return placeholders.has(text(doc)) ? HelpDoc.empty : doc
    case "Sequence":
      return HelpDoc.sequence(withoutPlaceholders(doc.left), withoutPlaceholders(doc.right))
    case "DescriptionList":
      return HelpDoc.descriptionList(Arr.map(doc.definitions, ([span, block]) => [span, withoutPlaceholders(block)]))
    case "Enumeration":
      return HelpDoc.enumeration(Arr.map(doc.elements, withoutPlaceholders))
    default:
      return doc
  }
}

/** The help of a command (or of fleetguard and its built-in options): its usage in full, then its options. */
const help = (name: Named | undefined) =>
  HelpDoc.blocks([
    HelpDoc.p(`fleetguard ${version}`),
    HelpDoc.h1("USAGE"),
    ...(name === undefined ? names : [name]).map((n) => HelpDoc.p(usageLine(n))),
    withoutPlaceholders(
      name === undefined
        ? Command.getHelp(fleetguard, CliConfig.defaultConfig)
        : commands[name].help(CliConfig.make({ showBuiltIns: false }))
    )
  ])

const showHelp = (args: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const { colour } = yield* Output
    const ansi = HelpDoc.toAnsiText(help(named(args)))
    yield* Console.log(colour ? ansi : stripVTControlCharacters(ansi))
    return 0
  })

/** What the user can fix, said on stderr in plain words; what came from outside shown escaped. */
const userError = (message: string) =>
  Effect.as(Console.error(`fleetguard: ${message.split("\n").map(printable).join("\n")}`), 1)

/** A command line that cannot run as written: what is wrong (when @effect/cli has not said it), and the usage. */
const usageError = (argv: ReadonlyArray<string>, message?: string) =>
  Effect.as(
    Console.error(
      `${message === undefined ? "" : `fleetguard: ${printable(message)}\n`}${usage(argv)}\nSee fleetguard --help, or fleetguard <command> --help.`
    ),
    2
  )

/**
 * Runs the command line; succeeds with the exit status: 0; 1 for a mistake the message explains
 * (no journal, an unknown run, a journal that cannot be read); 2 for a command line that cannot
 * run as written (an unknown command or option, an option's bad value, options that contradict
 * each other), with the usage.
 *
 * @since 0.1.0
 * @category running
 */
export const main = (argv: ReadonlyArray<string>) => {
  const args = argv.slice(2)
  // Bare, the command asks for nothing: its help, as --help gives it.
  if (args.length === 0 || args.includes("--help") || args.includes("-h")) return showHelp(args)
  return cli(argv).pipe(
    Effect.as(0),
    Effect.catchIf(ValidationError.isValidationError, () => usageError(argv)),
    Effect.catchTags({
      ConflictingOptions: (error) => usageError(argv, error.message),
      InvalidDemoOption: (error) => usageError(argv, error.message),
      JournalNotFound: (error) =>
        userError(
          `${error.message} (nor any rotated file of it).\nSet FLEETGUARD_JOURNAL, or pass --journal PATH, to the file your fleet's journal is written to.`
        ),
      JournalUnavailable: (error) => userError(error.message),
      NoJournalGiven: (error) => userError(error.message),
      UnknownRun: (error) => userError(error.message),
      AmbiguousRun: (error) => userError(error.message),
      MissingApiKey: (error) => userError(error.message),
      ConfigError: (error) => userError(String(error))
    })
  )
}
