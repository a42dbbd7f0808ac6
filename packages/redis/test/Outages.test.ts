/**
 * Every wait of the Redis guards ends on time, against real redis-server processes that are down
 * (killed), frozen (SIGSTOP: connections accepted, nothing answered) or refusing the password:
 * the layer's build, its close, and the guard steps in between. A timeout cannot cut an
 * uninterruptible region short, so each bound here is measured, never assumed.
 */
import { performance } from "node:perf_hooks"
import { expect, it } from "@effect/vitest"
import { Budget, CircuitBreaker, Concurrency, GuardUnavailable, type Reservation } from "@fleetguard/core"
import { type RedisGuardServices, RedisGuards, type RedisGuardsOptions } from "@fleetguard/redis"
import { RedisServer } from "@fleetguard/testing"
import {
  Cause,
  ConfigProvider,
  type Context,
  Deferred,
  Effect,
  Exit,
  Fiber,
  Layer,
  Logger,
  Schedule,
  Scope,
  TestClock
} from "effect"
import { Redis } from "ioredis"
import * as Background from "../src/internal/background.js"
import { defaults, freshPrefix, withRedis } from "./support.js"

const timeoutMillis = 500
/** What every wait must end within: the store's timeout, and room for a loaded machine. */
const bound = timeoutMillis + 1_500

/** FLEETGUARD_TIMINGS=1 prints each measured duration. */
const report = (what: string, millis: number) => {
  if (process.env.FLEETGUARD_TIMINGS !== undefined) console.log(`timing: ${what}: ${millis} ms`)
}

const timed = <A, E, R>(what: string, self: Effect.Effect<A, E, R>) =>
  Effect.gen(function* () {
    const start = performance.now()
    const exit = yield* Effect.exit(self)
    const millis = Math.round(performance.now() - start)
    report(what, millis)
    return { exit, millis }
  })

const serverFor = (options?: RedisServer.StartOptions) =>
  Effect.acquireRelease(
    Effect.promise(() => RedisServer.start(options)),
    (server) => Effect.promise(server.close)
  )

/** A server that was there and is gone: its port known, nothing listening on it. */
const downServer = Effect.tap(serverFor(), (redis) => Effect.promise(redis.kill))

const layerOn = (url: string, options: Partial<RedisGuardsOptions> = {}) =>
  RedisGuards.layer({
    url,
    prefix: freshPrefix(),
    lease: "3 seconds",
    timeout: `${timeoutMillis} millis`,
    ...defaults,
    ...options
  })

/** The layer built in a scope of the test's own, and how long the build took. */
const buildTimed = (what: string, layer: Layer.Layer<RedisGuardServices, unknown>) =>
  Effect.gen(function* () {
    const scope = yield* Scope.make()
    const built = yield* timed(what, Layer.buildWithScope(layer, scope))
    expect(built.millis).toBeLessThan(bound)
    const context: Context.Context<RedisGuardServices> = yield* Effect.orDie(built.exit)
    const use = <A, E>(self: Effect.Effect<A, E, RedisGuardServices>) => Effect.provide(self, context)
    const close = Effect.gen(function* () {
      const closed = yield* timed(`${what}: close`, Scope.close(scope, Exit.void))
      expect(closed.millis).toBeLessThan(bound)
    })
    return { use, close }
  })

const steps: Readonly<
  Record<"budget" | "concurrency" | "breaker", Effect.Effect<unknown, unknown, RedisGuardServices>>
> = {
  budget: Budget.reserve("a", 1),
  concurrency: Concurrency.withPermit(Effect.void),
  breaker: CircuitBreaker.protect(Effect.void)
}

const untilAnswered = <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.retry(self, { schedule: Schedule.intersect(Schedule.spaced("50 millis"), Schedule.recurs(200)) })

type Use = <A, E>(self: Effect.Effect<A, E, RedisGuardServices>) => Effect.Effect<A, E>

/**
 * The guard steps fail GuardUnavailable, each within the bound. The breaker's is left out while
 * the connection is up: a Closed breaker admits without asking Redis.
 */
