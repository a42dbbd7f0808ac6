/**
 * The connection to Redis: one connection for scripts, one subscribed to the fleet's channel.
 *
 * Scripts run with no offline queue and no resending on reconnect: a script either runs now or the
 * caller hears at once that it did not, and nothing sent before a reconnect runs again later behind
 * the caller's back (a reserve that ran twice would hold money nobody renews). A script whose
 * answer was lost (the connection dropped after sending it) may or may not have run: callers undo
 * such a step by its token, through the outbox.
 */
import { GuardUnavailable } from "@fleetguard/core"
import { Data, Duration, Effect, Metric, Option, Schedule, type Scope } from "effect"
import { Redis, type RedisOptions } from "ioredis"
import * as Metrics from "../Metrics.js"
import type { Script } from "./scripts/script.js"

/**
 * Redis could not be reached, or could not answer (loading, read-only, busy) in time. `sent`: the
 * script may have reached Redis (its answer was lost or late), so it may have run.
 */
export class StoreDown extends Data.TaggedError("StoreDown")<{ readonly reason: string; readonly sent: boolean }> {}

/**
 * Redis answered and refused this connection (credentials, permissions): waiting will not help.
 * `reason` is fleetguard's own wording, never Redis's reply or the client's options.
 */
export class Refused extends Data.TaggedError("Refused")<{ readonly reason: string }> {}

/** `RedisMetrics.unavailable` by guard, tagged once rather than on every step that finds Redis down. */
const unavailableByGuard = {
  budget: Metric.tagged(Metrics.unavailable, "guard", "budget"),
  concurrency: Metric.tagged(Metrics.unavailable, "guard", "concurrency"),
  breaker: Metric.tagged(Metrics.unavailable, "guard", "breaker")
}

/** What a caller sees when Redis is down and the layer fails closed; counted, failing open too. */
export const unavailable = (store: Store, guard: keyof typeof unavailableByGuard, down: StoreDown) => {
  unavailableByGuard[guard].unsafeUpdate(1, [])
  return new GuardUnavailable({
    guard,
    message: `fleetguard could not reach Redis at ${store.where} (${store.lastError() ?? down.reason}); nothing was run`
  })
}

/** A read that cannot fail by contract (a snapshot) waits for Redis rather than invent an answer. */
export const retryUntilAnswered = <A>(read: Effect.Effect<A, StoreDown>): Effect.Effect<A> =>
  Effect.retry(read, Schedule.spaced(Duration.millis(200))).pipe(Effect.orDie)

export interface Keys {
  /** ledger, agent-spent, agent-reserved, holds, hold-leases, expired, expired-at */
  readonly budget: ReadonlyArray<string>
  readonly permits: string
  readonly gate: string
  readonly breaker: string
  /** Every key, for the renewal that keeps a live fleet's keys from expiring. */
  readonly all: ReadonlyArray<string>
  /** The pub/sub channel: permits released, gate changes, breaker transitions. */
  readonly channel: string
}

export const keysFor = (prefix: string): Keys => {
  const key = (name: string) => `${prefix}:${name}`
  const budget = ["ledger", "agent-spent", "agent-reserved", "holds", "hold-leases", "expired", "expired-at"].map(key)
  const permits = key("permits")
  const gate = key("gate")
  const breaker = key("breaker")
  return { budget, permits, gate, breaker, all: [...budget, permits, gate, breaker], channel: key("events") }
}

export interface StoreOptions {
  readonly url: string | undefined
  readonly client: Redis | undefined
  readonly prefix: string
  readonly timeoutMillis: number
  readonly idleMillis: number
}

export interface Store {
  readonly keys: Keys
  readonly idleMillis: number
  /**
   * Runs a script to its answer, uninterruptibly (a script sent is never abandoned half-known):
   * at most the command timeout, since a script not answered by then fails `StoreDown`.
   */
  readonly run: (
    script: Script,
    keys: ReadonlyArray<string>,
    args: ReadonlyArray<string | number>
  ) => Effect.Effect<unknown, StoreDown>
  /** Registers a listener for the fleet's channel; "reconnected" is delivered after a reconnection. */
  readonly listen: (listener: (message: string) => void) => void
  /** Where Redis is, for messages: host and port only (never credentials). */
  readonly where: string
  /** Why Redis is down, when it is: the last connection error. */
  readonly lastError: () => string | undefined
  /** Whether the connection is up now (a step would be sent, not refused at once). */
  readonly isUp: () => boolean
}

