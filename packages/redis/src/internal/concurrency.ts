/**
 * Concurrency on Redis: a semaphore of leased permits and the shared rate-limit gate, both checked
 * by one script per attempt. Waiting never polls: a caller held at the closed gate sleeps until its
 * spread wake-up time (or a `resume`), and callers waiting for a permit are woken by the "released"
 * message Redis publishes when one comes back — or, if its holder died, when its lease runs out.
 * In a process, one waiter at a time asks Redis (the others queue behind it), so a release costs
 * each process at most one script, not one per waiting fiber.
 */
import {
  Backend,
  type ConcurrencyService,
  type ConcurrencySnapshot,
  type GuardUnavailable,
  Metrics
} from "@fleetguard/core"
import { Clock, Duration, Effect } from "effect"
import type { Leases } from "./leases.js"
import type { Outbox } from "./outbox.js"
import { list, num, str } from "./reply.js"
import * as Scripts from "./scripts/concurrency.js"
import * as Signal from "./signal.js"
import { retryUntilAnswered, type Store, type StoreDown, unavailable } from "./store.js"

export interface Deps {
  readonly store: Store
  readonly leases: Leases
  readonly outbox: Outbox
  readonly failOpen: boolean
  /** The breaker's state, as the acquire script saw it. */
  readonly observeBreaker: (tag: string, generation: number) => void
}

/** How a wait for a permit ends. */
type Ended = { readonly _tag: "Granted" } | { readonly _tag: "Down"; readonly down: StoreDown }

type Attempt =
  | Ended
  | { readonly _tag: "Full"; readonly retryInMillis: number }
  | { readonly _tag: "Paused"; readonly wakeInMillis: number }

/** The permit a caller holds: one in Redis (its token), or — failing open — one of this process's own. */
interface Held {
  token: string | undefined
}