const failsClosed = (
  what: string,
  use: Use,
  guards: ReadonlyArray<keyof typeof steps> = ["budget", "concurrency", "breaker"]
) =>
  Effect.forEach(guards, (guard) =>
    Effect.gen(function* () {
      const refused = yield* timed(`${what}: ${guard} step`, use(steps[guard]))
      expect(refused.millis).toBeLessThan(bound)
      expect(Exit.isFailure(refused.exit) && Cause.squash(refused.exit.cause)).toBeInstanceOf(GuardUnavailable)
      expect(Exit.isFailure(refused.exit) && Cause.squash(refused.exit.cause)).toMatchObject({ guard })
    })
  )

/** Every guard step lets its effect run (failing open). */
const runsOpen = (use: Use) =>
  Effect.gen(function* () {
    expect(yield* use(Concurrency.withPermit(Effect.succeed("ran")))).toBe("ran")
    expect(yield* use(CircuitBreaker.protect(Effect.succeed("ran")))).toBe("ran")
    return yield* use(Budget.reserve("a", 1))
  })

withRedis("Redis guards: every wait ends on time", () => {
  it.live(
    "built while Redis is down: within the timeout; calls fail GuardUnavailable at once; the same layer recovers",
    () =>
      Effect.gen(function* () {
        const redis = yield* downServer
        const { use, close } = yield* buildTimed("down, fail closed: build", layerOn(redis.url))
        yield* failsClosed("down, fail closed", use)
        yield* Effect.promise(redis.start)
        yield* use(untilAnswered(Budget.reserve("a", 1)))
        yield* close
      }).pipe(Effect.scoped),
    30_000
  )

  it.live(
    "built while Redis is down, failing open: within the timeout; calls run; their cost reaches the ledger when it is back",
    () =>
      Effect.gen(function* () {
        const redis = yield* downServer
        const { use, close } = yield* buildTimed("down, fail open: build", layerOn(redis.url, { failOpen: true }))
        const reservation = yield* runsOpen(use)
        yield* use(Budget.commit(reservation, 0.5))
        yield* Effect.promise(redis.start)
        const snapshot = yield* use(
          Effect.repeat(Effect.zipLeft(Budget.snapshot, Effect.sleep("20 millis")), { until: (s) => s.spentUsd > 0 })
        )
        expect(snapshot).toMatchObject({ spentUsd: 0.5, reservedUsd: 0 })
        yield* close
      }).pipe(Effect.scoped),
    30_000
  )

  for (const failOpen of [false, true]) {
    it.live(
      `built while Redis is frozen (accepts, never answers), ${failOpen ? "failing open" : "failing closed"}: within the timeout, and it recovers when Redis answers`,
      () =>
        Effect.gen(function* () {
          const redis = yield* serverFor()
          redis.freeze()
          const what = `frozen, fail ${failOpen ? "open" : "closed"}`
          const { use, close } = yield* buildTimed(`${what}: build`, layerOn(redis.url, { failOpen }))
          if (failOpen) yield* runsOpen(use)
          else yield* failsClosed(what, use)
          redis.thaw()
          yield* use(untilAnswered(Budget.reserve("b", 1)))
          yield* close
        }).pipe(Effect.scoped),
      30_000
    )
  }

  it.live("FLEETGUARD_REDIS_TIMEOUT bounds the build from the environment", () =>
    Effect.gen(function* () {
      const redis = yield* downServer
      const env = {
        FLEETGUARD_REDIS_URL: redis.url,
        FLEETGUARD_REDIS_PREFIX: freshPrefix(),
        FLEETGUARD_REDIS_TIMEOUT: "300 millis",
        FLEETGUARD_BUDGET_USD: "5"
      }
      const built = yield* timed(
        "down, from the environment (300 ms timeout): build",
        Effect.scoped(Layer.build(RedisGuards.layerConfig())).pipe(
          Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))
        )
      )
      expect(Exit.isSuccess(built.exit)).toBe(true)
      // Well under the default timeout (2 seconds).
      expect(built.millis).toBeLessThan(1_500)
    }).pipe(Effect.scoped)
  )

  /** A layer in use (a reservation and a permit held) when Redis goes away: kill or freeze. */
  const midRun = (
    what: string,
    away: (redis: RedisServer.RedisServer) => Effect.Effect<void>,
    guards: ReadonlyArray<keyof typeof steps>
  ) =>
    Effect.gen(function* () {
      const redis = yield* serverFor()
      const { use, close } = yield* buildTimed(`${what}: build`, layerOn(redis.url))
      const reservation: Reservation = yield* use(Budget.reserve("a", 1))
      const holder = yield* Effect.fork(use(Concurrency.withPermit(Effect.never)))
      yield* use(Effect.repeat(Concurrency.snapshot, { until: (s) => s.inFlight === 1 }))
      yield* away(redis)
      yield* failsClosed(what, use, guards)
      // Settling and giving back cannot reach Redis: each ends on time, its step left to the outbox.
      const committed = yield* timed(`${what}: commit`, use(Budget.commit(reservation, 0.5)))
      expect(committed.millis).toBeLessThan(bound)
      expect(Exit.isSuccess(committed.exit)).toBe(true)
      const interrupted = yield* timed(`${what}: interrupt a permit holder`, Fiber.interrupt(holder))
      expect(interrupted.millis).toBeLessThan(bound)
      // Admitted or refused, a call through the breaker ends on time (its outcome recorded, or left to the outbox).
      const tracked = yield* timed(`${what}: a call through the breaker`, use(CircuitBreaker.protect(Effect.void)))
      expect(tracked.millis).toBeLessThan(bound)
      // A snapshot waits for Redis, interruptibly: a deadline around it ends it within the timeout.
      const snapshot = yield* timed(
        `${what}: snapshot under a 100 ms deadline`,
        use(Effect.timeout(Budget.snapshot, 100))
      )
      expect(snapshot.millis).toBeLessThan(bound)
      expect(Exit.isFailure(snapshot.exit)).toBe(true)
      yield* close
      return redis
    })

  it.live(
    "Redis killed mid-run: steps fail at once, settlements wait in the outbox, and the layer closes on time",
    () =>
      midRun("killed mid-run", (redis) => Effect.promise(redis.kill), ["budget", "concurrency", "breaker"]).pipe(
        Effect.scoped
      ),
    30_000
  )

  it.live(
    "Redis frozen mid-run: steps fail within the timeout, the layer closes on time, and so does the frozen server",
    () =>
      Effect.gen(function* () {
        const redis = yield* midRun("frozen mid-run", (redis) => Effect.sync(redis.freeze), ["budget", "concurrency"])
        const stopped = yield* timed("frozen server: stop", Effect.promise(redis.stop))
        expect(stopped.millis).toBeLessThan(bound)
      }).pipe(Effect.scoped),
    30_000
  )
})

