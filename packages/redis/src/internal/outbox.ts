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
  readonly add: (step: Effect.Effect<void, StoreDown>) => void
  readonly size: () => number
}

const firstBackoffMillis = 50
const maxBackoffMillis = 1_000
/** While the layer closes, what is queued is tried again at least this often. */
const closingBackoffMillis = 100

/**
 * One fiber (in `background`) runs the steps, in order. On close it has `closeWithin` to empty
 * the queue; the close waits no longer, even for a step in flight against a Redis that does not answer.
 */
export const make = (
  closeWithin: Duration.DurationInput,
  background: Background
): Effect.Effect<Outbox, never, Scope.Scope> =>
  Effect.gen(function* () {
    const steps: Array<Effect.Effect<void, StoreDown>> = []
    const wake = Signal.make()
    const emptied = Signal.make()
    const closing = Signal.make()

    /** Runs the queued steps in order until one fails; answers whether all went through. */
    const drain = Effect.gen(function* () {
      while (steps.length > 0) {
        const step = steps[0]
        if (step === undefined) break
        const ok = yield* Effect.isSuccess(step)
        if (!ok) return false
        steps.shift()
        Metrics.outboxPending.unsafeUpdate(steps.length, [])
      }
      emptied.fire()
      return true
    })

    const backOff = (millis: number) =>
      closing.count() > 0
        ? Effect.sleep(Duration.millis(Math.min(millis, closingBackoffMillis)))
        : Effect.raceFirst(Effect.sleep(Duration.millis(millis)), closing.await(0))

    background.run(
      Effect.gen(function* () {
        let backoff = firstBackoffMillis
        for (;;) {
          const seen = wake.count()
          if (steps.length === 0) yield* wake.await(seen)
          if (yield* drain) backoff = firstBackoffMillis
          else {
            yield* backOff(backoff)
            backoff = Math.min(backoff * 2, maxBackoffMillis)
          }
        }
      })
    )

    const untilEmpty = Effect.gen(function* () {
      for (;;) {
        const seen = emptied.count()
        if (steps.length === 0) return
        yield* emptied.await(seen)
      }
    })

    // On close, a last chance for what is queued, then say what is left to run out as leases.
    yield* Effect.addFinalizer(() =>
      Effect.gen(function* () {
        closing.fire()
        // Interruptible, or the deadline would wait for it: this finalizer is not.
        yield* Effect.timeoutOption(Effect.interruptible(untilEmpty), closeWithin)
        if (steps.length > 0) {
          yield* Effect.logWarning(
            `fleetguard: ${steps.length} settlement(s) could not reach Redis before closing; their leases will run out and reservations be charged in full`
          )
        }
      })
    )

    return {
      add: (step) => {
        steps.push(step)
        Metrics.outboxPending.unsafeUpdate(steps.length, [])
        wake.fire()
      },
      size: () => steps.length
    } satisfies Outbox
  })
