/**
 * Depth: bounds the agent tree. The depth lives in a FiberRef (the root runs at 0); `nested` runs a
 * sub-agent one level down and refuses to start it at `maxDepth`; `fanOut` caps the branches
 * spawned per level.
 *
 * @module
 * @since 0.1.0
 */

import { Config, Context, Effect, type Exit, type FiberRef, Layer } from "effect"
import * as Env from "./Env.js"
import type { DepthLimitExceeded, InvalidOption } from "./Errors.js"
import * as InMemory from "./internal/memory/depth.js"
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
 * Read by the guarded call (`LlmClient`, `Guards.wrap`) in the step that checks it.
 *
 * @since 0.1.0
 * @category fiber refs
 */
export const currentDepth: FiberRef.FiberRef<number> = InMemory.currentDepth

const OptionsSchema = Options({ maxDepth: PositiveInteger, maxFanOut: PositiveInteger })

/**
 * The depth limit `options` give, or `InvalidOption` naming a bad one.
 *
 * @since 0.1.0
 * @category constructors
 */
const make = (options: DepthOptions): Effect.Effect<DepthService, InvalidOption> =>
  Effect.map(decode(OptionsSchema, options), InMemory.make)

/**
 * The `Depth` service with the limits `options` give.
 *
 * @since 0.1.0
 * @category layers
 */
const layer = (options: DepthOptions): Layer.Layer<Depth, InvalidOption> => Layer.effect(Depth, make(options))

/**
 * FLEETGUARD_MAX_DEPTH (default 4) and FLEETGUARD_MAX_FANOUT (default 8).
 *
 * @since 0.1.0
 * @category config
 */
const config: Config.Config<DepthOptions> = Config.all({
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
const layerConfig = (options: Config.Config<DepthOptions> = config) =>
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
  /** The calling fiber's depth: 0 at the root. */
  static readonly current: Effect.Effect<number> = InMemory.current
  static readonly nested = nested
  static readonly fanOut = fanOut
  /** Fails `DepthLimitExceeded` when the calling fiber runs at or past `maxDepth`. */
  static readonly check: Effect.Effect<void, DepthLimitExceeded, Depth> = withService(Depth, (depth) => depth.check)
}
