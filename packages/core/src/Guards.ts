/**
 * Guards: every guard from one options object or from the environment, and `wrap`, which applies
 * them all to any effect — the way to guard a call made through another SDK.
 *
 * @module
 * @since 0.1.0
 */

import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as FileSystem from "@effect/platform/FileSystem"
import * as HttpClient from "@effect/platform/HttpClient"
import * as Path from "@effect/platform/Path"
import { Config, ConfigError, ConfigProvider, Context, Effect, Layer, Option } from "effect"
import { dual } from "effect/Function"
import { Alerts } from "./Alerts.js"
import { Budget, type BudgetOptions } from "./Budget.js"
import { CircuitBreaker, type CircuitBreakerOptions } from "./CircuitBreaker.js"
import { Concurrency, type ConcurrencyOptions } from "./Concurrency.js"
import { Depth, type DepthOptions } from "./Depth.js"
import {
  type BudgetExceeded,
  type CircuitOpen,
  type DepthLimitExceeded,
  type GuardUnavailable,
  type InvalidAmount,
  InvalidOption
} from "./Errors.js"
import * as Wrap from "./internal/call/wrap.js"
import { Journal } from "./Journal.js"
import { isGroup, within } from "./Options.js"
import { type PriceTable, Pricing } from "./Pricing.js"

/**
 * The options of every guard, by guard, for `Guards.layer`. Only `budget.limitUsd` is required:
 * any other option left out (a whole group, or one option of a group) takes the default
 * `Guards.layerConfig()` uses when its variable is unset (docs/configuration.md lists them).
 *
 * @since 0.1.0
 * @category models
 */
export interface GuardsOptions {
  readonly budget: BudgetOptions
  readonly concurrency?: Partial<ConcurrencyOptions> | undefined
  readonly depth?: Partial<DepthOptions> | undefined
  readonly breaker?: Partial<CircuitBreakerOptions> | undefined
  /** Prices over the built-in table. */
  readonly pricing?: PriceTable | undefined
}

/**
 * The services `Guards.layer` provides, and that `Guards.wrap` and `LlmClient` need.
 *
 * @since 0.1.0
 * @category models
 */
export type GuardServices = Concurrency | Budget | Depth | CircuitBreaker | Pricing

const refused = (option: string, value: unknown, reason: string) => new InvalidOption({ option, value, reason })

/**
 * An object of options read once into plain data, so that no getter or Proxy of the caller's runs
 * later: its own fields, those set to `undefined` left out (not given); undefined when `value` is.
 * A value that is not an object, or cannot be read, fails naming it. The fields are not checked:
 * `O` is what the caller claims, and the guard's layer decodes it.
 */
const readGroup = <O>(value: unknown, name: string): Effect.Effect<O | undefined, InvalidOption> =>
  Effect.suspend(() => {
    if (value === undefined) return Effect.succeed(undefined)
    if (!isGroup(value)) return Effect.fail(refused(name, value, "must be an object of options"))
    // The top level's fields are named alone: `budget`, not `options.budget`.
    const field = (key: string) => (name === "options" ? key : `${name}.${key}`)
    const read = <A>(f: () => A, option: string) =>
      Effect.try({ try: f, catch: () => refused(option, undefined, "could not be read (reading it threw)") })
    return Effect.flatMap(
      read(() => Object.keys(value), name),
      (keys) =>
        Effect.map(
          Effect.forEach(keys, (key) =>
            read(() => [key, (value as Record<string, unknown>)[key]] as const, field(key))
          ),
          (fields) => Object.fromEntries(fields.filter(([, field]) => field !== undefined)) as unknown as O
        )
    )
  })

/** A group the options must have. */
const readRequired = <O>(value: unknown, name: string): Effect.Effect<O, InvalidOption> =>
  Effect.flatMap(readGroup<O>(value, name), (group) =>
    group === undefined ? Effect.fail(refused(name, undefined, "is required")) : Effect.succeed(group)
  )

const noVariables = ConfigProvider.fromMap(new Map())

/**
 * A group's options: those given, over what the guard's `config` reads with no variable set —
 * the defaults of `layerConfig`, from the one place they are written. An option the config has
 * no default for is required here too.
 */
const withDefaults = <O>(group: string, config: Config.Config<O>, given: unknown): Effect.Effect<O, InvalidOption> =>
  Effect.flatMap(readGroup<Partial<O>>(given, group), (options) =>
    Effect.map(
      Effect.mapError(Effect.withConfigProvider(config, noVariables), () => refused(group, undefined, "is required")),
      (defaults) => ({ ...defaults, ...options })
    )
  )

/** A guard's layer whose refusals name the option by its place in `GuardsOptions` (`budget.limitUsd`). */
const under = <A, R>(group: string, layer: Layer.Layer<A, InvalidOption, R>) => Layer.mapError(layer, within(group))

/**
 * All guards; a bad option fails the layer naming it (`concurrency.maxConcurrency`), whatever the
 * options are (null, a getter that throws, a Proxy).
 *
 * @since 0.1.0
 * @category layers
 */
