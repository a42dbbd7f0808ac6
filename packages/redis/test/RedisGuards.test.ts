import { expect, it } from "@effect/vitest"
import {
  Backend,
  Budget,
  type CircuitBreaker,
  Concurrency,
  Depth,
  GuardEvents,
  GuardUnavailable,
  LlmClient,
  Pricing,
  Retry
} from "@fleetguard/core"
import { RedisGuards } from "@fleetguard/redis"
import { TestProvider } from "@fleetguard/testing"
import { ConfigProvider, Effect, Exit, Fiber, FastCheck as fc, Layer, Schedule } from "effect"
import { Redis } from "ioredis"
import * as Scripts from "../src/internal/scripts/breaker.js"
import type { Script } from "../src/internal/scripts/script.js"
import * as Store from "../src/internal/store.js"
import { defaults, freshPrefix, guards, withRedis } from "./support.js"

const request = { model: "claude-haiku-4-5", maxTokens: 100, messages: [{ role: "user" as const, content: "hi" }] }

/** LlmClient over Redis guards and an instant in-memory provider. */
const client = (redis: Layer.Layer<Budget | Concurrency | CircuitBreaker, unknown>) =>
  LlmClient.layer.pipe(
    Layer.provideMerge(
      Layer.mergeAll(
        redis,
        Depth.layer({ maxDepth: 2, maxFanOut: 2 }),
        Pricing.layer(),
        Retry.layer({ maxAttempts: 1 }),
        TestProvider.layer()
      )
    ),
    Layer.provideMerge(GuardEvents.layer())
  )

/** Every permit can be taken at once: none leaked. */
const allPermitsFree = Effect.gen(function* () {
  const c = yield* Concurrency
  const holders = yield* Effect.forEach(Array.from({ length: c.limit }), () => Effect.fork(c.withPermit(Effect.never)))
  const snapshot = yield* Effect.repeat(c.snapshot, { until: (s) => s.inFlight === c.limit })
  yield* Fiber.interruptAll(holders)
  return snapshot.waiting
})

withRedis("Redis guards: failures of Redis itself", (server) => {
  it.live(
    "Redis stopped and restarted mid-run: calls fail closed with GuardUnavailable, then recover; nothing leaks",
    () =>
      Effect.gen(function* () {
        const redis = server()
        // A call in flight across the outage: its settlement waits in the outbox and lands afterwards.
        const across = yield* Effect.fork(
          LlmClient.completeWith(request, {
            send: Effect.as(Effect.sleep("800 millis"), {
              text: "",
              model: request.model,
              stopReason: "end_turn",
              usage: { inputTokens: 10, outputTokens: 10, cacheCreationInputTokens: 0, cacheReadInputTokens: 0 }
            })
          })
        )
        yield* Effect.eventually(
          Effect.flatMap(Concurrency.snapshot, (s) => (s.inFlight === 1 ? Effect.void : Effect.fail("not yet")))
        )
        yield* Effect.promise(() => redis.stop())
        const refused = yield* Effect.flip(LlmClient.complete(request))
        expect(refused).toBeInstanceOf(GuardUnavailable)
        expect(refused).toMatchObject({ guard: "budget" })
        // The call in flight ends while Redis is away: its settlement and its permit wait in the outbox.
        yield* Effect.sleep("1200 millis")
        yield* Effect.promise(() => redis.start())
        const answered = yield* LlmClient.complete(request).pipe(
          Effect.retry({
            while: (e) => e._tag === "GuardUnavailable",
            schedule: Schedule.intersect(Schedule.spaced("50 millis"), Schedule.recurs(400))
          })
        )
        const slow = yield* Fiber.join(across)
        const spent = answered.costUsd + slow.costUsd
        const budget = yield* Effect.repeat(Budget.snapshot, {
          until: (s) => Math.abs(s.spentUsd - spent) < 1e-12 && s.reservedUsd === 0
        })
        expect(budget.reservedUsd).toBe(0)
        expect(yield* allPermitsFree).toBe(0)
      }).pipe(Effect.provide(client(guards(server(), { lease: "4 seconds", timeout: "300 millis" })))),
    60_000
  )

  it.live(
    "failing open, calls run while Redis is away and their cost reaches the ledger when it is back",
    () =>
      Effect.gen(function* () {
        const redis = server()
        yield* Effect.promise(() => redis.stop())
        const completion = yield* LlmClient.complete(request)
        yield* Effect.promise(() => redis.start())
        const budget = yield* Effect.repeat(Budget.snapshot, { until: (s) => s.spentUsd > 0 })
        expect(budget.spentUsd).toBeCloseTo(completion.costUsd, 12)
        expect(budget.reservedUsd).toBe(0)
      }).pipe(Effect.provide(client(guards(server(), { failOpen: true, timeout: "300 millis" })))),
    60_000
  )

  it.live(
    "a fleet's keys expire once it has been idle for idleExpiry, and not while a process is attached",
    () =>
      Effect.gen(function* () {
        const prefix = freshPrefix()
        const layer = guards(server(), {
          prefix,
          lease: "500 millis",
          timeout: "400 millis",
          idleExpiry: "1500 millis"
        })
        const inspect = yield* Effect.acquireRelease(
          Effect.sync(() => new Redis(server().url)),
          (redis) => Effect.sync(() => redis.disconnect())
        )
        const keys = Effect.promise(() => inspect.keys(`${prefix}:*`))
        yield* Effect.provide(
          Effect.gen(function* () {
            const reservation = yield* Budget.reserve("a", 1)
            yield* Budget.commit(reservation, 0.5)
            yield* Concurrency.withPermit(Effect.void)
            yield* Effect.sleep("2 seconds")
            expect((yield* keys).length).toBeGreaterThan(0)
          }),
          layer
        )
        expect((yield* Effect.repeat(keys, { until: (found) => found.length === 0 })).length).toBe(0)
      }).pipe(Effect.scoped),
    30_000
  )
})

