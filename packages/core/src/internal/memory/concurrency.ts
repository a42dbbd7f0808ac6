/**
 * The in-memory Concurrency: a FIFO pool of permits and the rate-limit gate, each changed by its
 * pure functions in one synchronous step, with a fast path for the common case (gate open, a
 * permit free) and the backend's reports for pauses and resumes.
 */
import { Clock, Deferred, type Duration, Effect, Exit, type Fiber, FiberId } from "effect"
import * as Metrics from "../../Metrics.js"
import * as Backend from "../backend/concurrency.js"
import { type ConcurrencyFastPath, withFastPath } from "../backend/fastPath.js"
import * as Gate from "../policy/gate.js"
import { Permits, type Waiter } from "../policy/permits.js"
import { nowOf, type Restore } from "../runtime/fiber.js"

type AnyFiber = Fiber.RuntimeFiber<unknown, unknown>

export const make = ({ limit, windowMillis, maxPauseMillis }: Backend.Limits) => {
  const permits = new Permits(limit)
  // The gate is changed only by applying its pure functions in one synchronous step.
  let gate = Gate.open
  /** Completed by `resume`, so that callers asleep at the gate wake at once; then replaced. */
  let resumed = Deferred.unsafeMake<void>(FiberId.none)
  /** Callers asleep at the closed gate (those queued for a permit are counted by `permits`). */
  let atGate = 0

  const updateGauges = () => {
    Metrics.concurrencyInFlight.unsafeUpdate(permits.inFlight, [])
    Metrics.concurrencyWaiting.unsafeUpdate(atGate + permits.waiting, [])
  }

  const release = () => {
    permits.release()
    updateGauges()
  }

  const fastPath: ConcurrencyFastPath = {
    tryAcquire: () => {
      if (gate.pausedUntil !== 0 || !permits.tryTake()) return false
      updateGauges()
      return true
    },
    release
  }

  // `self` holding a permit, given back however it ends: run where interruption is masked, so
  // the continuation that gives it back always runs.
  const held = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.flatMap(Effect.exit(self), (exit) => {
      release()
      return exit
    })

  /** Undefined when the gate lets a caller pass at the fiber's clock, else when to look again. */
  const passes = (fiber: AnyFiber): number | undefined => {
    if (gate.pausedUntil === 0) return undefined
    const [wakeAt, next] = Gate.admit(gate, nowOf(fiber), windowMillis)
    gate = next
    return wakeAt
  }

  // Asleep at the gate until the wake-up time it handed out, or until an operator resumes.
  const sleepAtGate = (fiber: AnyFiber, wakeAt: number) =>
    Effect.suspend(() => {
      atGate++
      updateGauges()
      return Effect.ensuring(
        Effect.raceFirst(Effect.sleep(wakeAt - nowOf(fiber)), Deferred.await(resumed)),
        Effect.sync(() => {
          atGate--
          updateGauges()
        })
      )
    })

  // Parked for a permit; once granted, the gate is passed again (it may have closed meanwhile).
  const parked = <A, E, R>(restore: Restore, fiber: AnyFiber, self: Effect.Effect<A, E, R>) => {
    const waiter: Waiter = { granted: false, resume: undefined }
    return Effect.matchCauseEffect(restore(permits.park(waiter)), {
      onFailure: (cause) => {
        permits.abandon(waiter)
        updateGauges()
        return Effect.failCause(cause)
      },
      onSuccess: (): Effect.Effect<A, E, R> => {
        if (passes(fiber) === undefined) return held(restore(self))
        release()
        return acquireThen(restore, self)
      }
    })
  }

  // The slow path, masked except where it waits: past the gate, then a permit.
  const acquireThen = <A, E, R>(restore: Restore, self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.withFiberRuntime((fiber) => {
      const wakeAt = passes(fiber)
      if (wakeAt !== undefined) return Effect.zipRight(restore(sleepAtGate(fiber, wakeAt)), acquireThen(restore, self))
      if (permits.tryTake()) {
        updateGauges()
        return held(restore(self))
      }
      return parked(restore, fiber, self)
    })

  const withPermit = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.uninterruptibleMask((restore) => (fastPath.tryAcquire() ? held(restore(self)) : acquireThen(restore, self)))

  const pauseFor = (duration: Duration.DurationInput): Effect.Effect<void> => {
    const request = Backend.pauseRequest(duration, maxPauseMillis)
    if (request === undefined) return Effect.void
    return Effect.flatMap(Clock.currentTimeMillis, (now) => {
      const wasClosed = gate.pausedUntil > now
      const [moved, next] = Gate.pauseUntil(gate, now + request.millis)
      gate = next
      return Backend.paused({ request, moved, wasClosed, pausedUntil: gate.pausedUntil })
    })
  }

  const resume = Effect.suspend(() => {
    const wasClosed = gate.pausedUntil !== 0
    gate = Gate.open
    const waking = resumed
    resumed = Deferred.unsafeMake<void>(FiberId.none)
    Deferred.unsafeDone(waking, Exit.void)
    return wasClosed ? Backend.resumed : Effect.void
  })

  const snapshot = Effect.map(Clock.currentTimeMillis, (now) => ({
    limit,
    inFlight: permits.inFlight,
    waiting: atGate + permits.waiting,
    pausedUntil: Gate.isOpen(gate, now) ? null : gate.pausedUntil
  }))

  return withFastPath({ limit, maxPauseMillis, withPermit, pauseFor, resume, snapshot }, fastPath)
}
