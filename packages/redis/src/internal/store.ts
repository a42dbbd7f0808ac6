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
import { Data, Duration, Effect, Schedule, type Scope } from "effect"
import { Redis, type RedisOptions } from "ioredis"
import * as Metrics from "../Metrics.js"
import type { Script } from "./scripts.js"

/**
 * Redis could not be reached, or could not answer (loading, read-only, busy) in time. `sent`: the
 * script may have reached Redis (its answer was lost or late), so it may have run.
 */
export class StoreDown extends Data.TaggedError("StoreDown")<{ readonly reason: string; readonly sent: boolean }> {}

/** What a caller sees when Redis is down and the layer fails closed; counted, failing open too. */
export const unavailable = (store: Store, guard: "budget" | "concurrency" | "breaker", down: StoreDown) => {
  Metrics.unavailableByGuard[guard].unsafeUpdate(1, [])
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
  /** Runs a script to its answer, uninterruptibly (a script sent is never abandoned half-known). */
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

const connect = (options: StoreOptions, overrides: Partial<RedisOptions>): Redis =>
  options.client !== undefined
    ? options.client.duplicate(overrides)
    : new Redis(options.url ?? "redis://127.0.0.1:6379", overrides)

const whereOf = (redis: Redis) => `${redis.options.host ?? "127.0.0.1"}:${redis.options.port ?? 6379}`

/** Waits for the first connection, at most `timeoutMillis`: a layer built while Redis is down still builds. */
const awaitReady = (redis: Redis, timeoutMillis: number) =>
  Effect.async<boolean>((resume) => {
    if (redis.status === "ready") return resume(Effect.succeed(true))
    const ready = () => resume(Effect.succeed(true))
    redis.once("ready", ready)
    return Effect.sync(() => redis.off("ready", ready))
  }).pipe(
    Effect.timeoutTo({ duration: timeoutMillis, onTimeout: () => false, onSuccess: (ready) => ready }),
    Effect.uninterruptible
  )

const closeQuietly = (redis: Redis) => Effect.sync(() => redis.disconnect(false))

export const make = (options: StoreOptions): Effect.Effect<Store, never, Scope.Scope> =>
  Effect.gen(function* () {
    let lastError: string | undefined
    const onError = (error: unknown) => {
      lastError = messageOf(error)
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
    subscriber.subscribe(keys.channel).catch(onError)

    const where = whereOf(commands)
    if (!(yield* awaitReady(commands, options.timeoutMillis))) {
      yield* Effect.logWarning(
        `fleetguard: Redis at ${where} is not reachable yet (${lastError ?? "no answer"}); guarded calls fail with GuardUnavailable until it is`
      )
    }
    yield* awaitReady(subscriber, options.timeoutMillis)

    const send = (script: Script, keys: ReadonlyArray<string>, args: ReadonlyArray<string | number>) =>
      commands
        .evalsha(script.sha, keys.length, ...keys, ...args)
        .catch((error: unknown) =>
          isNoScript(error) ? commands.eval(script.source, keys.length, ...keys, ...args) : Promise.reject(error)
        )

    const run = (script: Script, keys: ReadonlyArray<string>, args: ReadonlyArray<string | number>) =>
      Effect.uninterruptible(
        Effect.async<unknown, StoreDown>((resume) => {
          send(script, keys, args).then(
            (reply) => resume(Effect.succeed(reply)),
            (error: unknown) =>
              resume(
                isReplyError(error) && !transient.test(error.message)
                  ? Effect.dieMessage(`fleetguard: Redis script ${script.name} failed: ${error.message}`)
                  : Effect.fail(new StoreDown({ reason: messageOf(error), sent: !unsent(error) }))
              )
          )
        })
      )

    return {
      keys,
      idleMillis: options.idleMillis,
      run,
      listen: (listener) => {
        listeners.push(listener)
      },
      where,
      lastError: () => lastError,
      isUp: () => commands.status === "ready"
    } satisfies Store
  })