withRedis("Redis guards: the breaker's scripts follow core's policy", (server) => {
  type Op =
    | { readonly _tag: "admit" }
    | { readonly _tag: "end"; readonly pick: number; readonly outcome: Backend.Breaker.Outcome }
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.constant({ _tag: "admit" as const }),
    fc.record({
      _tag: fc.constant("end" as const),
      pick: fc.nat(),
      outcome: fc.constantFrom<Backend.Breaker.Outcome>("success", "failure", "failure", "ignored")
    })
  )
  const policy: fc.Arbitrary<Backend.Breaker.Policy> = fc.oneof(
    fc.record({ _tag: fc.constant("Consecutive" as const), threshold: fc.integer({ min: 1, max: 4 }) }),
    fc
      .record({
        _tag: fc.constant("FailureRate" as const),
        threshold: fc.constantFrom(0.25, 0.5, 1),
        windowSize: fc.integer({ min: 1, max: 6 })
      })
      .chain((p) => fc.integer({ min: 1, max: p.windowSize }).map((minimumCalls) => ({ ...p, minimumCalls })))
  )

  // resetAfter 0: an opened breaker admits its probes at once, so no instant in Redis and in the
  // model can differ; every transition of the policy is reachable.
  it.live.prop(
    "the same admissions, transitions and states as internal/breaker.ts, for any sequence of calls",
    { policy, halfOpenMaxCalls: fc.integer({ min: 1, max: 3 }), ops: fc.array(op, { maxLength: 60 }) },
    ({ policy, halfOpenMaxCalls, ops }) =>
      Effect.gen(function* () {
        const settings: Backend.Breaker.Settings = {
          policy,
          resetAfterMillis: 0,
          backoffFactor: 1,
          maxResetAfterMillis: 0,
          halfOpenMaxCalls
        }
        const store = yield* Store.make({
          url: server().url,
          client: undefined,
          prefix: freshPrefix(),
          timeoutMillis: 2_000,
          idleMillis: 60_000
        })
        const args = [
          60_000,
          store.keys.channel,
          policy._tag,
          policy.threshold,
          policy._tag === "FailureRate" ? policy.windowSize : 0,
          policy._tag === "FailureRate" ? policy.minimumCalls : 0,
          0,
          1,
          0,
          halfOpenMaxCalls
        ]
        const run = (script: Script, ...extra: ReadonlyArray<string | number>) =>
          Effect.map(store.run(script, [store.keys.breaker], [...args, ...extra]), (reply) =>
            Array.isArray(reply) ? reply : [reply]
          )
        let model = Backend.Breaker.closed(settings)
        const running: Array<Backend.Breaker.Ticket> = []
        for (const o of ops) {
          if (o._tag === "admit") {
            const [admission, next] = Backend.Breaker.admit(settings, model, 0)
            model = next
            const [admitted, generation] = yield* run(Scripts.admit)
            expect(admitted).toBe(admission._tag)
            if (admission._tag === "Admitted") {
              expect(generation).toBe(admission.ticket.generation)
              running.push(admission.ticket)
            }
          } else if (running.length > 0) {
            const [ticket] = running.splice(o.pick % running.length, 1)
            if (ticket === undefined) continue
            const [transition, next] = Backend.Breaker.record(settings, model, ticket, o.outcome, 0)
            model = next
            const [kind] = yield* run(Scripts.record, ticket.generation, o.outcome)
            expect(kind).toBe(transition?._tag ?? "Unchanged")
          }
          const [state, generation] = yield* run(Scripts.state)
          expect({ state, generation }).toEqual({ state: model._tag, generation: model.generation })
        }
      }).pipe(Effect.scoped),
    { fastCheck: { numRuns: 40 } }
  )
})

