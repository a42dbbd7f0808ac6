/**
 * CircuitBreaker on Redis: core's policy, with its state in Redis and its transitions as scripts
 * (half-open probes are counted there, fleet-wide). Every transition is published; each process
 * keeps a view of the state from those messages and from script replies. A trip reaches every
 * process within a message's delivery, and each interrupts the fibers it tracks itself, exactly
 * as the in-memory breaker does.
 *
 * While the view says Closed a call is admitted without asking Redis: admission changes nothing
 * then, and a trip that the view has not heard of yet interrupts the call as soon as it arrives.
 */
import {
  Backend,
  type BreakerState,
  type CircuitBreakerService,
  type CircuitBreakerSnapshot,
  type CircuitOpen,
  type GuardUnavailable,
  Metrics
} from "@fleetguard/core"
import { Effect, type Exit } from "effect"
import type { Background } from "./background.js"
import type { Outbox } from "./outbox.js"
import { list, num, str } from "./reply.js"
import * as Scripts from "./scripts/breaker.js"
import { retryUntilAnswered, type Store, type StoreDown, unavailable } from "./store.js"

export interface Deps {
  readonly store: Store
  readonly outbox: Outbox
  readonly failOpen: boolean
  /** Runs what a message sets off (a trip's interruptions and events) with the layer's services, until it closes. */
  readonly background: Background
}

/** The policy's states (core's internal/policy/breaker.ts), by the names the scripts keep them under. */
type Tag = "Closed" | "Open" | "HalfOpen" | "Isolated"

const tagOf = (u: unknown): Tag => {
  const s = str(u)
  return s === "Open" || s === "HalfOpen" || s === "Isolated" ? s : "Closed"
}

/** The state as users see it: Isolated is Open. */
const publicState = (tag: Tag): BreakerState => (tag === "Isolated" ? "Open" : tag)

/** The values of core's `fleetguard_breaker_state` gauge: 0 closed, 1 half-open, 2 open. */
const gauge: Readonly<Record<Tag, number>> = { Closed: 0, HalfOpen: 1, Open: 2, Isolated: 2 }

/** The policy as the scripts take it: ARGV[3..10], its kind by the policy's own name. */
const policyArgs = (settings: Backend.BreakerSettings): ReadonlyArray<string | number> => {
  const { policy } = settings
  return [
    policy._tag,
    policy.threshold,
    policy._tag === "FailureRate" ? policy.windowSize : 0,
    policy._tag === "FailureRate" ? policy.minimumCalls : 0,
    settings.resetAfterMillis,
    settings.backoffFactor,
    settings.maxResetAfterMillis,
    settings.halfOpenMaxCalls
  ]
}

interface Ticket {
  readonly generation: number
  readonly probe: boolean
}