withRedis("Redis guards: credentials Redis refuses", () => {
  const secret = "wrong-secret-7f3a9c"
  const withPassword = (url: string, password: string) => url.replace("redis://", `redis://:${password}@`)

  /** Builds, capturing what was logged; answers the failure, its pretty cause and the log. */
  const refusal = (layer: Layer.Layer<RedisGuardServices, unknown>) =>
    Effect.gen(function* () {
      const logged: Array<string> = []
      const logger = Logger.make(({ message, cause }) => {
        logged.push(`${JSON.stringify(message)} ${Cause.pretty(cause)}`)
      })
      const built = yield* timed(
        "wrong credentials: build",
        Effect.scoped(Layer.build(layer)).pipe(Effect.provide(Logger.replace(Logger.defaultLogger, logger)))
      )
      expect(built.millis).toBeLessThan(bound)
      if (Exit.isSuccess(built.exit)) return expect.fail("the layer built with credentials Redis refuses")
      const error = Cause.squash(built.exit.cause)
      const told = [String(error), JSON.stringify(error), Cause.pretty(built.exit.cause), ...logged].join("\n")
      return { error, told }
    })

  for (const failOpen of [false, true]) {
    it.live(`a wrong password fails the build at once, saying so, never showing it (failOpen: ${failOpen})`, () =>
      Effect.gen(function* () {
        const redis = yield* serverFor({ password: "the-right-one" })
        const { error, told } = yield* refusal(layerOn(withPassword(redis.url, secret), { failOpen }))
        expect(error).toMatchObject({ _tag: "InvalidOption", option: "url" })
        expect(String(error)).toContain("authentication failed")
        expect(told).not.toContain(secret)
      }).pipe(Effect.scoped)
    )
  }

  it.live("a client with a wrong password: the build fails naming client, and shows nothing of it", () =>
    Effect.gen(function* () {
      const redis = yield* serverFor({ password: "the-right-one" })
      const client = yield* Effect.acquireRelease(
        Effect.sync(() => new Redis(withPassword(redis.url, secret), { lazyConnect: true })),
        (client) => Effect.sync(() => client.disconnect())
      )
      const { error, told } = yield* refusal(
        RedisGuards.layer({ client, prefix: freshPrefix(), lease: "3 seconds", ...defaults })
      )
      expect(error).toMatchObject({ _tag: "InvalidOption", option: "client" })
      expect(String(error)).toContain("authentication failed")
      expect(told).not.toContain(secret)
    }).pipe(Effect.scoped)
  )

  it.live("no password where one is required: NOAUTH, authentication failed; the right one works", () =>
    Effect.gen(function* () {
      const redis = yield* serverFor({ password: "the-right-one" })
      const { error } = yield* refusal(layerOn(redis.url))
      expect(String(error)).toContain("authentication failed")
      expect(String(error)).toContain("NOAUTH")
      const spent = yield* Effect.gen(function* () {
        yield* Budget.commit(yield* Budget.reserve("a", 1), 0.25)
        return yield* Budget.snapshot
      }).pipe(Effect.provide(layerOn(withPassword(redis.url, "the-right-one"))))
      expect(spent.spentUsd).toBe(0.25)
    }).pipe(Effect.scoped)
  )

  it.live("from the environment: the variable is named, the password is not shown", () =>
    Effect.gen(function* () {
      const redis = yield* serverFor({ password: "the-right-one" })
      const env = {
        FLEETGUARD_REDIS_URL: withPassword(redis.url, secret),
        FLEETGUARD_REDIS_PREFIX: freshPrefix(),
        FLEETGUARD_BUDGET_USD: "5"
      }
      const exit = yield* Effect.exit(
        Effect.withConfigProvider(
          Effect.provide(Budget.snapshot, RedisGuards.layerConfig()),
          ConfigProvider.fromMap(new Map(Object.entries(env)))
        )
      )
      expect(Exit.isFailure(exit)).toBe(true)
      const told = Exit.isFailure(exit) ? Cause.pretty(exit.cause) : ""
      expect(told).toContain("FLEETGUARD_REDIS_URL")
      expect(told).toContain("authentication failed")
      expect(told).not.toContain(secret)
    }).pipe(Effect.scoped)
  )

  it.live("a URL refused as an option never shows its password either", () =>
    Effect.gen(function* () {
      for (const url of [`http://user:${secret}@example.com:6379`, `http://example.com:6379/?password=${secret}`]) {
        const error = yield* Effect.flip(Effect.scoped(Layer.build(layerOn(url))))
        expect(error).toMatchObject({ _tag: "InvalidOption", option: "url" })
        expect(`${String(error)} ${JSON.stringify(error)}`).not.toContain(secret)
      }
    })
  )
})

it.effect("the layer's background fibers are told to stop when it closes, and not waited for", () =>
  Effect.gen(function* () {
    const scope = yield* Scope.make()
    const background = yield* Scope.extend(Background.make, scope)
    const stopped = yield* Deferred.make<void>()
    const ran = yield* Deferred.make<void>()
    // A fiber inside a step that cannot be interrupted (a script against a Redis that does not answer).
    background.run(
      Effect.onInterrupt(Effect.uninterruptible(Effect.sleep("1 hour")), () => Deferred.succeed(stopped, undefined))
    )
    yield* Effect.yieldNow()
    yield* Scope.close(scope, Exit.void)
    expect(yield* Deferred.isDone(stopped)).toBe(false)
    background.run(Deferred.succeed(ran, undefined))
    yield* TestClock.adjust("1 hour")
    yield* Deferred.await(stopped)
    expect(yield* Deferred.isDone(ran)).toBe(false)
  })
)