withRedis("RedisGuards options", (server) => {
  it.live("takes its connection settings from a client, which it leaves as it was", () =>
    Effect.gen(function* () {
      const client = yield* Effect.acquireRelease(
        Effect.sync(() => new Redis(server().url, { enableOfflineQueue: false, lazyConnect: true })),
        (redis) => Effect.sync(() => redis.disconnect())
      )
      const guarded = Effect.gen(function* () {
        const reservation = yield* Budget.reserve("a", 1)
        yield* Budget.commit(reservation, 0.25)
        return yield* Budget.snapshot
      })
      const snapshot = yield* Effect.provide(
        guarded,
        RedisGuards.layer({ client, prefix: freshPrefix(), lease: "2 seconds", ...defaults })
      )
      expect(snapshot).toMatchObject({ spentUsd: 0.25, reservedUsd: 0 })
      expect(client.status).toBe("wait")
    }).pipe(Effect.scoped)
  )

  it.live("a bad option fails the layer naming it; a bad variable fails naming the variable", () =>
    Effect.gen(function* () {
      const build = (options: Partial<Parameters<typeof RedisGuards.layer>[0]>) =>
        Effect.flip(
          Layer.build(
            RedisGuards.layer({ prefix: "p", ...defaults, ...options } as Parameters<typeof RedisGuards.layer>[0])
          )
        ).pipe(Effect.scoped)
      expect(yield* build({ url: "http://example.com" })).toMatchObject({ _tag: "InvalidOption", option: "url" })
      expect(yield* build({ prefix: "" })).toMatchObject({ option: "prefix" })
      expect(yield* build({ lease: "10 millis" })).toMatchObject({ option: "lease" })
      expect(yield* build({ budget: { limitUsd: -1 } })).toMatchObject({ option: "budget.limitUsd" })
      expect(yield* build({ breaker: { ...defaults.breaker, halfOpenMaxCalls: 0 } })).toMatchObject({
        option: "breaker.halfOpenMaxCalls"
      })
      const read = (env: Record<string, string>) =>
        Effect.withConfigProvider(
          Effect.provide(Concurrency.snapshot, RedisGuards.layerConfig()),
          ConfigProvider.fromMap(new Map(Object.entries(env)))
        )
      const base = { FLEETGUARD_REDIS_URL: server().url, FLEETGUARD_BUDGET_USD: "5" }
      expect(
        yield* read({ ...base, FLEETGUARD_MAX_CONCURRENCY: "3", FLEETGUARD_REDIS_PREFIX: freshPrefix() })
      ).toMatchObject({ limit: 3, inFlight: 0 })
      expect(String(yield* Effect.flip(read({ FLEETGUARD_BUDGET_USD: "5" })))).toContain("FLEETGUARD_REDIS_URL")
      expect(String(yield* Effect.flip(read({ ...base, FLEETGUARD_REDIS_LEASE: "soon" })))).toContain(
        "FLEETGUARD_REDIS_LEASE"
      )
      expect(String(yield* Effect.flip(read({ ...base, FLEETGUARD_MAX_CONCURRENCY: "0" })))).toContain(
        "FLEETGUARD_MAX_CONCURRENCY"
      )
      const exit = yield* Effect.exit(
        Effect.withConfigProvider(
          Effect.provide(Budget.snapshot, RedisGuards.guardsLayerConfig()),
          ConfigProvider.fromMap(new Map([["FLEETGUARD_BUDGET_USD", "5"]]))
        )
      )
      // Without FLEETGUARD_REDIS_URL: the in-memory guards.
      expect(Exit.isSuccess(exit) && exit.value.limitUsd).toBe(5)
    })
  )
})
