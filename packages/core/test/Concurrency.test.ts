import { describe, expect, it } from "@effect/vitest"
import { Clock, ConfigProvider, Duration, Effect, Fiber, FastCheck as fc, TestClock } from "effect"
import { Concurrency } from "../src/index.js"

const withConcurrency = <A, E>(maxConcurrency: number, self: Effect.Effect<A, E, Concurrency>, releaseWindow = 1_000) =>
  Effect.provide(self, Concurrency.layer({ maxConcurrency, releaseWindow: Duration.millis(releaseWindow) }))

describe("Concurrency", () => {
  it.effect.prop(
    "no permit is granted while the gate is closed, whatever the pauses and callers",
    {
      limit: fc.integer({ min: 1, max: 4 }),
      pauses: fc.array(
        fc.record({ at: fc.integer({ min: 0, max: 3_000 }), millis: fc.integer({ min: 1, max: 2_000 }) }),
        { minLength: 1, maxLength: 4 }
      ),
      callers: fc.array(
        fc.record({ at: fc.integer({ min: 0, max: 3_000 }), holdMillis: fc.integer({ min: 0, max: 300 }) }),
        { minLength: 2, maxLength: 30 }
      )
    },
    ({ limit, pauses, callers }) =>
      withConcurrency(
        limit,
        Effect.gen(function* () {
          const c = yield* Concurrency
          const starts: Array<number> = []
          yield* Effect.forEach(pauses, ({ at, millis }) =>
            Effect.fork(Effect.delay(c.pauseFor(Duration.millis(millis)), Duration.millis(at)))
          )
          const fibers = yield* Effect.forEach(callers, ({ at, holdMillis }) =>
            Effect.fork(
              Effect.delay(
                c.withPermit(
                  Effect.zipRight(
                    Effect.map(Clock.currentTimeMillis, (now) => starts.push(now)),
                    Effect.sleep(Duration.millis(holdMillis))
                  )
                ),
                Duration.millis(at)
              )
            )
          )
          yield* TestClock.adjust(Duration.seconds(30))
          yield* Fiber.joinAll(fibers)
          expect(starts).toHaveLength(callers.length)
          for (const start of starts) {
            for (const pause of pauses) {
              // A start in the very instant of a pause may have come first; after it, none.
              expect(start > pause.at && start < pause.at + pause.millis).toBe(false)
            }
          }
        })
      ),
    { fastCheck: { numRuns: 60 } }
  )

  it.effect("reopening releases the waiters spread over the release window, never all at once", () =>
    withConcurrency(
      100,
      Effect.gen(function* () {
        const c = yield* Concurrency
        const starts: Array<number> = []
        yield* c.pauseFor("5 seconds")
        const fibers = yield* Effect.forEach(Array.from({ length: 20 }), () =>
          Effect.fork(c.withPermit(Effect.map(Clock.currentTimeMillis, (now) => starts.push(now))))
        )
        yield* TestClock.adjust(Duration.millis(4_999))
        expect(starts).toEqual([])
        expect(yield* c.snapshot).toMatchObject({ waiting: 20, inFlight: 0, pausedUntil: 5_000 })
        yield* TestClock.adjust(Duration.seconds(1))
        yield* Fiber.joinAll(fibers)
        expect(Math.min(...starts)).toBe(5_000)
        expect(Math.max(...starts)).toBeLessThan(6_000)
        expect(new Set(starts).size).toBe(20)
        expect((yield* c.snapshot).pausedUntil).toBeNull()
      }),
      1_000
    )
  )

  it.effect("a caller that waited for a permit gives it back if the gate closed meanwhile", () =>
    withConcurrency(
      1,
      Effect.gen(function* () {
        const c = yield* Concurrency
        const starts: Array<number> = []
        const holder = yield* Effect.fork(c.withPermit(Effect.sleep("100 millis")))
        const waiter = yield* Effect.fork(c.withPermit(Effect.map(Clock.currentTimeMillis, (now) => starts.push(now))))
        yield* Effect.yieldNow()
        yield* c.pauseFor("500 millis")
        yield* TestClock.adjust("100 millis")
        yield* Fiber.join(holder)
        expect(yield* c.snapshot).toMatchObject({ inFlight: 0, waiting: 1 })
        yield* TestClock.adjust("400 millis")
        yield* Fiber.join(waiter)
        expect(starts).toEqual([500])
      }),
      0
    )
  )

  it.effect("fails on bad options naming the option, and reads its variables", () =>
    Effect.gen(function* () {
      expect(yield* Effect.flip(Concurrency.make({ maxConcurrency: 0 }))).toMatchObject({ option: "maxConcurrency" })
      expect(yield* Effect.flip(Concurrency.make({ maxConcurrency: 1.5 }))).toMatchObject({ option: "maxConcurrency" })
      const read = (env: Record<string, string>) =>
        Effect.withConfigProvider(
          Effect.provide(Concurrency.snapshot, Concurrency.layerConfig()),
          ConfigProvider.fromMap(new Map(Object.entries(env)))
        )
      expect((yield* read({ FLEETGUARD_MAX_CONCURRENCY: "3" })).limit).toBe(3)
      expect((yield* read({})).limit).toBe(8)
      expect(String(yield* Effect.flip(read({ FLEETGUARD_MAX_CONCURRENCY: "0" })))).toContain(
        "FLEETGUARD_MAX_CONCURRENCY"
      )
      expect(String(yield* Effect.flip(read({ FLEETGUARD_MAX_CONCURRENCY: "many" })))).toContain(
        "FLEETGUARD_MAX_CONCURRENCY"
      )
    })
  )
})
