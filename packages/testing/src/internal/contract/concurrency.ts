/** The Concurrency contract: its checks, for any backend (Contract.concurrencyChecks). */
import { expect } from "@effect/vitest"
import { Concurrency, type ConcurrencyOptions, Events, Metrics } from "@fleetguard/core"
import { Chunk, Clock, Duration, Effect, Fiber, FastCheck as fc, type Layer, Metric, Queue, Ref } from "effect"
import { type Check, type CheckOptions, eventually, example, property, type Time, timeOf, withHub } from "./check.js"

export type Make = (options: ConcurrencyOptions) => Layer.Layer<Concurrency, unknown>

interface Suite extends Time {
  readonly withConcurrency: <A, E>(
    options: ConcurrencyOptions,
    self: Effect.Effect<A, E, Concurrency>
  ) => Effect.Effect<A, unknown>
}

type Outcome = "succeed" | "fail" | "die" | "interrupt"

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

const caller = fc.record({
  holdMillis: fc.integer({ min: 0, max: 20 }),
  outcome: fc.constantFrom<Outcome>("succeed", "fail", "die", "interrupt"),
  interruptAt: fc.integer({ min: 0, max: 40 })
})

const permitsComeBack = ({ withConcurrency, advance, samples }: Suite) =>
  property(
    "in-flight never exceeds the limit, and every permit comes back whatever the callers do",
    fc.record({ limit: fc.integer({ min: 1, max: 8 }), callers: fc.array(caller, { maxLength: 40 }) }),
    samples(50),
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
          yield* advance(20 * callers.length + 50)
          yield* Effect.forEach(fibers, Fiber.await)
          expect(yield* Ref.get(peak)).toBeLessThanOrEqual(limit)
          expect(yield* c.snapshot).toMatchObject({ inFlight: 0, waiting: 0 })
          yield* allPermitsBack
        })
      )
  )

const gateHoldsEveryone = ({ withConcurrency, advance }: Suite) =>
  example(
    "no caller passes while the gate is closed; reopening lets every waiter through, spread out",
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
        yield* advance(700)
        yield* Fiber.joinAll(fibers)
        expect(starts).toHaveLength(20)
        expect(Math.min(...starts)).toBeGreaterThanOrEqual(pausedUntil ?? Number.POSITIVE_INFINITY)
        // Spread over the window, not released in one instant.
        expect(Math.max(...starts) - Math.min(...starts)).toBeGreaterThanOrEqual(100)
        expect((yield* c.snapshot).pausedUntil).toBeNull()
      })
    )
  )

const pausesOnlyExtend = ({ withConcurrency, advance }: Suite) =>
  example(
    "a later, longer pause extends the gate; a shorter one never shortens it",
    withConcurrency(
      { maxConcurrency: 1 },
      Effect.gen(function* () {
        const c = yield* Concurrency
        yield* c.pauseFor("10 seconds")
        const first = (yield* c.snapshot).pausedUntil ?? 0
        yield* c.pauseFor("200 millis")
        expect((yield* c.snapshot).pausedUntil).toBe(first)
        yield* advance(50)
        yield* c.pauseFor("20 seconds")
        expect((yield* c.snapshot).pausedUntil).toBeGreaterThan(first + 9_000)
      })
    )
  )

const pauseAsk = fc.oneof(
  fc.integer({ min: 0, max: 10 ** 12 }),
  fc.constantFrom(Number.POSITIVE_INFINITY, Number.NaN, -1, 10 ** 400, Duration.infinity, "soon")
)

const pauseIsBounded = ({ withConcurrency, samples }: Suite) =>
  property(
    "the gate never closes longer than maxPause, whatever it is asked; nonsense closes nothing",
    fc.record({ maxPause: fc.integer({ min: 1, max: 600_000 }), asks: fc.array(pauseAsk, { maxLength: 8 }) }),
    samples(100),
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
      )
  )

const burstIsOnePause = ({ withConcurrency, advance }: Suite) =>
  example(
    "a burst of 429s is one pause: the first closes the gate, the rest only move its end",
    withConcurrency(
      { maxConcurrency: 2 },
      Effect.scoped(
        Effect.gen(function* () {
          const c = yield* Concurrency
          const events = yield* Events.subscribe
          const before = (yield* Metric.value(Metrics.concurrencyPauses)).count
          for (let i = 0; i < 5; i++) {
            yield* c.pauseFor(Duration.millis(1_000 + 10 * i))
            yield* advance(5)
          }
          yield* eventually(Queue.size(events), (n) => n === 5)
          const pauses = Chunk.toReadonlyArray(yield* Queue.takeAll(events)).filter(
            (e): e is Events.RateLimitPause => e._tag === "RateLimitPause"
          )
          expect(pauses.map((p) => p.extended)).toEqual([false, true, true, true, true])
          expect((yield* Metric.value(Metrics.concurrencyPauses)).count - before).toBe(1)
          // Once the gate has reopened, the next 429 is a new pause.
          yield* advance(1_100)
          yield* c.pauseFor("1 second")
          const next = yield* Queue.take(events)
          expect(next).toMatchObject({ _tag: "RateLimitPause", extended: false })
          expect((yield* Metric.value(Metrics.concurrencyPauses)).count - before).toBe(2)
        })
      )
    )
  )

const resumeWakesAll = ({ withConcurrency, advance }: Suite) =>
  example(
    "resume reopens the gate at once and wakes every waiter",
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
        yield* advance(100)
        expect(started).toBe(0)
        yield* c.resume
        yield* Fiber.joinAll(waiters)
        expect(started).toBe(3)
        expect(yield* c.snapshot).toMatchObject({ pausedUntil: null, inFlight: 0, waiting: 0 })
      })
    )
  )

const waitingLeavesNoTrace = ({ withConcurrency }: Suite) =>
  example(
    "waiting is interruptible and leaves no trace",
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
    )
  )

export const checks = (make: Make, options?: CheckOptions): ReadonlyArray<Check> => {
  const suite: Suite = {
    ...timeOf(options),
    // `make` is called when the check runs, not when it is built: a store may start only then.
    withConcurrency: (concurrencyOptions, self) =>
      Effect.suspend(() => Effect.provide(self, withHub(make(concurrencyOptions))))
  }
  return [
    permitsComeBack,
    gateHoldsEveryone,
    pausesOnlyExtend,
    pauseIsBounded,
    burstIsOnePause,
    resumeWakesAll,
    waitingLeavesNoTrace
  ].map((check) => check(suite))
}
