/**
 * The layer's background fibers (lease renewal, the outbox, what a pub/sub message sets off). When
 * the layer closes they are told to stop and not waited for: one may be in a script (run
 * uninterruptibly) against a Redis that no longer answers, and the close must not wait for it.
 * Such a fiber stops once its script returns: at most the command timeout later.
 */
import { Effect, type Fiber, FiberId, Runtime, type Scope } from "effect"

export interface Background {
  /** Runs `effect` until it ends or the layer closes; callable from outside any fiber (a message handler). */
  readonly run: (effect: Effect.Effect<void>) => void
}

export const make: Effect.Effect<Background, never, Scope.Scope> = Effect.gen(function* () {
  const runtime = yield* Effect.runtime<never>()
  const fibers = new Set<Fiber.RuntimeFiber<void>>()
  let closed = false
  yield* Effect.addFinalizer(() =>
    Effect.sync(() => {
      closed = true
      for (const fiber of fibers) fiber.unsafeInterruptAsFork(FiberId.none)
    })
  )
  return {
    run: (effect) => {
      if (closed) return
      const fiber = Runtime.runFork(runtime)(effect)
      fibers.add(fiber)
      fiber.addObserver(() => fibers.delete(fiber))
      // Ended before it was observed: nothing to stop.
      if (fiber.unsafePoll() !== null) fibers.delete(fiber)
    }
  } satisfies Background
})
