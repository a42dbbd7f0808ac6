/**
 * The in-memory CircuitBreaker: core's pure policy, its state changed in one synchronous step per
 * admission and per outcome, with a fast path for admission while closed and the backend's
 * reports for each transition.
 */
import { Effect, type Exit } from "effect"
import type { CircuitOpen } from "../../Errors.js"
import * as Backend from "../backend/breaker.js"
import { type BreakerFastPath, withFastPath } from "../backend/fastPath.js"
import type { Tracker } from "../backend/tracking.js"
import * as Policy from "../policy/breaker.js"
import { nowOf } from "../runtime/fiber.js"

/** What a transition calls for: a trip (interrupting what `tracker` tracks), a close, or nothing. */
const reported = (transition: Policy.Transition, tracker: Tracker) =>
  transition === undefined
    ? undefined
    : transition._tag === "Opened"
      ? Backend.tripped(tracker, transition.reopenAt, transition.trips)
      : Backend.closed

const snapshotOf = (s: Policy.State, tracker: Tracker) => ({
  state: Policy.publicState(s),
  tracked: tracker.size(),
  trips: s._tag === "Open" || s._tag === "HalfOpen" ? s.trips : 0,
  reopenAt: s._tag === "Open" ? s.reopenAt : null,
  isolated: s._tag === "Isolated"
})

export const make = ({ settings, isFailure }: Backend.Decoded) => {
  // Changed only by applying the policy's pure functions in one synchronous step.
  let state = Policy.closed(settings)
  const tracker = Backend.tracker()

  const outcomeOf = Backend.outcomeOf(isFailure)

  /** Records how an admitted call ended; what its transition calls for, if any. */
  const record = (ticket: Policy.Ticket, exit: Exit.Exit<unknown, unknown>, now: number) => {
    const [transition, next] = Policy.record(settings, state, ticket, outcomeOf(exit), now)
    state = next
    return reported(transition, tracker)
  }

  const fastPath: BreakerFastPath = {
    tryAdmit: (fiber) => {
      if (state._tag !== "Closed") return undefined
      const [admission] = Policy.admit(settings, state, nowOf(fiber))
      return admission._tag === "Admitted" ? admission.ticket : undefined
    },
    run: tracker.call,
    end: (ticket, exit, fiber) => record(ticket, exit, nowOf(fiber))
  }

  // Admission and the record of the outcome are masked from interruption, so that a probe's
  // slot is always given back; only the call runs interruptible.
  const protect = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E | CircuitOpen, R> =>
    Effect.uninterruptibleMask((restore) =>
      Effect.withFiberRuntime((fiber) => {
        const [admission, next] = Policy.admit(settings, state, nowOf(fiber))
        state = next
        if (admission._tag === "Rejected") return Backend.refused(admission.retryAfterMillis)
        const run = Effect.flatMap(Effect.exit(restore(tracker.call(fiber, self))), (exit) => {
          const report = record(admission.ticket, exit, nowOf(fiber))
          return report === undefined ? exit : Effect.zipRight(report, exit)
        })
        return admission.halfOpened ? Effect.zipRight(Backend.halfOpened, run) : run
      })
    )

  const snapshot = Effect.sync(() => snapshotOf(state, tracker))

  return withFastPath(
    {
      protect,
      track: tracker.agent,
      state: Effect.sync(() => Policy.publicState(state)),
      snapshot,
      isolate: Effect.suspend(() => {
        const before = state._tag
        state = Policy.isolate(state)
        return before === "Isolated" ? Effect.void : Backend.tripped(tracker, undefined, 0)
      }),
      reset: Effect.suspend(() => {
        state = Policy.reset(settings, state)
        return Backend.closed
      })
    },
    fastPath
  )
}
