/** The CircuitBreaker contract: its checks, for any backend (Contract.breakerChecks). */
import { expect } from "@effect/vitest"
import {
  AuthenticationFailed,
  BudgetExceeded,
  CircuitBreaker,
  type CircuitBreakerOptions,
  CircuitOpen,
  DepthLimitExceeded,
  InvalidAmount,
  InvalidRequest,
  Overloaded,
  UnknownModel
} from "@fleetguard/core"
import { Effect, Either, Fiber, type Layer } from "effect"
import { type Check, type CheckOptions, eventually, example, type Time, timeOf, withHub } from "./check.js"

export type Make = (options: CircuitBreakerOptions) => Layer.Layer<CircuitBreaker, unknown>

interface Suite extends Time {
  /** `self` with a breaker of `options` (over a threshold of 2, a reset of a second and one probe). */
  readonly withBreaker: <A, E>(
    options: Partial<CircuitBreakerOptions>,
    self: Effect.Effect<A, E, CircuitBreaker>
  ) => Effect.Effect<A, unknown>
}

const upstream = Effect.fail(new Overloaded({ message: "overloaded" }))

const countsByDefault = ({ withBreaker }: Suite) =>
  example(
    "counts every typed failure by default, except fleetguard's refusals and client errors; never defects",
    withBreaker(
      {},
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
      })
    )
  )

const countsUpstream = ({ withBreaker }: Suite) =>
  example(
    "counts provider errors from upstream",
    withBreaker(
      {},
      Effect.gen(function* () {
        yield* Effect.either(CircuitBreaker.protect(upstream))
        yield* Effect.either(CircuitBreaker.protect(upstream))
        expect(yield* CircuitBreaker.state).toBe("Open")
      })
    )
  )

const countsIsFailure = ({ withBreaker }: Suite) =>
  example(
    "counts what isFailure says when given",
    withBreaker(
      { failureThreshold: 1, isFailure: (error) => error === "mine" },
      Effect.gen(function* () {
        yield* Effect.either(CircuitBreaker.protect(upstream))
        expect(yield* CircuitBreaker.state).toBe("Closed")
        yield* Effect.either(CircuitBreaker.protect(Effect.fail("mine" as const)))
        expect(yield* CircuitBreaker.state).toBe("Open")
      })
    )
  )

const refusesWhileOpen = ({ withBreaker, advance }: Suite) =>
  example(
    "does not run the protected effect while open, says when a probe is allowed, and closes on its success",
    withBreaker(
      { failureThreshold: 1 },
      Effect.gen(function* () {
        yield* Effect.either(CircuitBreaker.protect(upstream))
        yield* advance(300)
        let ran = false
        const rejected = yield* Effect.flip(CircuitBreaker.protect(Effect.sync(() => (ran = true))))
        if (rejected._tag !== "CircuitOpen") return expect.unreachable(rejected.message)
        expect(rejected.interrupted).toBe(false)
        expect(rejected.retryAfterMillis).toBeGreaterThan(0)
        expect(rejected.retryAfterMillis).toBeLessThanOrEqual(700)
        expect(ran).toBe(false)
        yield* advance(rejected.retryAfterMillis ?? 0)
        yield* CircuitBreaker.protect(Effect.void)
        expect(yield* CircuitBreaker.state).toBe("Closed")
      })
    )
  )

const isolateHoldsOpen = ({ withBreaker, advance }: Suite) =>
  example(
    "isolate holds it open and interrupts what is in flight; reset closes it",
    withBreaker(
      {},
      Effect.gen(function* () {
        const running = yield* Effect.fork(CircuitBreaker.protect(Effect.never))
        yield* eventually(CircuitBreaker.snapshot, (s) => s.tracked === 1)
        yield* CircuitBreaker.isolate
        expect(yield* Effect.flip(Fiber.join(running))).toEqual(new CircuitOpen({ interrupted: true }))
        yield* advance(1_500)
        const refused = yield* Effect.flip(CircuitBreaker.protect(Effect.void))
        expect(refused).toEqual(new CircuitOpen({ interrupted: false }))
        expect(yield* CircuitBreaker.snapshot).toMatchObject({ state: "Open", isolated: true, tracked: 0 })
        yield* CircuitBreaker.reset
        yield* CircuitBreaker.protect(Effect.void)
        expect(yield* CircuitBreaker.state).toBe("Closed")
      })
    )
  )

const tripKeepsSiblings = ({ withBreaker, advance }: Suite) =>
  example(
    "an interrupted sibling is a typed failure: Effect.all in either mode keeps every other result",
    withBreaker(
      { failureThreshold: 1 },
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
        yield* advance(60)
        const [hung, failed, done] = yield* Fiber.join(all)
        expect(Either.isLeft(hung) && hung.left).toMatchObject({ _tag: "CircuitOpen", interrupted: true })
        expect(
          Either.isLeft(hung) && hung.left._tag === "CircuitOpen" && hung.left.retryAfterMillis
        ).toBeLessThanOrEqual(1_000)
        expect(Either.isLeft(failed) && failed.left._tag).toBe("Overloaded")
        expect(done).toEqual(Either.right("done"))
      })
    )
  )

export const checks = (make: Make, options?: CheckOptions): ReadonlyArray<Check> => {
  const suite: Suite = {
    ...timeOf(options),
    // `make` is called when the check runs, not when it is built: a store may start only then.
    withBreaker: (breakerOptions, self) =>
      Effect.suspend(() =>
        Effect.provide(
          self,
          withHub(make({ failureThreshold: 2, resetAfter: "1 second", halfOpenMaxCalls: 1, ...breakerOptions }))
        )
      )
  }
  return [countsByDefault, countsUpstream, countsIsFailure, refusesWhileOpen, isolateHoldsOpen, tripKeepsSiblings].map(
    (check) => check(suite)
  )
}