export const make = (decoded: Backend.BreakerDecoded, deps: Deps) => {
  const { store, outbox, failOpen, background } = deps
  const keys = [store.keys.breaker]
  const policy = policyArgs(decoded.settings)
  const args = (...extra: ReadonlyArray<string | number>) => [store.idleMillis, store.keys.channel, ...policy, ...extra]
  const tracker = Backend.makeTracker()
  let view: { tag: Tag; generation: number } = { tag: "Closed", generation: 0 }
  /** The generation of the last opening this process interrupted its fibers for. */
  let trippedAt = -1

  const observe = (tag: Tag, generation: number) => {
    if (generation < view.generation) return
    view = { tag, generation }
    Metrics.breakerState.unsafeUpdate(gauge[tag], [])
  }

  /** An opening, heard from a reply or a message (whichever first): interrupt what this process tracks, once. */
  const trip = (generation: number, reopenAt: number | undefined, trips: number): Effect.Effect<void> =>
    Effect.suspend(() => {
      observe(reopenAt === undefined ? "Isolated" : "Open", generation)
      if (generation <= trippedAt) return Effect.void
      trippedAt = generation
      return Backend.tripped(tracker, reopenAt, trips)
    })

  const outcomeOf = Backend.breakerOutcome(decoded.isFailure)

  const recorded = (reply: ReadonlyArray<unknown>): Effect.Effect<void> => {
    switch (str(reply[0])) {
      case "Opened":
        return trip(num(reply[1]), num(reply[2]), num(reply[3]))
      case "Closed":
        observe("Closed", num(reply[1]))
        return Backend.closed
      default:
        observe(tagOf(reply[2]), num(reply[1]))
        return Effect.void
    }
  }

  // An ignored outcome of a call admitted while Closed changes nothing: no round trip for it. A
  // probe's outcome must arrive (the probe slot is freed by it), so it goes through the outbox.
  const record = (ticket: Ticket, exit: Exit.Exit<unknown, unknown>): Effect.Effect<void> => {
    const outcome = outcomeOf(exit)
    if (outcome === "ignored" && !ticket.probe) return Effect.void
    const step = Effect.flatMap(store.run(Scripts.record, keys, args(ticket.generation, outcome)), (reply) =>
      recorded(list(reply))
    )
    return Effect.catchAll(step, () => Effect.sync(() => outbox.add(step)))
  }

  const tracked = <A, E, R>(self: Effect.Effect<A, E, R>) =>
    Effect.withFiberRuntime<A, E | CircuitOpen, R>((fiber) => tracker.call(fiber, self))

  const run = <A, E, R>(self: Effect.Effect<A, E, R>, ticket: Ticket | undefined) =>
    ticket === undefined ? tracked(self) : Effect.onExit(tracked(self), (exit) => record(ticket, exit))

  const admitted = <A, E, R>(
    self: Effect.Effect<A, E, R>,
    reply: ReadonlyArray<unknown>
  ): Effect.Effect<A, E | CircuitOpen, R> => {
    if (str(reply[0]) !== "Admitted") {
      observe(tagOf(reply[2]), num(reply[1]))
      const retryAfterMillis = num(reply[3])
      return Backend.refused(retryAfterMillis < 0 ? undefined : retryAfterMillis)
    }
    const ticket: Ticket = { generation: num(reply[1]), probe: num(reply[2]) === 1 }
    observe(ticket.probe ? "HalfOpen" : "Closed", ticket.generation)
    return num(reply[3]) === 1 ? Effect.zipRight(Backend.halfOpened, run(self, ticket)) : run(self, ticket)
  }

  const protect = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E | CircuitOpen | GuardUnavailable, R> =>
    Effect.suspend(() => {
      if (view.tag === "Closed" && store.isUp()) return run(self, { generation: view.generation, probe: false })
      return store.run(Scripts.admit, keys, args()).pipe(
        Effect.matchEffect({
          onFailure: (down: StoreDown): Effect.Effect<A, E | CircuitOpen | GuardUnavailable, R> => {
            const error = unavailable(store, "breaker", down)
            return failOpen ? run(self, undefined) : Effect.fail(error)
          },
          onSuccess: (reply) => admitted(self, list(reply))
        })
      )
    })

  const current = retryUntilAnswered(
    Effect.map(store.run(Scripts.state, keys, args()), (reply) => {
      const [tag, generation, reopenAt, trips] = list(reply)
      observe(tagOf(tag), num(generation))
      return { tag: tagOf(tag), generation: num(generation), reopenAt: num(reopenAt), trips: num(trips) }
    })
  )

  // Messages missed while the subscriber was away: a trip among them still interrupts.
  const refresh = Effect.flatMap(current, (state) =>
    state.tag === "Open" || state.tag === "Isolated"
      ? trip(state.generation, state.tag === "Open" ? state.reopenAt : undefined, state.trips)
      : Effect.void
  )

  const snapshot = Effect.map(
    current,
    (state): CircuitBreakerSnapshot => ({
      state: publicState(state.tag),
      tracked: tracker.size(),
      trips: state.tag === "Open" || state.tag === "HalfOpen" ? state.trips : 0,
      reopenAt: state.tag === "Open" ? state.reopenAt : null,
      isolated: state.tag === "Isolated"
    })
  )

  const isolateStep = Effect.flatMap(store.run(Scripts.isolate, keys, args()), (reply) => {
    const [before, generation] = list(reply)
    return tagOf(before) === "Isolated"
      ? Effect.sync(() => observe("Isolated", num(generation)))
      : trip(num(generation), undefined, 0)
  })

  const resetStep = Effect.flatMap(store.run(Scripts.reset, keys, args()), (generation) => {
    observe("Closed", num(generation))
    return Backend.closed
  })

  const orLater = (step: Effect.Effect<void, StoreDown>) =>
    Effect.catchAll(step, () => Effect.sync(() => outbox.add(step)))

  const onMessage = (message: string) => {
    const [kind, tag, generation, reopenAt, trips] = message.split(" ")
    if (message === "reconnected") background.run(Effect.ignore(refresh))
    if (kind !== "breaker") return
    const t = tagOf(tag)
    if (t === "Open" || t === "Isolated") {
      background.run(trip(num(generation), t === "Open" ? num(reopenAt) : undefined, t === "Open" ? num(trips) : 0))
    } else observe(t, num(generation))
  }

  const service: CircuitBreakerService = {
    protect,
    track: tracker.agent,
    state: Effect.map(current, (state) => publicState(state.tag)),
    snapshot,
    isolate: orLater(isolateStep),
    reset: orLater(resetStep)
  }
  return { service, onMessage, observe: (tag: string, generation: number) => observe(tagOf(tag), generation) }
}
