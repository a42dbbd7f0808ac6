/**
 * CircuitBreaker on Redis: core's policy, with its state in Redis and its transitions as scripts
 * (half-open probes are counted there, fleet-wide). Every transition is published; each process
 * keeps a view of the state from those messages and from script replies (breakerView.ts).
 *
 * While the view says Closed a call is admitted without asking Redis: admission changes nothing
 * then, and a trip that the view has not heard of yet interrupts the call as soon as it arrives.
 */
import {
  Backend,
  type CircuitBreakerService,
  type CircuitBreakerSnapshot,
  type CircuitOpen,
  type GuardUnavailable
} from "@fleetguard/core"
import { Effect, type Exit } from "effect"
import type { Background } from "./background.js"
import * as View from "./breakerView.js"
import type { Outbox } from "./outbox.js"
import { list, num, str } from "./reply.js"
import * as Scripts from "./scripts/breaker.js"
import type { Script } from "./scripts/script.js"
import { retryUntilAnswered, type Store, type StoreDown, unavailable } from "./store.js"

export interface Deps {
  readonly store: Store
  readonly outbox: Outbox
  readonly failOpen: boolean
  /** Runs what a message sets off (a trip's interruptions and events) with the layer's services, until it closes. */
  readonly background: Background
}

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

/** What the breaker's parts share. */
interface Context {
  readonly store: Store
  readonly outbox: Outbox
  readonly tracker: Backend.Tracker
  readonly view: View.View
  /** Runs one of the breaker's scripts: the breaker's key, the policy's arguments, then `extra`. */
  readonly script: (script: Script, ...extra: ReadonlyArray<string | number>) => Effect.Effect<unknown, StoreDown>
}

/** What `record` replied: an opening trips, a closing is reported, anything else is only noted. */
const recorded = (view: View.View, reply: ReadonlyArray<unknown>): Effect.Effect<void> => {
  switch (str(reply[0])) {
    case "Opened":
      return view.trip(num(reply[1]), num(reply[2]), num(reply[3]))
    case "Closed":
      view.observe("Closed", num(reply[1]))
      return Backend.closed
    default:
      view.observe(View.stateOf(reply[2]), num(reply[1]))
      return Effect.void
  }
}

/** `protect`: a call admitted (by the view while Closed, else by the admit script), tracked, its outcome recorded. */
const protection = (
  { store, outbox, tracker, view, script }: Context,
  failOpen: boolean,
  outcomeOf: ReturnType<typeof Backend.breakerOutcome>
) => {
  // An ignored outcome of a call admitted while Closed changes nothing: no round trip for it. A
  // probe's outcome must arrive (the probe slot is freed by it), so it goes through the outbox.
  const record = (ticket: Ticket, exit: Exit.Exit<unknown, unknown>): Effect.Effect<void> => {
    const outcome = outcomeOf(exit)
    if (outcome === "ignored" && !ticket.probe) return Effect.void
    return outbox.send(
      Effect.flatMap(script(Scripts.record, ticket.generation, outcome), (reply) => recorded(view, list(reply)))
    )
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
      view.observe(View.stateOf(reply[2]), num(reply[1]))
      const retryAfterMillis = num(reply[3])
      return Backend.refused(retryAfterMillis < 0 ? undefined : retryAfterMillis)
    }
    const ticket: Ticket = { generation: num(reply[1]), probe: num(reply[2]) === 1 }
    view.observe(ticket.probe ? "HalfOpen" : "Closed", ticket.generation)
    return num(reply[3]) === 1 ? Effect.zipRight(Backend.halfOpened, run(self, ticket)) : run(self, ticket)
  }

  return <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E | CircuitOpen | GuardUnavailable, R> =>
    Effect.suspend(() => {
      const seen = view.current()
      if (seen.state === "Closed" && store.isUp()) return run(self, { generation: seen.generation, probe: false })
      return script(Scripts.admit).pipe(
        Effect.matchEffect({
          onFailure: (down: StoreDown): Effect.Effect<A, E | CircuitOpen | GuardUnavailable, R> => {
            const error = unavailable(store, "breaker", down)
            return failOpen ? run(self, undefined) : Effect.fail(error)
          },
          onSuccess: (reply) => admitted(self, list(reply))
        })
      )
    })
}

/** The breaker as operators read and steer it, and the look at Redis after missed messages. */
const operations = ({ outbox, tracker, view, script }: Context) => {
  const current = retryUntilAnswered(
    Effect.map(script(Scripts.state), (reply) => {
      const [state, generation, reopenAt, trips] = list(reply)
      const seen = {
        state: View.stateOf(state),
        generation: num(generation),
        reopenAt: num(reopenAt),
        trips: num(trips)
      }
      view.observe(seen.state, seen.generation)
      return seen
    })
  )

  // Messages missed while the subscriber was away: a trip among them still interrupts.
  const refresh = Effect.flatMap(current, (s) =>
    s.state === "Open" || s.state === "Isolated"
      ? view.trip(s.generation, s.state === "Open" ? s.reopenAt : undefined, s.trips)
      : Effect.void
  )

  const snapshot = Effect.map(
    current,
    (s): CircuitBreakerSnapshot => ({
      state: View.publicState(s.state),
      tracked: tracker.size(),
      // Redis keeps trips only while Open or HalfOpen (every transition starts the hash afresh).
      trips: s.trips,
      reopenAt: s.state === "Open" ? s.reopenAt : null,
      isolated: s.state === "Isolated"
    })
  )

  const isolate = Effect.flatMap(script(Scripts.isolate), (reply) => {
    const [before, generation] = list(reply)
    return View.stateOf(before) === "Isolated"
      ? Effect.sync(() => view.observe("Isolated", num(generation)))
      : view.trip(num(generation), undefined, 0)
  })

  const reset = Effect.flatMap(script(Scripts.reset), (generation) => {
    view.observe("Closed", num(generation))
    return Backend.closed
  })

  return {
    state: Effect.map(current, (s) => View.publicState(s.state)),
    snapshot,
    refresh,
    isolate: outbox.send(isolate),
    reset: outbox.send(reset)
  }
}

export const make = (decoded: Backend.BreakerDecoded, deps: Deps) => {
  const { store, outbox, background } = deps
  const keys = [store.keys.breaker]
  const policy = policyArgs(decoded.settings)
  const tracker = Backend.makeTracker()
  const view = View.make(tracker)
  const context: Context = {
    store,
    outbox,
    tracker,
    view,
    script: (script, ...extra) => store.run(script, keys, [store.idleMillis, store.keys.channel, ...policy, ...extra])
  }
  const { state, snapshot, refresh, isolate, reset } = operations(context)

  const onMessage = (message: string) => {
    if (message === "reconnected") background.run(Effect.ignore(refresh))
    const heard = View.heard(message)
    if (heard === undefined) return
    if (heard.state === "Open" || heard.state === "Isolated") {
      background.run(view.trip(heard.generation, heard.reopenAt, heard.trips))
    } else view.observe(heard.state, heard.generation)
  }

  const service: CircuitBreakerService = {
    protect: protection(context, deps.failOpen, Backend.breakerOutcome(decoded.isFailure)),
    track: tracker.agent,
    state,
    snapshot,
    isolate,
    reset
  }
  return {
    service,
    onMessage,
    /** The breaker's state as another guard's script saw it (a granted permit carries it). */
    observe: (state: unknown, generation: number) => view.observe(View.stateOf(state), generation)
  }
}
