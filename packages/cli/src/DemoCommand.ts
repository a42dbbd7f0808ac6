/**
 * `fleetguard demo`: the command line of the demo in Demo.ts. `--scenario NAME` runs one scenario,
 * `--report FILE` says where the HTML report goes (by default a file in the temp folder), and
 * `--live` runs the storm and fan-out guarded only against the real API under a hard `--limit`.
 * A bad value is a usage error, refused while the arguments are parsed (exit 2), as for `status`.
 *
 * @module
 * @since 0.1.0
 */
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Command, Options, ValidationError } from "@effect/cli"
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as FileSystem from "@effect/platform/FileSystem"
import { Console, Effect, Option } from "effect"
import { InvalidDemoOption } from "./internal/demo/errors.js"
import { names } from "./internal/demo/scenario.js"

/** A bad value, said in one line naming the option, as a usage error. */
const invalid = (option: string, value: string, reason: string) =>
  Effect.fail(ValidationError.invalidValue(HelpDoc.p(new InvalidDemoOption({ option, value, reason }).message)))

const scenarioOf = (name: string) => {
  const known = names.find((n) => n === name)
  return known !== undefined
    ? Effect.succeed(known)
    : invalid("--scenario", name, `not a scenario (${names.join(", ")})`)
}

const limitOf = (text: string) => {
  const usd = /^\s*\d+(\.\d+)?\s*$/.test(text) ? Number(text) : Number.NaN
  return usd > 0 && usd <= 10
    ? Effect.succeed(usd)
    : invalid("--limit", text, "must be an amount of USD above 0 and at most 10")
}

/**
 * The demo's options.
 *
 * @since 0.1.0
 * @category options
 */
export const options = {
  scenario: Options.text("scenario").pipe(
    Options.withPseudoName("NAME"),
    Options.withDescription(
      "Run one scenario: storm, budget, fanout, trip or all (every failure at once). Default: each in turn."
    ),
    Options.mapEffect(scenarioOf),
    Options.optional
  ),
  report: Options.text("report").pipe(
    Options.withPseudoName("FILE"),
    Options.withDescription("Write the HTML report here. Default: a new file in the temp folder."),
    Options.optional
  ),
  live: Options.boolean("live").pipe(
    Options.withDescription("Run the storm and fan-out guarded only, against the real API (needs ANTHROPIC_API_KEY).")
  ),
  limit: Options.text("limit").pipe(
    Options.withPseudoName("USD"),
    Options.withDescription("With --live: the hard fleet limit in USD. Default: 0.05."),
    Options.mapEffect(limitOf),
    Options.withDefault(0.05)
  )
} as const

/**
 * The handler. The demo's modules are loaded when it runs: the SDK and FakeAnthropic would add
 * seconds to every `status`.
 *
 * @since 0.1.0
 * @category running
 */
export const run = (parsed: Command.Command.ParseConfig<typeof options>) =>
  Effect.gen(function* () {
    if (parsed.live) {
      const Live = yield* Effect.promise(() => import("./internal/demo/live.js"))
      return yield* Live.run(parsed.limit)
    }
    const Demo = yield* Effect.promise(() => import("./Demo.js"))
    const scenarios = Option.getOrUndefined(Option.map(parsed.scenario, (name) => [name]))
    const Progress = yield* Effect.promise(() => import("./internal/demo/progress.js"))
    const report = yield* Demo.run({
      scenarios,
      progress: Progress.make((text) => process.stdout.write(text), process.stdout.isTTY === true)
    })
    yield* Console.log(`\n${Demo.format(report)}`)
    const path = Option.getOrElse(parsed.report, () => join(tmpdir(), `fleetguard-demo-${Date.now()}.html`))
    const fs = yield* FileSystem.FileSystem
    yield* fs.writeFileString(path, Demo.html(report))
    yield* Console.log(`\nThe report with its charts: ${path}`)
  })

/**
 * `fleetguard demo`.
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make("demo", options, run).pipe(
  Command.withDescription(
    "Each failure mode as a scenario, run naive then guarded against a local FakeAnthropic (no key, no network): measured tables and an HTML report"
  )
)
