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
import { Config, ConfigError, Context, Effect, Layer, Option, Schema } from "effect"
import { dual } from "effect/Function"
import { Alerts } from "./Alerts.js"
import { Budget, type BudgetOptions } from "./Budget.js"
import { CircuitBreaker, type CircuitBreakerOptions } from "./CircuitBreaker.js"
import { Concurrency, type ConcurrencyOptions } from "./Concurrency.js"
import { currentDepth, Depth, type DepthOptions } from "./Depth.js"
import {
  type BudgetExceeded,
  type CircuitOpen,
  type DepthLimitExceeded,
  type GuardUnavailable,
  type InvalidAmount,
  InvalidOption
} from "./Errors.js"
import * as AgentId from "./internal/agentId.js"
import { permitted, reserving } from "./internal/guarded.js"
import * as Settle from "./internal/settle.js"
import { Journal } from "./Journal.js"
import { decode, Options, option } from "./Options.js"
import { type PriceTable, Pricing } from "./Pricing.js"

/**
 * The options of every guard, by guard, for `Guards.layer`.
 *
 * @since 0.1.0
 * @category models
 */
export interface GuardsOptions {
  readonly budget: BudgetOptions
  readonly concurrency: ConcurrencyOptions
  readonly depth: DepthOptions
  readonly breaker: CircuitBreakerOptions
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

const Group = option(
  (u): u is object => typeof u === "object" && u !== null && !Array.isArray(u),
  "must be an object of options"
)

const OptionsSchema = Options({
  budget: Group,
  concurrency: Group,
  depth: Group,
  breaker: Group,
  pricing: Schema.optional(Schema.Unknown)
})

/** A guard's layer whose refusals name the option by its place in `GuardsOptions` (`budget.limitUsd`). */
const under = <A, R>(group: string, layer: Layer.Layer<A, InvalidOption, R>) =>
  Layer.mapError(
    layer,
    (error) =>
      new InvalidOption({
        option: error.option === "options" ? group : `${group}.${error.option}`,
        value: error.value,
        reason: error.reason
      })
  )

/**
 * All guards; a bad option fails the layer naming it (`concurrency.maxConcurrency`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: GuardsOptions): Layer.Layer<GuardServices, InvalidOption> =>
  Layer.unwrapEffect(
    Effect.map(decode(OptionsSchema, options), () =>
      Layer.mergeAll(
        under("concurrency", Concurrency.layer(options.concurrency)),
        under("budget", Budget.layer(options.budget)),
        under("depth", Depth.layer(options.depth)),
        under("breaker", CircuitBreaker.layer(options.breaker)),
        under("pricing", Pricing.layer(options.pricing))
      )
    )
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
export const layerConfig = (): Layer.Layer<GuardServices, ConfigError.ConfigError | InvalidOption> =>
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
 * What `Guards.wrap` reserves before it runs an effect, and what a success cost.
 *
 * @since 0.1.0
 * @category models
 */
export interface WrapOptions<A> {
  /** The upper bound reserved before `self` runs. */
  readonly estimateUsd: number
  /** What a success cost; a cost that cannot be computed is charged as the full reservation. */
  readonly actualUsd: (a: A) => number
}

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
 * (`isRateLimit`), which never count.
 *
 * @since 0.1.0
 * @category combinators
 */
export const wrap: {
  <A>(
    options: WrapOptions<A>
  ): <A2 extends A, E, R>(self: Effect.Effect<A2, E, R>) => Effect.Effect<A2, E | WrapError, R | GuardServices>
  <A, E, R>(self: Effect.Effect<A, E, R>, options: WrapOptions<A>): Effect.Effect<A, E | WrapError, R | GuardServices>
} = dual(
  2,
  <A, E, R>(
    self: Effect.Effect<A, E, R>,
    options: WrapOptions<A>
  ): Effect.Effect<A, E | WrapError, R | GuardServices> =>
    Effect.withFiberRuntime<A, E | WrapError, R | GuardServices>((fiber) => {
      const context = fiber.currentContext as Context.Context<GuardServices>
      const budget = Context.getOption(context, Budget)
      const concurrency = Context.getOption(context, Concurrency)
      const breaker = Context.getOption(context, CircuitBreaker)
      const depth = Context.getOption(context, Depth)
      if (Option.isNone(budget) || Option.isNone(concurrency) || Option.isNone(breaker) || Option.isNone(depth))
        return Effect.zipRight(
          Effect.all([Budget, Concurrency, CircuitBreaker, Depth]),
          Effect.dieMessage("unreachable")
        )
      const guarded = Effect.uninterruptibleMask((restore) =>
        reserving(budget.value, fiber.getFiberRef(AgentId.currentAgentId), options.estimateUsd, (reservation) => {
          let started = false
          const call = Effect.suspend(() => {
            started = true
            return self
          })
          const gates = { concurrency: concurrency.value, breaker: breaker.value }
          return permitted(gates, fiber, restore, call, noPause, (exit) =>
            Effect.zipRight(
              Settle.settle(
                budget.value,
                reservation,
                Settle.owedOnExit(exit, started, (a) => Settle.cost(() => options.actualUsd(a)))
              ),
              exit
            )
          )
        })
      )
      return fiber.getFiberRef(currentDepth) >= depth.value.maxDepth
        ? Effect.zipRight(depth.value.check, guarded)
        : guarded
    })
)

const noPause = () => undefined

/**
 * The guards as one: their layers from options or from the environment, and `wrap`.
 *
 * @since 0.1.0
 * @category layers
 */
export const Guards = { layer, layerConfig, wrap } as const