export const make = (options: Backend.ConcurrencyLimits, deps: Deps) => {
  const { limit, windowMillis, maxPauseMillis } = options
  const { store, leases, outbox, failOpen, observeBreaker } = deps
  const { permits, gate, breaker, channel } = store.keys
  const released = Signal.make()
  const resumed = Signal.make()
  // Failing open, each process still holds itself to the limit.
  const fallback = Effect.unsafeMakeSemaphore(limit)
  /** Callers waiting here for a permit; one of them (the head) asks Redis. */
  const turn = Effect.unsafeMakeSemaphore(1)
  let waiting = 0

  const updateGauges = () => {
    Metrics.concurrencyInFlight.unsafeUpdate(leases.permits.size, [])
    Metrics.concurrencyWaiting.unsafeUpdate(waiting, [])
  }

  const giveBack = (token: string) => {
    leases.permits.delete(token)
    updateGauges()
    const step = Effect.asVoid(store.run(Scripts.release, [permits], [store.idleMillis, channel, token]))
    return Effect.catchAll(step, () => Effect.sync(() => outbox.add(step)))
  }

  // Uninterruptible from the script to `held`: a permit granted is always either held or given back.
  const attempt = (held: Held): Effect.Effect<Attempt> => {
    const token = leases.token()
    return Effect.uninterruptible(
      store
        .run(Scripts.acquire, [permits, gate, breaker], [store.idleMillis, channel, token, limit, leases.leaseMillis])
        .pipe(
          Effect.match({
            onFailure: (down): Attempt => {
              // The script may have run and its answer been lost: give the token back if it holds a permit.
              if (down.sent) {
                outbox.add(Effect.asVoid(store.run(Scripts.release, [permits], [store.idleMillis, channel, token])))
              }
              return { _tag: "Down", down }
            },
            onSuccess: (reply): Attempt => {
              const answer = list(reply)
              switch (str(answer[0])) {
                case "Granted":
                  held.token = token
                  leases.permits.add(token)
                  updateGauges()
                  observeBreaker(str(answer[1]), num(answer[2]))
                  return { _tag: "Granted" }
                case "Paused":
                  return {
                    _tag: "Paused",
                    wakeInMillis: num(answer[1]) + Math.floor(Backend.releaseOffset(num(answer[2])) * windowMillis)
                  }
                default:
                  return { _tag: "Full", retryInMillis: num(answer[1]) }
              }
            }
          })
        )
    )
  }

  /** The head of this process's waiters asks until it gets a permit or the gate stops it. */
  const asHead = (held: Held): Effect.Effect<Attempt> =>
    Effect.gen(function* () {
      for (;;) {
        const seen = released.count()
        const outcome = yield* attempt(held)
        if (outcome._tag !== "Full") return outcome
        // Woken by a release, or when the oldest lease would run out (its holder may be dead).
        yield* Effect.raceFirst(released.await(seen), Effect.sleep(Duration.millis(outcome.retryInMillis + 1)))
      }
    })

  const untilReopened = (wakeInMillis: number) => {
    const seen = resumed.count()
    return Effect.raceFirst(resumed.await(seen), Effect.sleep(Duration.millis(wakeInMillis)))
  }

  /** After a first answer that was not a permit: wait at the gate or in line until one is granted. */
  const wait = (held: Held, first: Attempt): Effect.Effect<Ended> =>
    Effect.gen(function* () {
      let outcome = first
      while (outcome._tag === "Paused" || outcome._tag === "Full") {
        if (outcome._tag === "Paused") yield* untilReopened(outcome.wakeInMillis)
        outcome = yield* turn.withPermits(1)(asHead(held))
      }
      return outcome
    })

  /**
   * Until a permit is granted (or Redis is found down); every wait is interruptible. A caller
   * arriving while others wait here lines up behind them rather than taking a permit first.
   */
  const acquire = (held: Held): Effect.Effect<Ended> =>
    Effect.flatMap(
      waiting > 0 ? Effect.succeed<Attempt>({ _tag: "Full", retryInMillis: 0 }) : attempt(held),
      (first) => {
        if (first._tag === "Granted" || first._tag === "Down") return Effect.succeed(first)
        waiting++
        updateGauges()
        return Effect.ensuring(
          wait(held, first),
          Effect.sync(() => {
            waiting--
            updateGauges()
          })
        )
      }
    )

  const withPermit = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E | GuardUnavailable, R> =>
    Effect.uninterruptibleMask((restore) => {
      const held: Held = { token: undefined }
      const giveBackHeld = Effect.suspend(() => (held.token === undefined ? Effect.void : giveBack(held.token)))
      return restore(acquire(held)).pipe(
        Effect.onInterrupt(() => giveBackHeld),
        Effect.flatMap((outcome): Effect.Effect<A, E | GuardUnavailable, R> => {
          if (outcome._tag === "Granted") return Effect.ensuring(restore(self), giveBackHeld)
          const error = unavailable(store, "concurrency", outcome.down)
          return failOpen ? fallback.withPermits(1)(restore(self)) : Effect.fail(error)
        })
      )
    })

  const pauseStep = (deadline: number, request: Backend.PauseRequest): Effect.Effect<void, StoreDown> =>
    Effect.flatMap(Clock.currentTimeMillis, (now) => {
      const millis = Math.ceil(deadline - now)
      if (millis <= 0) return Effect.void
      return Effect.flatMap(store.run(Scripts.pause, [permits, gate], [store.idleMillis, channel, millis]), (reply) => {
        const [moved, pausedUntil, wasClosed] = list(reply)
        return Backend.paused({
          request,
          moved: num(moved) === 1,
          wasClosed: num(wasClosed) === 1,
          pausedUntil: num(pausedUntil)
        })
      })
    })

  const pauseFor = (duration: Duration.DurationInput): Effect.Effect<void> => {
    const request = Backend.pauseRequest(duration, maxPauseMillis)
    if (request === undefined) return Effect.void
    return Effect.flatMap(Clock.currentTimeMillis, (now) => {
      // Relative to now: if Redis is away, the outbox closes the gate for what is left of the pause.
      const step = pauseStep(now + request.millis, request)
      return Effect.catchAll(step, () => Effect.sync(() => outbox.add(step)))
    })
  }

  const resumeStep = Effect.flatMap(store.run(Scripts.resume, [permits, gate], [store.idleMillis, channel]), (reply) =>
    num(reply) === 1 ? Backend.resumed : Effect.void
  )

  const resume = Effect.suspend(() => {
    resumed.fire()
    return Effect.catchAll(resumeStep, () => Effect.sync(() => outbox.add(resumeStep)))
  })

  const snapshot = retryUntilAnswered(
    Effect.map(
      store.run(Scripts.snapshot, [permits, gate], [store.idleMillis, channel]),
      (reply): ConcurrencySnapshot => {
        const [inFlight, pausedUntil] = list(reply)
        return { limit, inFlight: num(inFlight), waiting, pausedUntil: num(pausedUntil) > 0 ? num(pausedUntil) : null }
      }
    )
  )

  const onMessage = (message: string) => {
    if (message === "released") released.fire()
    else if (message === "resumed") resumed.fire()
    else if (message === "reconnected") {
      released.fire()
      resumed.fire()
    }
  }

  const service: ConcurrencyService = { limit, maxPauseMillis, withPermit, pauseFor, resume, snapshot }
  return { service, onMessage }
}