const layer = (options: GuardsOptions): Layer.Layer<GuardServices, InvalidOption> =>
  Layer.unwrapEffect(
    Effect.gen(function* () {
      const given = yield* readRequired<GuardsOptions>(options, "options")
      const budget = yield* readRequired<BudgetOptions>(given.budget, "budget")
      const concurrency = yield* withDefaults("concurrency", Concurrency.config, given.concurrency)
      const depth = yield* withDefaults("depth", Depth.config, given.depth)
      const breaker = yield* withDefaults("breaker", CircuitBreaker.config, given.breaker)
      const pricing = yield* readGroup<PriceTable>(given.pricing, "pricing")
      return Layer.mergeAll(
        under("concurrency", Concurrency.layer(concurrency)),
        under("budget", Budget.layer(budget)),
        under("depth", Depth.layer(depth)),
        under("breaker", CircuitBreaker.layer(breaker)),
        under("pricing", Pricing.layer(pricing))
      )
    })
  )

/**
 * The FileSystem and Path the program provides, for the journal: a library cannot choose them, and
 * `layerConfig` keeps needing nothing when FLEETGUARD_JOURNAL is unset.
 */
const platformInContext = Layer.effectContext(
  Effect.gen(function* () {
    const fs = yield* Effect.serviceOption(FileSystem.FileSystem)
    const path = yield* Effect.serviceOption(Path.Path)
    if (Option.isNone(fs) || Option.isNone(path))
      return yield* Effect.fail(
        ConfigError.InvalidData(
          ["FLEETGUARD_JOURNAL"],
          "is set, but the program provides no FileSystem and Path to write it with: provide NodeContext.layer from @effect/platform-node"
        )
      )
    return Context.make(FileSystem.FileSystem, fs.value).pipe(Context.add(Path.Path, path.value))
  })
)

/** The HttpClient the program provides, else fetch's. */
const httpClientInContext = Layer.unwrapEffect(
  Effect.map(
    Effect.serviceOption(HttpClient.HttpClient),
    Option.match({
      onNone: () => FetchHttpClient.layer,
      onSome: (client) => Layer.succeed(HttpClient.HttpClient, client)
    })
  )
)

const journalConfig = Layer.unwrapEffect(
  Effect.map(Journal.config, (options) =>
    options === undefined ? Layer.empty : Layer.provide(Journal.layerConfig(Config.succeed(options)), platformInContext)
  )
)

/**
 * All guards from the FLEETGUARD_* variables; a bad value fails naming the variable. With
 * FLEETGUARD_JOURNAL set, the journal too (built over the guards, so that `RunStarted` records
 * their limits), and with a Slack or PagerDuty variable set, the alerts (through the program's
 * HttpClient, else fetch). Closing the layer delivers pending alerts, then drains the journal.
 *
 * @since 0.1.0
 * @category layers
 */
const layerConfig = (): Layer.Layer<GuardServices, ConfigError.ConfigError | InvalidOption> =>
  Alerts.layerConfig().pipe(
    Layer.provide(httpClientInContext),
    Layer.provideMerge(
      journalConfig.pipe(
        Layer.provideMerge(
          Layer.mergeAll(
            Concurrency.layerConfig(),
            Budget.layerConfig(),
            Depth.layerConfig(),
            CircuitBreaker.layerConfig(),
            Pricing.layer()
          )
        )
      )
    )
  )

/**
 * What `Guards.wrap` reserves before it runs an effect, what a success cost, and, optionally, the
 * model it calls and the tokens an answer used: with `model`, the call is reported as
 * `LlmClient`'s are (a `CallSettled` event for the journal, the alerts and `fleetguard status`,
 * and the `fleetguard_llm_*` metrics), with the tokens `usage` reads from the answer (0 without
 * it). `usage` needs `model`.
 *
 * @since 0.1.0
 * @category models
 */
export interface WrapOptions<A> extends Wrap.Costs<A> {}

/**
 * Every failure `Guards.wrap` adds to the wrapped effect's own: the guards' refusals.
 *
 * @since 0.1.0
 * @category errors
 */
export type WrapError = BudgetExceeded | DepthLimitExceeded | CircuitOpen | InvalidAmount | GuardUnavailable

/**
 * Every guard around any effect: depth check, reservation, gate, permit, breaker admission and
 * tracking, settlement. A success is charged `actualUsd`; a failure nothing; an interruption after
 * `self` started the full reservation (it may have been paid for), before it started nothing.
 * Failures of `self` count in the breaker as its `isFailure` decides, but for rate limits
 * (`isRateLimit`), which never count. The guards' refusals count in `fleetguard_llm_rejections`.
 * Given `model` (and `usage`), the call publishes a `CallSettled` event when it ends, as an
 * `LlmClient` call does, with one attempt (none when a guard refused it), what it was charged and
 * the tokens `usage` read; a `usage` that throws or answers no usage is logged and reported with
 * 0 tokens, and never changes the charge. Options that are not an object, an estimate the ledger
 * cannot hold, a cost or usage that is not a function, a `model` that is not a non-empty string
 * (or is missing when `usage` is given) fail `InvalidAmount` naming it, and `self` does not run.
 *
 * @since 0.1.0
 * @category combinators
 */
const wrap: {
  <A>(
    options: WrapOptions<A>
  ): <A2 extends A, E, R>(self: Effect.Effect<A2, E, R>) => Effect.Effect<A2, E | WrapError, R | GuardServices>
  <A, E, R>(self: Effect.Effect<A, E, R>, options: WrapOptions<A>): Effect.Effect<A, E | WrapError, R | GuardServices>
} = dual(2, Wrap.wrap)

/**
 * The guards as one: their layers from options or from the environment, and `wrap`.
 *
 * @since 0.1.0
 * @category layers
 */
export const Guards = { layer, layerConfig, wrap } as const
