/**
 * Depth: bounds the agent tree. The depth lives in a FiberRef (the root runs at 0); `nested` runs a
 * sub-agent one level down and refuses to start it at `maxDepth`; `fanOut` caps the branches
 * spawned per level.
 *
 * @module
 * @since 0.1.0
 */

import { Config, Context, Effect, type Exit, FiberRef, Layer } from "effect"
import { globalValue } from "effect/GlobalValue"
import * as Env from "./Env.js"
import { DepthLimitExceeded, InvalidOption } from "./Errors.js"
import * as Events from "./Events.js"
import * as AgentId from "./internal/runtime/agentId.js"
import { withService } from "./internal/runtime/fiber.js"
import { decode, layerFromConfig, Options, PositiveInteger } from "./Options.js"

/**
 * How deep the agent tree may grow, and how wide one `fanOut` may spread.
 *
 * @since 0.1.0
 * @category models
 */
export interface DepthOptions {
  /** Agents run at depths 0 … maxDepth - 1. */
  readonly maxDepth: number
  /** The most branches one `fanOut` runs. */
  readonly maxFanOut: number
}

/**
 * What `fanOut` did: one Exit per admitted item (in order), and how many items were not run.
 *
 * @since 0.1.0
 * @category models
 */
export interface FanOutResult<A, E> {
  readonly results: ReadonlyArray<Exit.Exit<A, E>>
  readonly dropped: number
}

/**
 * The depth limit: checks the calling fiber's depth, runs sub-agents one level down, and caps
 * fan-out.
 *
 * @since 0.1.0
 * @category models
 */
export interface DepthService {
  readonly maxDepth: number
  readonly maxFanOut: number
  /** Fails when the current fiber already runs at or past `maxDepth`. */
  readonly check: Effect.Effect<void, DepthLimitExceeded>
  readonly nested: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | DepthLimitExceeded, R>
  /**
   * Items that are not iterable (or whose iteration throws), or an `f` that is not a function,
   * fail `InvalidOption` naming the argument ("items", "f"), and nothing runs.
   */
  readonly fanOut: <I, A, E, R>(
    items: Iterable<I>,
    f: (item: I, index: number) => Effect.Effect<A, E, R>
  ) => Effect.Effect<FanOutResult<A, E | DepthLimitExceeded>, InvalidOption, R>
}

/**
 * The calling fiber's depth. Set with `Effect.locally`, never mutated, so joins cannot leak it.
 *
 * @since 0.1.0
 * @category fiber refs
 */
export const currentDepth: FiberRef.FiberRef<number> = globalValue(
  Symbol.for("@fleetguard/core/Depth/currentDepth"),
  () => FiberRef.unsafeMake(0)
)

/**
 * The calling fiber's depth: 0 at the root.
 *
 * @since 0.1.0
 * @category accessors
 */
export const current: Effect.Effect<number> = FiberRef.get(currentDepth)

const refuse = (depth: number, maxDepth: number) =>
  Effect.zipRight(
    Events.rejected("DepthLimitExceeded", `depth ${depth} ≥ maxDepth ${maxDepth}`),
    Effect.fail(new DepthLimitExceeded({ depth, maxDepth }))
  )

const OptionsSchema = Options({ maxDepth: PositiveInteger, maxFanOut: PositiveInteger })

const badArgument = (option: string, value: unknown, reason: string) => new InvalidOption({ option, value, reason })

/** The items of an iterable, or `InvalidOption` for anything else and for an iteration that throws. */
const listed = <I>(items: Iterable<I>): Effect.Effect<ReadonlyArray<I>, InvalidOption> => {
  try {
    return typeof items === "string" || typeof (items as Partial<Iterable<I>> | null)?.[Symbol.iterator] === "function"
      ? Effect.succeed(Array.from(items))
      : Effect.fail(badArgument("items", items, "must be an iterable (an array, say)"))
  } catch {
    return Effect.fail(
      badArgument("items", undefined, "could not be iterated: its iterator, a getter or a Proxy threw")
    )
  }
}

