/**
 * `fleetguard demo`: the command line of the demo in Demo.ts. `--scenario NAME` runs one scenario,
 * `--report FILE` says where the HTML report goes (by default a file in the temp folder), and
 * `--live` runs the storm and fan-out guarded only against the real API under a hard `--limit`.
 *
 * @module
 * @since 0.1.0
 */
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Command, Options } from "@effect/cli"
import * as FileSystem from "@effect/platform/FileSystem"
import { Console, Effect, Option } from "effect"
import { InvalidDemoOption } from "./internal/demo/errors.js"

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
    Options.optional
  )
} as const

const scenarioOf = <N extends string>(names: ReadonlyArray<N>, value: Option.Option<string>) =>
  Option.match(value, {
    onNone: () => Effect.succeed(undefined),
    onSome: (name) => {
      const known = names.find((n) => n === name)
      return known !== undefined
        ? Effect.succeed([known])
        : Effect.fail(
            new InvalidDemoOption({ option: "--scenario", value: name, reason: `not a scenario (${names.join(", ")})` })
          )
    }
  })

const limitOf = (value: Option.Option<string>) =>
  Option.match(value, {
    onNone: () => Effect.succeed(0.05),
    onSome: (text) => {
      const usd = /^\s*\d+(\.\d+)?\s*$/.test(text) ? Number(text) : Number.NaN
      return usd > 0 && usd <= 10
        ? Effect.succeed(usd)
        : Effect.fail(
            new InvalidDemoOption({
              option: "--limit",
              value: text,
              reason: "must be an amount of USD above 0 and at most 10"
            })
          )
    }
  })

/**
 * The handler. The demo's modules are loaded when it runs: the SDK and FakeAnthropic would add
 * seconds to every `status`.
 *
 * @since 0.1.0
 * @category running
 */
export const run = (parsed: Command.Command.ParseConfig<typeof options>) =>
  Effect.gen(function* () {
    const limitUsd = yield* limitOf(parsed.limit)
    if (parsed.live) {
      const Live = yield* Effect.promise(() => import("./internal/demo/live.js"))
      return yield* Live.run(limitUsd)
    }
    const Demo = yield* Effect.promise(() => import("./Demo.js"))
    const scenarios = yield* scenarioOf(Demo.scenarios, parsed.scenario)
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
