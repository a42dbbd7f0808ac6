/**
 * Concurrency on Redis: a semaphore of leased permits and the shared rate-limit gate, both checked
 * by one script per attempt (permits.ts). Pauses and reopenings are scripts too; every process
 * hears of them on the fleet's channel.
 */
import { Backend, type ConcurrencyService, type ConcurrencySnapshot, type GuardUnavailable } from "@fleetguard/core"
import { Clock, type Duration, Effect } from "effect"
import type { Leases } from "./leases.js"
import type { Outbox } from "./outbox.js"
import * as Permits from "./permits.js"
import { list, num } from "./reply.js"
import * as Scripts from "./scripts/concurrency.js"
import * as Signal from "./signal.js"
import { retryUntilAnswered, type Store, type StoreDown, unavailable } from "./store.js"

export interface Deps {
  readonly store: Store
  readonly leases: Leases
  readonly outbox: Outbox
  readonly failOpen: boolean
  /** The breaker's state, as the acquire script saw it. */
  readonly observeBreaker: (state: unknown, generation: number) => void
}

/** `pauseFor` and `resume`: the gate closed and reopened in Redis, now or once Redis is back. */
const gateControls = (store: Store, outbox: Outbox, maxPauseMillis: number, resumed: Signal.Signal) => {
  const keys = [store.keys.permits, store.keys.gate]
  const args = [store.idleMillis, store.keys.channel]

  const pauseStep = (deadline: number, request: Backend.PauseRequest): Effect.Effect<void, StoreDown> =>
    Effect.flatMap(Clock.currentTimeMillis, (now) => {
      const millis = Math.ceil(deadline - now)
      if (millis <= 0) return Effect.void
      return Effect.flatMap(store.run(Scripts.pause, keys, [...args, millis]), (reply) => {
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
    // Relative to now: if Redis is away, the outbox closes the gate for what is left of the pause.
    return Effect.flatMap(Clock.currentTimeMillis, (now) => outbox.send(pauseStep(now + request.millis, request)))
  }

  const resumeStep = Effect.flatMap(store.run(Scripts.resume, keys, args), (reply) =>
    num(reply) === 1 ? Backend.resumed : Effect.void
  )

  const resume = Effect.suspend(() => {
    resumed.fire()
    return outbox.send(resumeStep)
  })

  return { pauseFor, resume }
}

export const make = (options: Backend.ConcurrencyLimits, deps: Deps) => {
  const { limit, windowMillis, maxPauseMillis } = options
  const { store, outbox, failOpen } = deps
  const released = Signal.make()
  const resumed = Signal.make()
  const permits = Permits.make({ ...deps, limit, windowMillis, released, resumed })
  // Failing open, each process still holds itself to the limit.
  const fallback = Effect.unsafeMakeSemaphore(limit)

  const withPermit = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E | GuardUnavailable, R> =>
    Effect.uninterruptibleMask((restore) => {
      const held: Permits.Held = { token: undefined }
      const giveBack = Effect.suspend(() => (held.token === undefined ? Effect.void : permits.giveBack(held.token)))
      return restore(permits.acquire(held)).pipe(
        Effect.onInterrupt(() => giveBack),
        Effect.flatMap((outcome): Effect.Effect<A, E | GuardUnavailable, R> => {
          if (outcome._tag === "Granted") return Effect.ensuring(restore(self), giveBack)
          const error = unavailable(store, "concurrency", outcome.down)
          return failOpen ? fallback.withPermits(1)(restore(self)) : Effect.fail(error)
        })
      )
    })

  const snapshot = retryUntilAnswered(
    Effect.map(
      store.run(Scripts.snapshot, [store.keys.permits, store.keys.gate], [store.idleMillis, store.keys.channel]),
      (reply): ConcurrencySnapshot => {
        const [inFlight, pausedUntil] = list(reply)
        const waiting = permits.waiting()
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

  const { pauseFor, resume } = gateControls(store, outbox, maxPauseMillis, resumed)
  const service: ConcurrencyService = { limit, maxPauseMillis, withPermit, pauseFor, resume, snapshot }
  return { service, onMessage }
}
