/**
 * What the contract suites share: a check as data (a name and the effect that fails when the
 * backend breaks the contract), how a property check runs its samples, the defaults of a backend
 * in memory, and the waits that hold on any store. The checks are written against outcomes, never
 * exact instants: in memory time is the TestClock's, elsewhere it is real.
 */
import { type Budget, type BudgetOptions, GuardEvents } from "@fleetguard/core"
import { Cause, Duration, Effect, Exit, FastCheck as fc, Layer, Runtime, TestClock } from "effect"

export interface Check {
  readonly name: string
  /** Succeeds when the backend keeps this part of the contract; fails (or dies) saying how it does not. */
  readonly run: Effect.Effect<void, unknown>
}

export interface CheckOptions {
  /** Lets `millis` pass: by default `TestClock.adjust`; `Effect.sleep` for a store on real time. */
  readonly advance?: ((millis: number) => Effect.Effect<void>) | undefined
  /** How many samples a property check runs, given how many it runs in memory; by default as many. */
  readonly samples?: ((inMemory: number) => number) | undefined
}

/** The options, defaults filled in. */
export interface Time {
  readonly advance: (millis: number) => Effect.Effect<void>
  readonly samples: (inMemory: number) => number
}

export const timeOf = (options: CheckOptions = {}): Time => ({
  advance: options.advance ?? ((millis) => TestClock.adjust(Duration.millis(millis))),
  samples: options.samples ?? ((inMemory) => inMemory)
})

export const example = (name: string, run: Effect.Effect<void, unknown>): Check => ({ name, run })

/**
 * A property: `sample` holds for `numRuns` values drawn from `arbitrary`, shrunk to the smallest
 * failing one when it does not. Each sample runs in the check's own context (the TestClock of
 * `it.effect`, or real time); interrupting the check interrupts the running sample.
 */
export const property = <A>(
  name: string,
  arbitrary: fc.Arbitrary<A>,
  numRuns: number,
  sample: (a: A) => Effect.Effect<void, unknown>
): Check => ({
  name,
  run: Effect.flatMap(Effect.runtime<never>(), (runtime) =>
    Effect.tryPromise({
      try: (signal) =>
        fc.assert(
          fc.asyncProperty(arbitrary, async (a) => {
            const exit = await Runtime.runPromiseExit(runtime, sample(a), { signal })
            // The failure itself (an assertion's diff), not a FiberFailure around it.
            if (Exit.isFailure(exit)) throw Cause.squash(exit.cause)
          }),
          { numRuns }
        ),
      catch: (error) => error
    })
  )
})

/** `layer` with a hub of the check's own, so that it sees only its own events. */
export const withHub = <A, E>(layer: Layer.Layer<A, E>) => layer.pipe(Layer.provideMerge(GuardEvents.layer()))

/** Real time for I/O to happen in (a store's answer), whatever the Effect clock is. */
const io = Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 2)))

/** Waits (a few seconds at most) until `done` holds of what `read` gives. */
export const eventually = <A, E, R>(read: Effect.Effect<A, E, R>, done: (a: A) => boolean) =>
  Effect.gen(function* () {
    for (let attempt = 0; attempt < 2_500; attempt++) {
      const a = yield* read
      if (done(a)) return a
      yield* attempt < 20 ? Effect.yieldNow() : io
    }
    return yield* Effect.dieMessage("a condition the test waited for never held")
  })

/** What the Budget checks run with: time, and the budget a check's options build. */
export interface BudgetSuite extends Time {
  readonly withBudget: <A, E>(options: BudgetOptions, self: Effect.Effect<A, E, Budget>) => Effect.Effect<A, unknown>
}
