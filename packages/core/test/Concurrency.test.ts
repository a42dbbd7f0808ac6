import { describe, expect, it } from "@effect/vitest"
import { Clock, ConfigProvider, Duration, Effect, Fiber, FastCheck as fc, Ref, TestClock, TestContext } from "effect"
import { Concurrency } from "../src/index.js"

const withConcurrency = <A, E>(maxConcurrency: number, self: Effect.Effect<A, E, Concurrency>, releaseWindow = 1_000) =>
  Effect.provide(self, Concurrency.layer({ maxConcurrency, releaseWindow: Duration.millis(releaseWindow) }))

/** Every permit can be taken at once, and not one more. */
const allPermitsBack = Effect.gen(function* () {
  const c = yield* Concurrency
  const holders = yield* Effect.forEach(Array.from({ length: c.limit + 1 }), () =>
    Effect.fork(c.withPermit(Effect.never))
  )
  yield* Effect.yieldNow()
  const snap = yield* c.snapshot
  expect(snap).toMatchObject({ inFlight: c.limit, waiting: 1 })
  yield* Fiber.interruptAll(holders)
  expect(yield* c.snapshot).toMatchObject({ inFlight: 0, waiting: 0 })
})

type Outcome = "succeed" | "fail" | "die" | "interrupt"

describe("Concurrency", () => {
  it.effect.prop(
    "in-flight never exceeds the limit, and every permit comes back whatever the callers do",
    {
      limit: fc.integer({ min: 1, max: 8 }),
      callers: fc.array(
        fc.record({
          holdMillis: fc.integer({ min: 0, max: 20 }),
          outcome: fc.constantFrom<Outcome>("succeed", "fail", "die", "interrupt"),
          interruptAt: fc.integer({ min: 0, max: 40 })
        }),
        { maxLength: 40 }
      )
    },
    ({ limit, callers }) =>
      withConcurrency(
        limit,
        Effect.gen(function* () {
          const c = yield* Concurrency
          const inside = yield* Ref.make(0)
          const peak = yield* Ref.make(0)
          const body = (holdMillis: number, outcome: Outcome) =>
            Effect.gen(function* () {
              const now = yield* Ref.updateAndGet(inside, (n) => n + 1)
              yield* Ref.update(peak, (p) => Math.max(p, now))
              expect((yield* c.snapshot).inFlight).toBeLessThanOrEqual(limit)
              yield* Effect.sleep(Duration.millis(holdMillis)).pipe(Effect.ensuring(Ref.update(inside, (n) => n - 1)))
              if (outcome === "fail") return yield* Effect.fail("failed")
              if (outcome === "die") return yield* Effect.die("died")
            })
          const fibers = yield* Effect.forEach(callers, ({ holdMillis, outcome }) =>
            Effect.fork(c.withPermit(outcome === "interrupt" ? Effect.never : body(holdMillis, outcome)))
          )
          yield* Effect.forEach(callers, ({ interruptAt, outcome }, i) =>
            outcome === "interrupt" || interruptAt < 5
              ? Effect.fork(Effect.delay(Fiber.interrupt(fibers[i] as Fiber.RuntimeFiber<void, string>), interruptAt))
              : Effect.void
          )
          yield* TestClock.adjust(Duration.millis(20 * callers.length + 50))
          yield* Effect.forEach(fibers, Fiber.await)
          expect(yield* Ref.get(peak)).toBeLessThanOrEqual(limit)
          expect(yield* c.snapshot).toMatchObject({ inFlight: 0, waiting: 0 })
          yield* allPermitsBack
        })
      ),
    { fastCheck: { numRuns: 50 } }
  )

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

  it.effect("a later, longer pause extends the gate; a shorter one never shortens it", () =>
    withConcurrency(
      1,
      Effect.gen(function* () {
        const c = yield* Concurrency
        yield* c.pauseFor("1 second")
        yield* c.pauseFor("200 millis")
        expect((yield* c.snapshot).pausedUntil).toBe(1_000)
        yield* TestClock.adjust("500 millis")
        yield* c.pauseFor("2 seconds")
        expect((yield* c.snapshot).pausedUntil).toBe(2_500)
      })
    )
  )

  it.prop(
    "the gate never closes longer than maxPause, whatever it is asked; nonsense closes nothing",
    {
      maxPause: fc.integer({ min: 1, max: 600_000 }),
      asks: fc.array(
        fc.oneof(
          fc.integer({ min: 0, max: 10 ** 12 }),
          fc.constantFrom(Number.POSITIVE_INFINITY, Number.NaN, -1, 10 ** 400, Duration.infinity, "soon")
        ),
        { maxLength: 8 }
      )
    },
    ({ maxPause, asks }) =>
      Effect.runSync(
        Effect.gen(function* () {
          const c = yield* Concurrency
          for (const ask of asks) {
            yield* c.pauseFor(ask as Duration.DurationInput)
            const { pausedUntil } = yield* c.snapshot
            expect(pausedUntil ?? 0).toBeLessThanOrEqual(maxPause)
          }
        }).pipe(
          Effect.provide(Concurrency.layer({ maxConcurrency: 1, maxPause: maxPause })),
          Effect.provide(TestContext.TestContext)
        )
      )
  )

  it.effect("resume reopens the gate at once and wakes every waiter", () =>
    withConcurrency(
      2,
      Effect.gen(function* () {
        const c = yield* Concurrency
        yield* c.pauseFor("10 seconds")
        const starts: Array<number> = []
        const waiters = yield* Effect.forEach(Array.from({ length: 3 }), () =>
          Effect.fork(c.withPermit(Effect.map(Clock.currentTimeMillis, (now) => starts.push(now))))
        )
        yield* TestClock.adjust("2 seconds")
        expect(starts).toEqual([])
        yield* c.resume
        yield* Fiber.joinAll(waiters)
        expect(starts).toEqual([2_000, 2_000, 2_000])
        expect(yield* c.snapshot).toMatchObject({ pausedUntil: null, inFlight: 0, waiting: 0 })
      })
    )
  )

  it.effect("waiting is interruptible and leaves no trace", () =>
    withConcurrency(
      1,
      Effect.gen(function* () {
        const c = yield* Concurrency
        const holder = yield* Effect.fork(c.withPermit(Effect.never))
        const waiter = yield* Effect.fork(c.withPermit(Effect.void))
        yield* Effect.yieldNow()
        expect(yield* c.snapshot).toMatchObject({ inFlight: 1, waiting: 1 })
        yield* Fiber.interrupt(waiter)
        expect(yield* c.snapshot).toMatchObject({ inFlight: 1, waiting: 0 })
        yield* c.pauseFor("1 second")
        const gated = yield* Effect.fork(c.withPermit(Effect.void))
        yield* Effect.yieldNow()
        yield* Fiber.interrupt(gated)
        yield* Fiber.interrupt(holder)
        expect(yield* c.snapshot).toMatchObject({ inFlight: 0, waiting: 0 })
      })
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
