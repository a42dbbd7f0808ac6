/** The Concurrency contract, for any backend (see backend.ts). */
import { describe, expect } from "@effect/vitest"
import { Chunk, Clock, Duration, Effect, Fiber, FastCheck as fc, Metric, Queue, Ref } from "effect"
import { Concurrency, Events, Metrics } from "../../src/index.js"
import { type Backend, eventually, withHub } from "./backend.js"

type Outcome = "succeed" | "fail" | "die" | "interrupt"

export const concurrencyContract = (backend: Backend) => {
  const { it } = backend
  const withConcurrency = <A, E>(
    options: Parameters<typeof Concurrency.layer>[0],
    self: Effect.Effect<A, E, Concurrency>
  ) => Effect.provide(self, backend.concurrency(options))

  /** Every permit can be taken at once, and not one more. */
  const allPermitsBack = Effect.gen(function* () {
    const c = yield* Concurrency
    const holders = yield* Effect.forEach(Array.from({ length: c.limit + 1 }), () =>
      Effect.fork(c.withPermit(Effect.never))
    )
    yield* eventually(c.snapshot, (s) => s.inFlight === c.limit && s.waiting === 1)
    yield* Fiber.interruptAll(holders)
    expect(yield* c.snapshot).toMatchObject({ inFlight: 0, waiting: 0 })
  })

  describe(`Concurrency contract (${backend.name})`, () => {
    it.prop(
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
          { maxConcurrency: limit },
          Effect.gen(function* () {
            const c = yield* Concurrency
            const inside = yield* Ref.make(0)
            const peak = yield* Ref.make(0)
            const body = (holdMillis: number, outcome: Outcome) =>
              Effect.gen(function* () {
                const now = yield* Ref.updateAndGet(inside, (n) => n + 1)
                yield* Ref.update(peak, (p) => Math.max(p, now))
                yield* Effect.sleep(holdMillis).pipe(Effect.ensuring(Ref.update(inside, (n) => n - 1)))
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
            yield* backend.advance(20 * callers.length + 50)
            yield* Effect.forEach(fibers, Fiber.await)
            expect(yield* Ref.get(peak)).toBeLessThanOrEqual(limit)
            expect(yield* c.snapshot).toMatchObject({ inFlight: 0, waiting: 0 })
            yield* allPermitsBack
          })
        ),
      { fastCheck: { numRuns: backend.samples(50) } }
    )

    it("no caller passes while the gate is closed; reopening lets every waiter through, spread out", () =>
      withConcurrency(
        { maxConcurrency: 100, releaseWindow: Duration.millis(200) },
        Effect.gen(function* () {
          const c = yield* Concurrency
          const starts: Array<number> = []
          yield* c.pauseFor("400 millis")
          const { pausedUntil } = yield* c.snapshot
          const fibers = yield* Effect.forEach(Array.from({ length: 20 }), () =>
            Effect.fork(c.withPermit(Effect.map(Clock.currentTimeMillis, (now) => starts.push(now))))
          )
          yield* eventually(c.snapshot, (s) => s.waiting === 20)
          expect(starts).toEqual([])
          yield* backend.advance(700)
          yield* Fiber.joinAll(fibers)
          expect(starts).toHaveLength(20)
          expect(Math.min(...starts)).toBeGreaterThanOrEqual(pausedUntil ?? Number.POSITIVE_INFINITY)
          // Spread over the window, not released in one instant.
          expect(Math.max(...starts) - Math.min(...starts)).toBeGreaterThanOrEqual(100)
          expect((yield* c.snapshot).pausedUntil).toBeNull()
        })
      ))

    it("a later, longer pause extends the gate; a shorter one never shortens it", () =>
      withConcurrency(
        { maxConcurrency: 1 },
        Effect.gen(function* () {
          const c = yield* Concurrency
          yield* c.pauseFor("10 seconds")
          const first = (yield* c.snapshot).pausedUntil ?? 0
          yield* c.pauseFor("200 millis")
          expect((yield* c.snapshot).pausedUntil).toBe(first)
          yield* backend.advance(50)
          yield* c.pauseFor("20 seconds")
          expect((yield* c.snapshot).pausedUntil).toBeGreaterThan(first + 9_000)
        })
      ))

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
        withConcurrency(
          { maxConcurrency: 1, maxPause },
          Effect.gen(function* () {
            const c = yield* Concurrency
            for (const ask of asks) {
              yield* c.pauseFor(ask as Duration.DurationInput)
              const after = yield* Clock.currentTimeMillis
              const { pausedUntil } = yield* c.snapshot
              expect(pausedUntil ?? 0).toBeLessThanOrEqual(after + maxPause)
            }
          })
        ),
      { fastCheck: { numRuns: backend.samples(100) } }
    )

    it("a burst of 429s is one pause: the first closes the gate, the rest only move its end", () =>
      Effect.provide(
        Effect.gen(function* () {
          const c = yield* Concurrency
          const events = yield* Events.subscribe
          const before = (yield* Metric.value(Metrics.concurrencyPauses)).count
          for (let i = 0; i < 5; i++) {
            yield* c.pauseFor(Duration.millis(1_000 + 10 * i))
            yield* backend.advance(5)
          }
          yield* eventually(Queue.size(events), (n) => n === 5)
          const pauses = Chunk.toReadonlyArray(yield* Queue.takeAll(events)).filter(
            (e): e is Events.RateLimitPause => e._tag === "RateLimitPause"
          )
          expect(pauses.map((p) => p.extended)).toEqual([false, true, true, true, true])
          expect((yield* Metric.value(Metrics.concurrencyPauses)).count - before).toBe(1)
          // Once the gate has reopened, the next 429 is a new pause.
          yield* backend.advance(1_100)
          yield* c.pauseFor("1 second")
          const next = yield* Queue.take(events)
          expect(next).toMatchObject({ _tag: "RateLimitPause", extended: false })
          expect((yield* Metric.value(Metrics.concurrencyPauses)).count - before).toBe(2)
        }),
        withHub(backend.concurrency({ maxConcurrency: 2 }))
      ).pipe(Effect.scoped))

    it("resume reopens the gate at once and wakes every waiter", () =>
      withConcurrency(
        { maxConcurrency: 2 },
        Effect.gen(function* () {
          const c = yield* Concurrency
          yield* c.pauseFor("10 seconds")
          let started = 0
          const waiters = yield* Effect.forEach(Array.from({ length: 3 }), () =>
            Effect.fork(c.withPermit(Effect.sync(() => started++)))
          )
          yield* eventually(c.snapshot, (s) => s.waiting === 3)
          yield* backend.advance(100)
          expect(started).toBe(0)
          yield* c.resume
          yield* Fiber.joinAll(waiters)
          expect(started).toBe(3)
          expect(yield* c.snapshot).toMatchObject({ pausedUntil: null, inFlight: 0, waiting: 0 })
        })
      ))

    it("waiting is interruptible and leaves no trace", () =>
      withConcurrency(
        { maxConcurrency: 1 },
        Effect.gen(function* () {
          const c = yield* Concurrency
          const holder = yield* Effect.fork(c.withPermit(Effect.never))
          yield* eventually(c.snapshot, (s) => s.inFlight === 1)
          const waiter = yield* Effect.fork(c.withPermit(Effect.void))
          yield* eventually(c.snapshot, (s) => s.waiting === 1)
          yield* Fiber.interrupt(waiter)
          expect(yield* c.snapshot).toMatchObject({ inFlight: 1, waiting: 0 })
          yield* c.pauseFor("1 second")
          const gated = yield* Effect.fork(c.withPermit(Effect.void))
          yield* eventually(c.snapshot, (s) => s.waiting === 1)
          yield* Fiber.interrupt(gated)
          yield* Fiber.interrupt(holder)
          expect(yield* c.snapshot).toMatchObject({ inFlight: 0, waiting: 0 })
        })
      ))
  })
}