// Errors that say Redis is there but cannot serve now; any other error answer is a bug in a script.
const transient = /^(LOADING|BUSY|READONLY|MASTERDOWN|OOM|CLUSTERDOWN|TRYAGAIN|MISCONF|NOREPLICAS)/

const isReplyError = (error: unknown): error is Error => error instanceof Error && error.name === "ReplyError"

const isNoScript = (error: unknown) => isReplyError(error) && error.message.startsWith("NOSCRIPT")

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error))

// ioredis refuses a command at once, unsent, while the connection is down (no offline queue).
const unsent = (error: unknown) => messageOf(error).startsWith("Stream isn't writeable")

/** Why Redis refused a connection, in fleetguard's words; undefined for an error that may pass. */
const refusal = (error: unknown): string | undefined => {
  const code = /\b(WRONGPASS|NOAUTH|NOPERM)\b/.exec(messageOf(error))?.[1]
  if (code === undefined) return undefined
  switch (code) {
    case "WRONGPASS":
      return "authentication failed: Redis refused the user name or password (WRONGPASS)"
    case "NOAUTH":
      return "authentication failed: Redis requires a password (NOAUTH)"
    default:
      return "permission denied: the Redis user may not run what fleetguard needs (NOPERM)"
  }
}

/** An error as users are told it: a refusal in fleetguard's words, the client's own messages made plain. */
const describe = (error: unknown, timeoutMillis: number): string => {
  const refused = refusal(error)
  if (refused !== undefined) return refused
  if (unsent(error)) return "not connected"
  const message = messageOf(error)
  return message === "Command timed out" ? `no answer within ${timeoutMillis} millis` : message
}

/** Reconnect for ever, quickly at first: the same layer recovers when Redis is back. */
const reconnectDelay = (times: number) => Math.min(50 * 2 ** Math.min(times, 5), 1_000)

/** What our connections must be, whoever configured the rest. */
const commandOverrides = (timeoutMillis: number): Partial<RedisOptions> => ({
  enableOfflineQueue: false,
  autoResendUnfulfilledCommands: false,
  maxRetriesPerRequest: 0,
  commandTimeout: timeoutMillis,
  connectTimeout: timeoutMillis,
  retryStrategy: reconnectDelay,
  lazyConnect: false
})

export const defaultUrl = "redis://127.0.0.1:6379"

const connect = (options: StoreOptions, overrides: Partial<RedisOptions>): Redis =>
  options.client !== undefined ? options.client.duplicate(overrides) : new Redis(options.url ?? defaultUrl, overrides)

const whereOf = (redis: Redis) => `${redis.options.host ?? "127.0.0.1"}:${redis.options.port ?? 6379}`

/** Succeeds once `redis` is ready; fails at once if Redis refuses it. */
const firstContact = (redis: Redis): Effect.Effect<void, Refused> =>
  Effect.async<void, Refused>((resume) => {
    if (redis.status === "ready") return resume(Effect.void)
    const stop = () => {
      redis.off("ready", onReady)
      redis.off("error", onError)
    }
    const onReady = () => {
      stop()
      resume(Effect.void)
    }
    const onError = (error: unknown) => {
      const reason = refusal(error)
      if (reason === undefined) return
      stop()
      resume(Effect.fail(new Refused({ reason })))
    }
    redis.on("ready", onReady)
    redis.on("error", onError)
    return Effect.sync(stop)
  })

const closeQuietly = (redis: Redis) => Effect.sync(() => redis.disconnect(false))

