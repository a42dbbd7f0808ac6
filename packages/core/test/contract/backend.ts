/**
 * One suite, several backends: the contract tests of Budget, Concurrency and CircuitBreaker take
 * the backend that builds the guards, so that the in-memory layers and any other store (Redis)
 * run the same tests. The tests are written against outcomes, never exact instants: in memory
 * time is the TestClock's, elsewhere it is real.
 */
import type { Vitest } from "@effect/vitest"
import { Duration, Effect, Layer, TestClock } from "effect"
import {
  Budget,
  type BudgetOptions,
  CircuitBreaker,
  type CircuitBreakerOptions,
  Concurrency,
  type ConcurrencyOptions,
  GuardEvents
} from "../../src/index.js"

export interface Backend {
  readonly name: string
  /** How a test runs: on the TestClock in memory, on real time against a real store. */
  readonly it: Vitest.Tester<never>
  readonly budget: (options: BudgetOptions) => Layer.Layer<Budget, unknown>
  readonly concurrency: (options: ConcurrencyOptions) => Layer.Layer<Concurrency, unknown>
  readonly breaker: (options: CircuitBreakerOptions) => Layer.Layer<CircuitBreaker, unknown>
  /** Lets `millis` pass. */
  readonly advance: (millis: number) => Effect.Effect<void>
  /** How many samples a property test runs, given what it runs in memory. */
  readonly samples: (inMemory: number) => number
}

export const inMemory: (it: Vitest.Tester<never>) => Backend = (it) => ({
  name: "in memory",
  it,
  budget: Budget.layer,
  concurrency: Concurrency.layer,
  breaker: CircuitBreaker.layer,
  advance: (millis) => TestClock.adjust(Duration.millis(millis)),
  samples: (n) => n
})

/** `layer` with a hub of the test's own, so that it sees only its own events. */
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
