/**
 * A broadcast wake-up: fibers await the current round; `fire` wakes them all and starts the next.
 * Pub/sub messages fire it from outside any fiber, so it is completed unsafely, in one step.
 */
import { Deferred, Effect, FiberId } from "effect"

export interface Signal {
  /** Waits for a `fire` after the `count()` a caller saw (at once if there was one already). */
  readonly await: (seen: number) => Effect.Effect<void>
  readonly fire: () => void
  /** How many times it has fired: a waiter that saw it change need not wait. */
  readonly count: () => number
}

export const make = (): Signal => {
  let round = Deferred.unsafeMake<void>(FiberId.none)
  let fired = 0
  return {
    await: (seen) => Effect.suspend(() => (fired === seen ? Deferred.await(round) : Effect.void)),
    fire: () => {
      const waking = round
      round = Deferred.unsafeMake<void>(FiberId.none)
      fired++
      Deferred.unsafeDone(waking, Effect.void)
    },
    count: () => fired
  }
}