/**
 * The depth limit `options` give, or `InvalidOption` naming a bad one.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: DepthOptions): Effect.Effect<DepthService, InvalidOption> =>
  Effect.gen(function* () {
    const { maxDepth, maxFanOut } = yield* decode(OptionsSchema, options)

    const nested = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E | DepthLimitExceeded, R> =>
      Effect.flatMap(
        current,
        (depth): Effect.Effect<A, E | DepthLimitExceeded, R> =>
          depth + 1 >= maxDepth ? refuse(depth + 1, maxDepth) : Effect.locally(self, currentDepth, depth + 1)
      )

    const fanOut = <I, A, E, R>(items: Iterable<I>, f: (item: I, index: number) => Effect.Effect<A, E, R>) =>
      Effect.gen(function* () {
        if (typeof f !== "function")
          return yield* Effect.fail(badArgument("f", f, "must be a function (item, index) => Effect"))
        const all = yield* listed(items)
        const admitted = all.slice(0, maxFanOut)
        const dropped = all.length - admitted.length
        if (dropped > 0) {
          const [agentId, depth] = yield* Effect.zip(AgentId.current, current)
          yield* Events.publish(
            (at) =>
              new Events.FanOutTruncated({
                at,
                agentId,
                depth,
                requested: all.length,
                admitted: admitted.length,
                dropped
              })
          )
        }
        // Each branch settles into its own Exit, so one failing branch never interrupts its siblings;
        // an `f` that throws, or answers something else than an effect, is a defect of its branch alone.
        const results = yield* Effect.forEach(
          admitted,
          (item, index) => Effect.exit(nested(Effect.suspend(() => f(item, index)))),
          { concurrency: "unbounded" }
        )
        return { results, dropped } satisfies FanOutResult<A, E | DepthLimitExceeded>
      })

    return {
      maxDepth,
      maxFanOut,
      check: Effect.withFiberRuntime((fiber) => {
        const depth = fiber.getFiberRef(currentDepth)
        return depth >= maxDepth ? refuse(depth, maxDepth) : Effect.void
      }),
      nested,
      fanOut
    }
  })

/**
 * The `Depth` service with the limits `options` give.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: DepthOptions): Layer.Layer<Depth, InvalidOption> => Layer.effect(Depth, make(options))

/**
 * FLEETGUARD_MAX_DEPTH (default 4) and FLEETGUARD_MAX_FANOUT (default 8).
 *
 * @since 0.1.0
 * @category config
 */
export const config: Config.Config<DepthOptions> = Config.all({
  maxDepth: Env.int("FLEETGUARD_MAX_DEPTH").pipe(Config.withDefault(4)),
  maxFanOut: Env.int("FLEETGUARD_MAX_FANOUT").pipe(Config.withDefault(8))
})

/**
 * The `Depth` service with the limits read from `config` (the environment by default); a bad value
 * fails naming its variable.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (options: Config.Config<DepthOptions> = config) =>
  layerFromConfig(options, { maxDepth: "FLEETGUARD_MAX_DEPTH", maxFanOut: "FLEETGUARD_MAX_FANOUT" }, layer)

/** Runs `self` one level deeper; fails `DepthLimitExceeded` without running it at `maxDepth`. */
const nested = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E | DepthLimitExceeded, R | Depth> =>
  Effect.flatMap(Depth, (depth) => depth.nested(self))

/**
 * Runs `f` on at most `maxFanOut` items, concurrently and each nested; reports how many were
 * dropped. Items that are not iterable, or an `f` that is not a function, fail `InvalidOption`.
 */
const fanOut = <I, A, E, R>(
  items: Iterable<I>,
  f: (item: I, index: number) => Effect.Effect<A, E, R>
): Effect.Effect<FanOutResult<A, E | DepthLimitExceeded>, InvalidOption, R | Depth> =>
  Effect.flatMap(Depth, (depth) => depth.fanOut(items, f))

/**
 * The tag of the agent-tree limits, with the module's constructors, layers and combinators as
 * static members.
 *
 * @since 0.1.0
 * @category tags
 */
export class Depth extends Context.Tag("@fleetguard/core/Depth")<Depth, DepthService>() {
  static readonly make = make
  static readonly layer = layer
  static readonly layerConfig = layerConfig
  static readonly config = config
  static readonly current = current
  static readonly nested = nested
  static readonly fanOut = fanOut
  /** Fails `DepthLimitExceeded` when the calling fiber runs at or past `maxDepth`. */
  static readonly check: Effect.Effect<void, DepthLimitExceeded, Depth> = withService(Depth, (depth) => depth.check)
}
