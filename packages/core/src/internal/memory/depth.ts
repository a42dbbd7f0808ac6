/**
 * The in-process Depth: the calling fiber's depth in a FiberRef (the root runs at 0), checked
 * against the limit; `nested` runs one level down and `fanOut` caps the branches per level.
 */
import { Effect, type Exit, FiberRef } from "effect"
import { globalValue } from "effect/GlobalValue"
import { DepthLimitExceeded, InvalidOption } from "../../Errors.js"
import * as Events from "../../Events.js"
import * as AgentId from "../runtime/agentId.js"

/** Set with `Effect.locally`, never mutated, so joins cannot leak it. */
export const currentDepth: FiberRef.FiberRef<number> = globalValue(
  Symbol.for("@fleetguard/core/Depth/currentDepth"),
  () => FiberRef.unsafeMake(0)
)

export const current: Effect.Effect<number> = FiberRef.get(currentDepth)

export interface Limits {
  readonly maxDepth: number
  readonly maxFanOut: number
}

const refuse = (depth: number, maxDepth: number) =>
  Effect.zipRight(
    Events.rejected("DepthLimitExceeded", `depth ${depth} ≥ maxDepth ${maxDepth}`),
    Effect.fail(new DepthLimitExceeded({ depth, maxDepth }))
  )

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

const truncated = (requested: number, admitted: number) =>
  Effect.flatMap(Effect.zip(AgentId.current, current), ([agentId, depth]) =>
    Events.publish(
      (at) => new Events.FanOutTruncated({ at, agentId, depth, requested, admitted, dropped: requested - admitted })
    )
  )

const nestedUnder =
  (maxDepth: number) =>
  <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E | DepthLimitExceeded, R> =>
    Effect.flatMap(
      current,
      (depth): Effect.Effect<A, E | DepthLimitExceeded, R> =>
        depth + 1 >= maxDepth ? refuse(depth + 1, maxDepth) : Effect.locally(self, currentDepth, depth + 1)
    )

export const make = ({ maxDepth, maxFanOut }: Limits) => {
  const nested = nestedUnder(maxDepth)

  const fanOut = <I, A, E, R>(items: Iterable<I>, f: (item: I, index: number) => Effect.Effect<A, E, R>) =>
    Effect.gen(function* () {
      if (typeof f !== "function")
        return yield* Effect.fail(badArgument("f", f, "must be a function (item, index) => Effect"))
      const all = yield* listed(items)
      const admitted = all.slice(0, maxFanOut)
      if (admitted.length < all.length) yield* truncated(all.length, admitted.length)
      // Each branch settles into its own Exit, so one failing branch never interrupts its siblings;
      // an `f` that throws, or answers something else than an effect, is a defect of its branch alone.
      const results: ReadonlyArray<Exit.Exit<A, E | DepthLimitExceeded>> = yield* Effect.forEach(
        admitted,
        (item, index) => Effect.exit(nested(Effect.suspend(() => f(item, index)))),
        { concurrency: "unbounded" }
      )
      return { results, dropped: all.length - admitted.length }
    })

  return {
    maxDepth,
    maxFanOut,
    check: Effect.withFiberRuntime<void, DepthLimitExceeded>((fiber) => {
      const depth = fiber.getFiberRef(currentDepth)
      return depth >= maxDepth ? refuse(depth, maxDepth) : Effect.void
    }),
    nested,
    fanOut
  }
}
