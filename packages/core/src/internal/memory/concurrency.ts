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

/** The rate-limit gate and the callers asleep at it; `changed` keeps the gauges current. */
class GateKeeper {
  // Changed only by applying the gate's pure functions in one synchronous step.
  private gate = Gate.open
  /** Completed by `resume`, so that callers asleep at the gate wake at once; then replaced. */
  private resumed = Deferred.unsafeMake<void>(FiberId.none)
  /** Callers asleep at the closed gate (those queued for a permit are counted by the permits). */
  asleep = 0

  constructor(
    private readonly limits: Backend.Limits,
    private readonly changed: () => void
  ) {}

  /** Whether the gate has never been closed, or was cleared since: a single comparison. */
  get clear(): boolean {
    return this.gate.pausedUntil === 0
  }

  /** Undefined when the gate lets a caller pass at the fiber's clock, else when to look again. */
  passes(fiber: AnyFiber): number | undefined {
    if (this.clear) return undefined
    const [wakeAt, next] = Gate.admit(this.gate, nowOf(fiber), this.limits.windowMillis)
    this.gate = next
    return wakeAt
  }

  /** Asleep until the wake-up time the gate handed out, or until an operator resumes. */
  sleep(fiber: AnyFiber, wakeAt: number): Effect.Effect<void> {
    return Effect.suspend(() => {
      this.asleep++
      this.changed()
      return Effect.ensuring(
        Effect.raceFirst(Effect.sleep(wakeAt - nowOf(fiber)), Deferred.await(this.resumed)),
        Effect.sync(() => {
          this.asleep--
          this.changed()
        })
      )
    })
  }

  pauseFor(duration: Duration.DurationInput): Effect.Effect<void> {
    const request = Backend.pauseRequest(duration, this.limits.maxPauseMillis)
    if (request === undefined) return Effect.void
    return Effect.flatMap(Clock.currentTimeMillis, (now) => {
      const wasClosed = this.gate.pausedUntil > now
      const [moved, next] = Gate.pauseUntil(this.gate, now + request.millis)
      this.gate = next
      return Backend.paused({ request, moved, wasClosed, pausedUntil: next.pausedUntil })
    })
  }

  readonly resume: Effect.Effect<void> = Effect.suspend(() => {
    const wasClosed = !this.clear
    this.gate = Gate.open
    const waking = this.resumed
    this.resumed = Deferred.unsafeMake<void>(FiberId.none)
    Deferred.unsafeDone(waking, Exit.void)
    return wasClosed ? Backend.resumed : Effect.void
  })

  pausedUntil(now: number): number | null {
    return Gate.isOpen(this.gate, now) ? null : this.gate.pausedUntil
  }
}

/** `withPermit`: the fast path when it can, else past the gate, then a permit (waiting FIFO). */
const permitted = (permits: Permits, gate: GateKeeper, fastPath: ConcurrencyFastPath, updateGauges: () => void) => {
  // `self` holding a permit, given back however it ends: run where interruption is masked, so
  // the continuation that gives it back always runs.
  const held = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.flatMap(Effect.exit(self), (exit) => {
      fastPath.release()
      return exit
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
        if (gate.passes(fiber) === undefined) return held(restore(self))
        fastPath.release()
        return acquireThen(restore, self)
      }
    })
  }

  // The slow path, masked except where it waits: past the gate, then a permit.
  const acquireThen = <A, E, R>(restore: Restore, self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.withFiberRuntime((fiber) => {
      const wakeAt = gate.passes(fiber)
      if (wakeAt !== undefined) return Effect.zipRight(restore(gate.sleep(fiber, wakeAt)), acquireThen(restore, self))
      if (!permits.tryTake()) return parked(restore, fiber, self)
      updateGauges()
      return held(restore(self))
    })

  return <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.uninterruptibleMask((restore) => (fastPath.tryAcquire() ? held(restore(self)) : acquireThen(restore, self)))
}

export const make = (limits: Backend.Limits) => {
  const { limit, maxPauseMillis } = limits
  const permits = new Permits(limit)
  const gate: GateKeeper = new GateKeeper(limits, () => updateGauges())

  const updateGauges = () => {
    Metrics.concurrencyInFlight.unsafeUpdate(permits.inFlight, [])
    Metrics.concurrencyWaiting.unsafeUpdate(gate.asleep + permits.waiting, [])
  }

  const fastPath: ConcurrencyFastPath = {
    tryAcquire: () => {
      if (!gate.clear || !permits.tryTake()) return false
      updateGauges()
      return true
    },
    release: () => {
      permits.release()
      updateGauges()
    }
  }

  const withPermit = permitted(permits, gate, fastPath, updateGauges)

  const snapshot = Effect.map(Clock.currentTimeMillis, (now) => ({
    limit,
    inFlight: permits.inFlight,
    waiting: gate.asleep + permits.waiting,
    pausedUntil: gate.pausedUntil(now)
  }))

  const pauseFor = (duration: Duration.DurationInput) => gate.pauseFor(duration)
  return withFastPath({ limit, maxPauseMillis, withPermit, pauseFor, resume: gate.resume, snapshot }, fastPath)
}
