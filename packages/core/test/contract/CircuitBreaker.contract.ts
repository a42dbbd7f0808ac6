/** The CircuitBreaker contract, for any backend (see backend.ts). */
import { describe, expect } from "@effect/vitest"
import { Effect, Either, Fiber } from "effect"
import {
  AuthenticationFailed,
  BudgetExceeded,
  CircuitBreaker,
  CircuitOpen,
  DepthLimitExceeded,
  InvalidAmount,
  InvalidRequest,
  Overloaded,
  UnknownModel
} from "../../src/index.js"
import { type Backend, eventually, withHub } from "./backend.js"

export const circuitBreakerContract = (backend: Backend) => {
  const { it } = backend
  const breaker = (options: Partial<Parameters<typeof CircuitBreaker.layer>[0]> = {}) =>
    withHub(backend.breaker({ failureThreshold: 2, resetAfter: "1 second", halfOpenMaxCalls: 1, ...options }))
  const upstream = Effect.fail(new Overloaded({ message: "overloaded" }))

  describe(`CircuitBreaker contract (${backend.name})`, () => {
    it("counts every typed failure by default, except fleetguard's refusals and client errors; never defects", () =>
      Effect.gen(function* () {
        const notCounted = [
          new BudgetExceeded({ scope: "fleet", agentId: "a", requestedUsd: 1, remainingUsd: 0, limitUsd: 1 }),
          new DepthLimitExceeded({ depth: 3, maxDepth: 3 }),
          new CircuitOpen({ interrupted: false }),
          new UnknownModel({ model: "m" }),
          new InvalidAmount({ field: "usd", value: -1, reason: "must be ≥ 0" }),
          new InvalidRequest({ errorType: "x", message: "bad" }),
          new AuthenticationFailed({})
        ]
        for (const error of notCounted) {
          yield* Effect.either(CircuitBreaker.protect(Effect.fail(error)))
          yield* Effect.either(CircuitBreaker.protect(Effect.fail(error)))
          yield* Effect.exit(CircuitBreaker.protect(Effect.die("bug")))
        }
        expect(yield* CircuitBreaker.state).toBe("Closed")
        // Any other typed failure counts, as in cockatiel, resilience4j and Polly.
        yield* Effect.either(CircuitBreaker.protect(Effect.fail(new Error("db down"))))
        yield* Effect.either(CircuitBreaker.protect(Effect.fail(new Error("db down"))))
        expect(yield* CircuitBreaker.state).toBe("Open")
      }).pipe(Effect.provide(breaker())))

    it("counts provider errors from upstream", () =>
      Effect.gen(function* () {
        yield* Effect.either(CircuitBreaker.protect(upstream))
        yield* Effect.either(CircuitBreaker.protect(upstream))
        expect(yield* CircuitBreaker.state).toBe("Open")
      }).pipe(Effect.provide(breaker())))

    it("counts what isFailure says when given", () =>
      Effect.gen(function* () {
        yield* Effect.either(CircuitBreaker.protect(upstream))
        expect(yield* CircuitBreaker.state).toBe("Closed")
        yield* Effect.either(CircuitBreaker.protect(Effect.fail("mine" as const)))
        expect(yield* CircuitBreaker.state).toBe("Open")
      }).pipe(Effect.provide(breaker({ failureThreshold: 1, isFailure: (error) => error === "mine" }))))

    it("does not run the protected effect while open, says when a probe is allowed, and closes on its success", () =>
      Effect.gen(function* () {
        yield* Effect.either(CircuitBreaker.protect(upstream))
        yield* backend.advance(300)
        let ran = false
        const rejected = yield* Effect.flip(CircuitBreaker.protect(Effect.sync(() => (ran = true))))
        if (rejected._tag !== "CircuitOpen") return expect.unreachable(rejected.message)
        expect(rejected.interrupted).toBe(false)
        expect(rejected.retryAfterMillis).toBeGreaterThan(0)
        expect(rejected.retryAfterMillis).toBeLessThanOrEqual(700)
        expect(ran).toBe(false)
        yield* backend.advance(rejected.retryAfterMillis ?? 0)
        yield* CircuitBreaker.protect(Effect.void)
        expect(yield* CircuitBreaker.state).toBe("Closed")
      }).pipe(Effect.provide(breaker({ failureThreshold: 1 }))))

    it("isolate holds it open and interrupts what is in flight; reset closes it", () =>
      Effect.gen(function* () {
        const running = yield* Effect.fork(CircuitBreaker.protect(Effect.never))
        yield* eventually(CircuitBreaker.snapshot, (s) => s.tracked === 1)
        yield* CircuitBreaker.isolate
        expect(yield* Effect.flip(Fiber.join(running))).toEqual(new CircuitOpen({ interrupted: true }))
        yield* backend.advance(1_500)
        const refused = yield* Effect.flip(CircuitBreaker.protect(Effect.void))
        expect(refused).toEqual(new CircuitOpen({ interrupted: false }))
        expect(yield* CircuitBreaker.snapshot).toMatchObject({ state: "Open", isolated: true, tracked: 0 })
        yield* CircuitBreaker.reset
        yield* CircuitBreaker.protect(Effect.void)
        expect(yield* CircuitBreaker.state).toBe("Closed")
      }).pipe(Effect.provide(breaker())))

    it("an interrupted sibling is a typed failure: Effect.all in either mode keeps every other result", () =>
      Effect.gen(function* () {
        const all = yield* Effect.fork(
          Effect.all(
            [
              CircuitBreaker.protect(Effect.never),
              CircuitBreaker.protect(Effect.delay(upstream, "60 millis")),
              CircuitBreaker.protect(Effect.delay(Effect.succeed("done"), "10 millis"))
            ],
            { concurrency: "unbounded", mode: "either" }
          )
        )
        yield* backend.advance(60)
        const [hung, failed, done] = yield* Fiber.join(all)
        expect(Either.isLeft(hung) && hung.left).toMatchObject({ _tag: "CircuitOpen", interrupted: true })
        expect(
          Either.isLeft(hung) && hung.left._tag === "CircuitOpen" && hung.left.retryAfterMillis
        ).toBeLessThanOrEqual(1_000)
        expect(Either.isLeft(failed) && failed.left._tag).toBe("Overloaded")
        expect(done).toEqual(Either.right("done"))
      }).pipe(Effect.provide(breaker({ failureThreshold: 1 }))))
  })
}
