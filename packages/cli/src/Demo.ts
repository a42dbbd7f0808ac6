/**
 * The demo: fleetguard's failure modes one scenario at a time, each run twice against a local
 * FakeAnthropic with the same agents, prompts and server script. Naive: the Anthropic SDK with its
 * default retries and `Promise.all`. Guarded: the same agents through `LlmClient` and `Guards`,
 * configured as a user would (`settings`), every other option at its default.
 * Every figure is measured: requests from the server's record, spend from the usage the API
 * reported and from what fleetguard's ledger charged (each said apart), refusals from the guards'
 * events. Nothing needs a key or the network.
 *
 * @module
 * @since 0.1.0
 */
import { Pricing } from "@fleetguard/core"
import { Clock, Effect, Schema } from "effect"
import { type Env, guardsOf, settings } from "./internal/demo/agents.js"
import * as All from "./internal/demo/all.js"
import * as BudgetScenario from "./internal/demo/budget.js"
import { InvalidDemoOption } from "./internal/demo/errors.js"
import * as FanOut from "./internal/demo/fanout.js"
import * as Progress from "./internal/demo/progress.js"
import * as Report from "./internal/demo/report.js"
import { names, type ScenarioName, type ScenarioResult } from "./internal/demo/scenario.js"
import * as Storm from "./internal/demo/storm.js"
import * as Table from "./internal/demo/table.js"
import * as Trip from "./internal/demo/trip.js"

export { InvalidDemoOption, MissingApiKey } from "./internal/demo/errors.js"
export type { Progress } from "./internal/demo/progress.js"
export type { Call, Charge, Lane, Row, ScenarioName, ScenarioResult, Side, Wait } from "./internal/demo/scenario.js"

/**
 * The scenarios `--scenario` names, in the order they run.
 *
 * @since 0.1.0
 * @category constants
 */
export const scenarios: ReadonlyArray<ScenarioName> = names

/**
 * What `Demo.run` is given: the scenarios to run, and where to show progress.
 *
 * @since 0.1.0
 * @category models
 */
export interface DemoOptions {
  /** Default: every scenario. */
  readonly scenarios?: ReadonlyArray<ScenarioName> | undefined
  /** Default: silent. */
  readonly progress?: Progress.Progress | undefined
}

/**
 * What `Demo.run` measured: each scenario's result, and how long the whole demo took.
 *
 * @since 0.1.0
 * @category models
 */
export interface DemoReport {
  readonly results: ReadonlyArray<ScenarioResult>
  readonly wallMillis: number
}

const runners: Record<ScenarioName, (env: Env) => Effect.Effect<ScenarioResult>> = {
  storm: Storm.run,
  budget: BudgetScenario.run,
  fanout: FanOut.run,
  trip: Trip.run,
  all: All.run
}

const Scenarios = Schema.Array(Schema.Literal(...names))

/** A value as an error message may show it, whatever it is. */
const shown = (value: unknown): string => {
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return typeof value
  }
}

const scenariosOf = (chosen: unknown): Effect.Effect<ReadonlyArray<ScenarioName>, InvalidDemoOption> =>
  chosen === undefined
    ? Effect.succeed(names)
    : Effect.try({
        try: () => Schema.decodeUnknownSync(Scenarios)(chosen),
        catch: () =>
          new InvalidDemoOption({
            option: "scenarios",
            value: shown(chosen),
            reason: `must be a list of scenarios among ${names.join(", ")}`
          })
      })

/**
 * Runs the scenarios asked for, one after the other, each side against a server of its own; a
 * `scenarios` that is not a list of scenarios fails `InvalidDemoOption`, before anything runs.
 *
 * @since 0.1.0
 * @category running
 */
export const run = (options: DemoOptions = {}): Effect.Effect<DemoReport, InvalidDemoOption> =>
  Effect.gen(function* () {
    const chosen = yield* scenariosOf(options.scenarios)
    const env: Env = {
      pricing: yield* Effect.orDie(Pricing.make()),
      guards: yield* Effect.orDie(guardsOf(settings)),
      progress: options.progress ?? Progress.silent
    }
    const startedAt = yield* Clock.currentTimeMillis
    const results = yield* Effect.forEach(chosen, (name) => runners[name](env))
    return { results, wallMillis: (yield* Clock.currentTimeMillis) - startedAt }
  })

/**
 * The report as the terminal shows it: a table per scenario, then one over them all.
 *
 * @since 0.1.0
 * @category formatting
 */
export const format = (report: DemoReport): string =>
  [
    Table.configuration(settings),
    ...report.results.map(Table.scenario),
    Table.summaryText(report.results),
    `The demo took ${Table.seconds(report.wallMillis)}.`
  ].join("\n\n")

/**
 * The report as one self-contained HTML page: the tables and, per scenario, its charts.
 *
 * @since 0.1.0
 * @category formatting
 */
export const html = (report: DemoReport): string => Report.render(report.results, settings)
