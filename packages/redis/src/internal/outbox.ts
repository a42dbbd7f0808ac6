/**
 * The outbox: steps that must reach Redis even when it cannot be reached now — a settlement, a
 * permit given back, a step whose answer was lost undone by its token. Each is retried, with a
 * capped backoff, until Redis takes it; every one is safe to run twice (settling or releasing a
 * token that is already gone changes nothing). What is still queued when the layer closes stays
 * as a lease in Redis and runs out: a reservation is then charged in full, never lost.
 */
import { Duration, Effect, type Scope } from "effect"
import * as Metrics from "../Metrics.js"
import type { Background } from "./background.js"
import * as Signal from "./signal.js"
import type { StoreDown } from "./store.js"

export interface Outbox {
  /** Queues `step` to run, in order, once Redis takes it. */
  readonly add: (step: Effect.Effect<void, StoreDown>) => void
  /** Runs `step` now; if Redis does not take it, queues it. */
  readonly send: (step: Effect.Effect<void, StoreDown>) => Effect.Effect<void>
  readonly size: () => number
}

const firstBackoffMillis = 50
const maxBackoffMillis = 1_000
/** While the layer closes, what is queued is tried again at least this often. */
const closingBackoffMillis = 100

interface Queue {
  readonly steps: Array<Effect.Effect<void, StoreDown>>
  /** Fired when a step is added. */
  readonly wake: Signal.Signal
  /** Fired when the queue has been run to its end. */
  readonly emptied: Signal.Signal
  /** Fired once, when the layer starts closing. */
  readonly closing: Signal.Signal
}

/** Runs the queued steps in order until one fails; answers whether all went through. */
const drain = (queue: Queue) =>
  Effect.gen(function* () {
    const { steps } = queue
    while (steps.length > 0) {
      const step = steps[0]
      if (step === undefined) break
      const ok = yield* Effect.isSuccess(step)
      if (!ok) return false
      steps.shift()
      Metrics.outboxPending.unsafeUpdate(steps.length, [])
    }
    queue.emptied.fire()
    return true
  })

const backOff = (queue: Queue, millis: number) =>
  queue.closing.count() > 0
    ? Effect.sleep(Duration.millis(Math.min(millis, closingBackoffMillis)))
    : Effect.raceFirst(Effect.sleep(Duration.millis(millis)), queue.closing.await(0))

/** The one fiber that runs the steps: each time one is added, and again after a backoff while Redis refuses them. */
const runSteps = (queue: Queue) =>
  Effect.gen(function* () {
    let backoff = firstBackoffMillis
    for (;;) {
      const seen = queue.wake.count()
      if (queue.steps.length === 0) yield* queue.wake.await(seen)
      if (yield* drain(queue)) backoff = firstBackoffMillis
      else {
        yield* backOff(queue, backoff)
        backoff = Math.min(backoff * 2, maxBackoffMillis)
      }
    }
  })

const untilEmpty = (queue: Queue) =>
  Effect.gen(function* () {
    for (;;) {
      const seen = queue.emptied.count()
      if (queue.steps.length === 0) return
      yield* queue.emptied.await(seen)
    }
  })

/** On close, a last chance for what is queued, then say what is left to run out as leases. */
const close = (queue: Queue, closeWithin: Duration.DurationInput) =>
  Effect.gen(function* () {
    queue.closing.fire()
    // Interruptible, or the deadline would wait for it: this finalizer is not.
    yield* Effect.timeoutOption(Effect.interruptible(untilEmpty(queue)), closeWithin)
    if (queue.steps.length > 0) {
      yield* Effect.logWarning(
        `fleetguard: ${queue.steps.length} settlement(s) could not reach Redis before closing; their leases will run out and reservations be charged in full`
      )
    }
  })

/**
 * One fiber (in `background`) runs the steps, in order. On close it has `closeWithin` to empty
 * the queue; the close waits no longer, even for a step in flight against a Redis that does not answer.
 */
export const make = (
  closeWithin: Duration.DurationInput,
  background: Background
): Effect.Effect<Outbox, never, Scope.Scope> =>
  Effect.gen(function* () {
    const queue: Queue = { steps: [], wake: Signal.make(), emptied: Signal.make(), closing: Signal.make() }
    background.run(runSteps(queue))
    yield* Effect.addFinalizer(() => close(queue, closeWithin))
    const add = (step: Effect.Effect<void, StoreDown>) => {
      queue.steps.push(step)
      Metrics.outboxPending.unsafeUpdate(queue.steps.length, [])
      queue.wake.fire()
    }
    return {
      add,
      send: (step) => Effect.catchAll(step, () => Effect.sync(() => add(step))),
      size: () => queue.steps.length
    } satisfies Outbox
  })