/** EVALSHA, and the source when Redis does not know the script yet. */
const send = (commands: Redis, script: Script, keys: ReadonlyArray<string>, args: ReadonlyArray<string | number>) =>
  commands
    .evalsha(script.sha, keys.length, ...keys, ...args)
    .catch((error: unknown) =>
      isNoScript(error) ? commands.eval(script.source, keys.length, ...keys, ...args) : Promise.reject(error)
    )

/** A script run on `commands` to its answer; an error answer that no wait will mend is a defect. */
const runner =
  (commands: Redis, timeoutMillis: number): Store["run"] =>
  (script, keys, args) =>
    Effect.uninterruptible(
      Effect.async<unknown, StoreDown>((resume) => {
        send(commands, script, keys, args).then(
          (reply) => resume(Effect.succeed(reply)),
          (error: unknown) => {
            // A refusal (credentials, permissions) comes before the script runs: it was not run.
            const refused = refusal(error) !== undefined
            resume(
              isReplyError(error) && !transient.test(error.message) && !refused
                ? Effect.dieMessage(`fleetguard: Redis script ${script.name} failed: ${error.message}`)
                : Effect.fail(
                    new StoreDown({ reason: describe(error, timeoutMillis), sent: !refused && !unsent(error) })
                  )
            )
          }
        )
      })
    )

/** The messages of `channel` delivered to the listeners, and "reconnected" after every reconnection. */
const subscribe = (subscriber: Redis, channel: string, onError: (error: unknown) => void): Store["listen"] => {
  const listeners: Array<(message: string) => void> = []
  const deliver = (message: string) => {
    for (const listener of listeners) listener(message)
  }
  subscriber.on("message", (_channel: string, message: string) => deliver(message))
  let connectedBefore = false
  // Messages sent while the subscriber was away are lost: listeners look at the state again.
  subscriber.on("ready", () => {
    if (connectedBefore) deliver("reconnected")
    connectedBefore = true
  })
  subscriber.subscribe(channel).catch(onError)
  return (listener) => {
    listeners.push(listener)
  }
}

/**
 * Both connections, opened. Waits for them at most `timeoutMillis`: a layer built while Redis is
 * down still builds (and recovers by itself); one that Redis refuses fails `Refused`.
 */
export const make = (options: StoreOptions): Effect.Effect<Store, Refused, Scope.Scope> =>
  Effect.gen(function* () {
    let lastError: string | undefined
    const onError = (error: unknown) => {
      lastError = describe(error, options.timeoutMillis)
    }
    const commands = yield* Effect.acquireRelease(
      Effect.sync(() => connect(options, commandOverrides(options.timeoutMillis)).on("error", onError)),
      closeQuietly
    )
    commands.on("ready", () => {
      lastError = undefined
    })
    const subscriber = yield* Effect.acquireRelease(
      Effect.sync(() =>
        // Queued until connected, and subscribed again after every reconnection, whatever the
        // client it was copied from does.
        connect(options, {
          enableOfflineQueue: true,
          autoResubscribe: true,
          connectTimeout: options.timeoutMillis,
          retryStrategy: reconnectDelay,
          lazyConnect: false
        }).on("error", onError)
      ),
      closeQuietly
    )
    const keys = keysFor(options.prefix)
    const listen = subscribe(subscriber, keys.channel, onError)

    const where = whereOf(commands)
    // Interruptible even where it is waited for uninterruptibly, so that the deadline ends it on time.
    const contact = yield* Effect.interruptible(
      Effect.all([firstContact(commands), firstContact(subscriber)], { concurrency: 2 })
    ).pipe(Effect.timeoutOption(options.timeoutMillis))
    if (Option.isNone(contact)) {
      yield* Effect.logWarning(
        `fleetguard: Redis at ${where} is not reachable yet (${lastError ?? "no answer"}); guarded calls fail with GuardUnavailable until it is`
      )
    }

    return {
      keys,
      idleMillis: options.idleMillis,
      run: runner(commands, options.timeoutMillis),
      listen,
      where,
      lastError: () => lastError,
      // The stream stops being writable a moment before the status says the connection closed.
      isUp: () => commands.status === "ready" && commands.stream?.writable === true
    } satisfies Store
  })
