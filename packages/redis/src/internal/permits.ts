/**
 * A process's permits from Redis: one script per attempt (the gate, a permit and the breaker's state
 * together) and the line of this process's waiters. Waiting never polls: a caller held at the
 * closed gate sleeps until its spread wake-up time (or a `resume`), and callers waiting for a
 * permit are woken by the "released" message Redis publishes when one comes back — or, if its
 * holder died, when its lease runs out. One waiter at a time asks Redis (the others queue behind
 * it), so a release costs each process at most one script, not one per waiting fiber.
 */
import { Backend, Metrics } from "@fleetguard/core"
import { Duration, Effect } from "effect"
import type { Leases } from "./leases.js"
import type { Outbox } from "./outbox.js"
import { list, num, str } from "./reply.js"
import * as Scripts from "./scripts/concurrency.js"
import type { Signal } from "./signal.js"
import type { Store, StoreDown } from "./store.js"

export interface Deps {
  readonly store: Store
  readonly leases: Leases
  readonly outbox: Outbox
  readonly limit: number
  readonly windowMillis: number
  /** The breaker's state, as the acquire script saw it. */
  readonly observeBreaker: (state: unknown, generation: number) => void
  /** Fired when Redis says a permit came back. */
  readonly released: Signal
  /** Fired when the gate was reopened. */
  readonly resumed: Signal
}

/** How a wait for a permit ends. */
export type Ended = { readonly _tag: "Granted" } | { readonly _tag: "Down"; readonly down: StoreDown }

type Attempt =
  | Ended
  | { readonly _tag: "Full"; readonly retryInMillis: number }
  | { readonly _tag: "Paused"; readonly wakeInMillis: number }

/** The permit a caller holds: its token in Redis, once granted. */
export interface Held {
  token: string | undefined
}

export interface Permits {
  /**
   * Until a permit is granted (or Redis is found down); every wait is interruptible. A caller
   * arriving while others wait here lines up behind them rather than taking a permit first.
   */
  readonly acquire: (held: Held) => Effect.Effect<Ended>
  /** Gives a permit back now, or through the outbox once Redis is back. */
  readonly giveBack: (token: string) => Effect.Effect<void>
  /** Callers of this process waiting for a permit. */
  readonly waiting: () => number
}

interface Context extends Deps {
  waiting: number
}

const updateGauges = (context: Context) => {
  Metrics.concurrencyInFlight.unsafeUpdate(context.leases.permits.size, [])
  Metrics.concurrencyWaiting.unsafeUpdate(context.waiting, [])
}

const release = ({ store }: Context, token: string) =>
  Effect.asVoid(store.run(Scripts.release, [store.keys.permits], [store.idleMillis, store.keys.channel, token]))

/** The acquire script's reply: a permit (noted as held), a full semaphore, or the gate's spread wake-up. */
const answer = (context: Context, held: Held, token: string, reply: ReadonlyArray<unknown>): Attempt => {
  switch (str(reply[0])) {
    case "Granted":
      held.token = token
      context.leases.permits.add(token)
      updateGauges(context)
      context.observeBreaker(reply[1], num(reply[2]))
      return { _tag: "Granted" }
    case "Paused":
      return {
        _tag: "Paused",
        wakeInMillis: num(reply[1]) + Math.floor(Backend.releaseOffset(num(reply[2])) * context.windowMillis)
      }
    default:
      return { _tag: "Full", retryInMillis: num(reply[1]) }
  }
}

// Uninterruptible from the script to `held`: a permit granted is always either held or given back.
const attempt = (context: Context, held: Held): Effect.Effect<Attempt> => {
  const { store, leases, outbox, limit } = context
  const { permits, gate, breaker, channel } = store.keys
  const token = leases.token()
  return Effect.uninterruptible(
    store
      .run(Scripts.acquire, [permits, gate, breaker], [store.idleMillis, channel, token, limit, leases.leaseMillis])
      .pipe(
        Effect.match({
          onFailure: (down): Attempt => {
            // The script may have run and its answer been lost: give the token back if it holds a permit.
            if (down.sent) outbox.add(release(context, token))
            return { _tag: "Down", down }
          },
          onSuccess: (reply) => answer(context, held, token, list(reply))
        })
      )
  )
}

/** The line of this process's waiters: its head asks Redis, the others wait their turn. */
const line = (context: Context): Permits["acquire"] => {
  const { released, resumed } = context
  const turn = Effect.unsafeMakeSemaphore(1)

  /** The head asks until it gets a permit or the gate stops it. */
  const asHead = (held: Held): Effect.Effect<Attempt> =>
    Effect.gen(function* () {
      for (;;) {
        const seen = released.count()
        const outcome = yield* attempt(context, held)
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

  return (held) =>
    Effect.flatMap(
      context.waiting > 0 ? Effect.succeed<Attempt>({ _tag: "Full", retryInMillis: 0 }) : attempt(context, held),
      (first) => {
        if (first._tag === "Granted" || first._tag === "Down") return Effect.succeed(first)
        context.waiting++
        updateGauges(context)
        return Effect.ensuring(
          wait(held, first),
          Effect.sync(() => {
            context.waiting--
            updateGauges(context)
          })
        )
      }
    )
}

export const make = (deps: Deps): Permits => {
  const context: Context = { ...deps, waiting: 0 }
  return {
    acquire: line(context),
    giveBack: (token) => {
      context.leases.permits.delete(token)
      updateGauges(context)
      return context.outbox.send(release(context, token))
    },
    waiting: () => context.waiting
  }
}
