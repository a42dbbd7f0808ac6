/**
 * The `fleetguard` command on @effect/cli: `demo` and `status`. `--help` documents every option; an
 * unknown command or option is refused with the usage; a user's mistake (no journal, an unknown
 * run) is said in plain words, never with a stack trace. `main` answers the exit status.
 *
 * @module
 * @since 0.1.0
 */
import { Command, Usage, ValidationError } from "@effect/cli"
import * as HelpDoc from "@effect/cli/HelpDoc"
import { Console, Effect } from "effect"
import * as DemoCommand from "./DemoCommand.js"
import * as Status from "./Status.js"

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

const cli = Command.run(fleetguard, { name: "fleetguard", version: "0.1.0" })

const usages = { demo: Command.getUsage(DemoCommand.command), status: Command.getUsage(Status.command) } as const

const line = (usage: Usage.Usage) => `fleetguard ${HelpDoc.toAnsiText(Usage.getHelp(usage)).trim()}`

/** The usage of the command `argv` names, else of every command. */
const usage = (argv: ReadonlyArray<string>) => {
  const named = argv.slice(2).find((arg): arg is keyof typeof usages => Object.hasOwn(usages, arg))
  const lines = named === undefined ? Object.values(usages).map(line) : [line(usages[named])]
  return `usage: ${lines.join("\n       ")}`
}

/** What the user can fix, said on stderr in plain words. */
const userError = (message: string) => Effect.as(Console.error(`fleetguard: ${message}`), 1)

/**
 * Runs the command line; succeeds with the exit status (0, 1 for a user's mistake, 2 for bad usage).
 *
 * @since 0.1.0
 * @category running
 */
export const main = (argv: ReadonlyArray<string>) =>
  cli(argv).pipe(
    Effect.as(0),
    Effect.catchIf(ValidationError.isValidationError, () =>
      Effect.as(Console.error(`${usage(argv)}\nSee fleetguard --help, or fleetguard <command> --help.`), 2)
    ),
    Effect.catchTags({
      JournalNotFound: (error) =>
        userError(
          `${error.message} (nor any rotated file of it).\nSet FLEETGUARD_JOURNAL, or pass --journal PATH, to the file your fleet's journal is written to.`
        ),
      JournalUnavailable: (error) => userError(error.message),
      NoJournalGiven: (error) => userError(error.message),
      UnknownRun: (error) => userError(error.message),
      AmbiguousRun: (error) => userError(error.message),
      ConflictingOptions: (error) => userError(error.message),
      InvalidDemoOption: (error) => userError(error.message),
      MissingApiKey: (error) => userError(error.message),
      ConfigError: (error) => userError(String(error))
    })
  )
