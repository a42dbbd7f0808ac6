import { describe, expect, it } from "@effect/vitest"
import { Cause, Duration, Effect, Exit, Fiber, FiberId, FastCheck as fc, Layer, Option, TestClock } from "effect"
import { currentDepth } from "../src/Depth.js"
import {
  Backend,
  Budget,
  CircuitBreaker,
  CircuitOpen,
  Concurrency,
  Depth,
  DepthLimitExceeded,
  Guards,
  Overloaded,
  Pricing,
  ProviderUnavailable,
  RateLimited
} from "../src/index.js"
import { gatePause } from "../src/internal/call/coordination.js"
import { Fleet, Reservations } from "../src/internal/call/fleet.js"
import * as Settle from "../src/internal/call/settle.js"

const usage = { inputTokens: 10, outputTokens: 20, cacheCreationInputTokens: 0, cacheReadInputTokens: 0 }
const request = { model: "claude-haiku-4-5", maxTokens: 100, messages: [{ role: "user" as const, content: "hi" }] }

const interrupted = Exit.interrupt(FiberId.none) as Exit.Exit<never, unknown>
const failed = (error: unknown) => Exit.fail(error) as Exit.Exit<never, unknown>

/** The Owed's tag, and for a cost what it computes. */
const read = (owed: Settle.Owed) => (owed._tag === "Cost" ? { Cost: owed.usd() } : owed._tag)

describe("settlement's rules: what a call owes, by how it ended", () => {
  it("Guards.wrap: a success its cost; cut off after it started everything; else nothing", () => {
    const owed = (exit: Exit.Exit<number, unknown>, started: boolean) =>
      read(Settle.owedForWrapped(exit, started, (a) => a * 2))
    expect(owed(Exit.succeed(3), true)).toEqual({ Cost: 6 })
    expect(owed(interrupted, true)).toBe("Full")
    expect(owed(interrupted, false)).toBe("Nothing")
    expect(owed(failed(new CircuitOpen({ interrupted: true })), true)).toBe("Full")
    expect(owed(failed(new CircuitOpen({ interrupted: false })), true)).toBe("Nothing")
    expect(owed(failed(new Overloaded({})), true)).toBe("Nothing")
  })

  it("Budget.withReservation: a success its cost, an interruption everything, a failure its failureUsd or nothing", () => {
    const cause = Cause.fail("no")
    expect(read(Settle.owedForReservation(Exit.succeed(3), (a) => a + 1, undefined))).toEqual({ Cost: 4 })
    expect(
      read(
        Settle.owedForReservation(
          interrupted,
          () => 1,
          () => 2
        )
      )
    ).toBe("Full")
    expect(read(Settle.owedForReservation(Exit.failCause(cause), () => 1, undefined))).toBe("Nothing")
    expect(
      read(
        Settle.owedForReservation(
          Exit.failCause(cause),
          () => 1,
          (c) => (c === cause ? 5 : 0)
        )
      )
    ).toEqual({
      Cost: 5
    })
  })

  describe("an LlmClient attempt", () => {
    /** Prices that say what they were asked to price. */
    const asked: Array<unknown> = []
    const prices: Settle.Pricer = {
      owed: (model, used, reported) => {
        asked.push({ model, used, reported })
        return Settle.cost(() => used.outputTokens)
      }
    }
    const attempt = (started: boolean, progress?: Parameters<typeof Settle.partialOf>[0]) => ({
      request,
      started,
      call: { send: Effect.never, progress }
    })

    it("an answer its usage, at the model it reports as well as the one asked for", () => {
      asked.length = 0
      const answer = { usage, reportedModel: "claude-opus-4-1" }
      expect(read(Settle.owedForAttempt(Exit.succeed(answer), attempt(true), prices))).toEqual({ Cost: 20 })
      expect(asked).toEqual([{ model: request.model, used: usage, reported: "claude-opus-4-1" }])
    })

    it("a stream cut short the usage it reported, bounded by the bytes received", () => {
      const progress = { received: true, usage, final: false, bytes: 50 }
      expect(read(Settle.owedForAttempt(interrupted, attempt(true, progress), prices))).toEqual({ Cost: 50 })
    })

    it("everything for text with no usage, a request with no answer, or one cut off once sent; else nothing", () => {
      const noUsage = { received: true, usage: undefined, final: false, bytes: 5 }
      expect(read(Settle.owedForAttempt(failed(new Overloaded({})), attempt(true, noUsage), prices))).toBe("Full")
      const noAnswer = failed(new ProviderUnavailable({ message: "timed out" }))
      expect(read(Settle.owedForAttempt(noAnswer, attempt(true), prices))).toBe("Full")
      const answered = failed(new ProviderUnavailable({ message: "down", status: 503 }))
      expect(read(Settle.owedForAttempt(answered, attempt(true), prices))).toBe("Nothing")
      expect(read(Settle.owedForAttempt(interrupted, attempt(true), prices))).toBe("Full")
      expect(read(Settle.owedForAttempt(interrupted, attempt(false), prices))).toBe("Nothing")
    })
  })
})

describe("gatePause: how long an attempt that ended closes the gate", () => {
  it("a 429 its retry-after, else the ceiling; an answer whose limit is used up until the reset; else not", () => {
    expect(gatePause(failed(new RateLimited({ retryAfterMillis: 700 })), 100)).toBe(700)
    expect(gatePause(failed(new RateLimited({})), 100)).toBe(100)
    expect(gatePause(failed(new RateLimited({ retryAfterMillis: Number.NaN })), 100)).toBe(100)
    expect(gatePause(failed(new Overloaded({})), 100)).toBeUndefined()
    expect(gatePause(Exit.succeed({ usage, rateLimitResetMillis: 300 }), 100)).toBe(300)
    expect(gatePause(Exit.succeed({ usage, rateLimitResetMillis: 0 }), 100)).toBeUndefined()
    expect(gatePause(Exit.succeed({ usage }), 100)).toBeUndefined()
  })
})

/** A fresh set of in-memory guards, as they are or through their methods only. */
const guards = (methodsOnly: boolean) =>
  Effect.gen(function* () {
    const way = <S extends object>(service: S) => (methodsOnly ? Backend.methodsOnly(service) : service)
    return new Fleet(
      way(yield* Budget.make({ limitUsd: 1, perAgentLimitUsd: 1 })),
      way(yield* Concurrency.make({ maxConcurrency: 2, releaseWindow: "10 millis" })),
      way(yield* CircuitBreaker.make({ failureThreshold: 2, resetAfter: "1 second", halfOpenMaxCalls: 1 })),
      way(yield* Depth.make({ maxDepth: 2, maxFanOut: 2 }))
    )
  })

type Outcome = "answer" | "answerLimited" | "rateLimited" | "rateLimitedAsked" | "overloaded" | "defect" | "interrupted"

const outcomes: ReadonlyArray<Outcome> = [
  "answer",
  "answerLimited",
  "rateLimited",
  "rateLimitedAsked",
  "overloaded",
  "defect",
  "interrupted"
]

const send = (outcome: Outcome): Effect.Effect<{ readonly usage: typeof usage }, unknown> => {
  switch (outcome) {
    case "answer":
      return Effect.succeed({ usage })
    case "answerLimited":
      return Effect.succeed({ usage, rateLimitResetMillis: 250 })
    case "rateLimited":
      return Effect.fail(new RateLimited({}))
    case "rateLimitedAsked":
      return Effect.fail(new RateLimited({ retryAfterMillis: 400 }))
    case "overloaded":
      return Effect.fail(new Overloaded({}))
    case "defect":
      return Effect.die("boom")
    case "interrupted":
      return Effect.interrupt
  }
}

/** An exit as both ways can be compared: its value, its error, its defect, or that it was interrupted. */
const summary = (exit: Exit.Exit<unknown, unknown>) =>
  Exit.match(exit, {
    onSuccess: (value) => ({ value }),
    onFailure: (cause) =>
      Cause.isInterruptedOnly(cause)
        ? "interrupted"
        : Option.match(Cause.failureOption(cause), {
            onNone: () => ({ defect: Cause.squash(cause) }),
            onSome: (error) => ({ error })
          })
  })

const passOnce = (fleet: Fleet, outcome: Outcome, ceilingMillis: number | undefined) =>
  Effect.uninterruptibleMask((restore) =>
    Effect.withFiberRuntime<Exit.Exit<unknown, unknown>>((fiber) =>
      fleet.pass(fiber, restore, send(outcome), ceilingMillis)
    )
  )

/** The two fleets' gates and breakers are in the same state. */
const same = (fast: Fleet, methods: Fleet) =>
  Effect.gen(function* () {
    expect(yield* methods.concurrency.snapshot).toEqual(yield* fast.concurrency.snapshot)
    expect(yield* methods.breaker.snapshot).toEqual(yield* fast.breaker.snapshot)
  })

describe("Fleet: the fast path and the methods behave the same", () => {
  it.effect.prop(
    "pass: the same exits, the same gate and the same breaker, call after call",
    {
      calls: fc.array(
        fc.record({
          outcome: fc.constantFrom(...outcomes),
          ceilingMillis: fc.option(fc.integer({ min: 0, max: 500 }), { nil: undefined }),
          waitMillis: fc.integer({ min: 0, max: 1_500 })
        }),
        { minLength: 1, maxLength: 12 }
      )
    },
    ({ calls }) =>
      Effect.gen(function* () {
        const fast = yield* guards(false)
        const methods = yield* guards(true)
        for (const { outcome, ceilingMillis, waitMillis } of calls) {
          // In lockstep on one clock, so that every instant the two see is the same.
          const a = yield* Effect.fork(passOnce(fast, outcome, ceilingMillis))
          const b = yield* Effect.fork(passOnce(methods, outcome, ceilingMillis))
          // Once both have run as far as they can at this instant (ended, or waiting at the gate),
          // and again once both have ended.
          yield* TestClock.adjust(0)
          yield* same(fast, methods)
          yield* TestClock.adjust(Duration.seconds(10))
          const [exitA, exitB] = [yield* Fiber.join(a), yield* Fiber.join(b)]
          expect(summary(exitB)).toEqual(summary(exitA))
          yield* same(fast, methods)
          yield* TestClock.adjust(Duration.millis(waitMillis))
        }
        const permits = yield* fast.concurrency.snapshot
        expect(permits).toMatchObject({ inFlight: 0, waiting: 0 })
      }),
    { fastCheck: { numRuns: 100 } }
  )

  it.effect.prop(
    "reserve: the same reservations refused and held",
    { amounts: fc.array(fc.integer({ min: 0, max: 60 }), { minLength: 1, maxLength: 8 }) },
    ({ amounts }) =>
      Effect.gen(function* () {
        const fast = new Reservations(yield* Budget.make({ limitUsd: 1, perAgentLimitUsd: 1 }))
        const methods = new Reservations(Backend.methodsOnly(yield* Budget.make({ limitUsd: 1, perAgentLimitUsd: 1 })))
        for (const cents of amounts) {
          const [a, b] = [
            yield* Effect.either(fast.reserve("agent", cents / 100)),
            yield* Effect.either(methods.reserve("agent", cents / 100))
          ]
          expect(b._tag).toBe(a._tag)
          if (a._tag === "Left" && b._tag === "Left") expect(b.left).toEqual(a.left)
        }
        const snapshot = (r: Reservations) => (r.budget as Budget["Type"]).snapshot
        expect(yield* snapshot(methods)).toEqual(yield* snapshot(fast))
      })
  )

  it.effect("withinDepth: below the limit the call as it is; at it, refused and counted, the call not run", () =>
    Effect.gen(function* () {
      const fleet = yield* guards(false)
      const call = Effect.succeed("ran")
      const refused: Array<DepthLimitExceeded> = []
      const within = Effect.withFiberRuntime<string, DepthLimitExceeded>((fiber) =>
        fleet.withinDepth(fiber, call, (e) => refused.push(e))
      )
      expect(yield* Effect.withFiberRuntime((fiber) => Effect.succeed(fleet.withinDepth(fiber, call) === call))).toBe(
        true
      )
      expect(yield* within).toBe("ran")
      const deep = yield* Effect.flip(Effect.locally(within, currentDepth, 2))
      expect(deep).toBeInstanceOf(DepthLimitExceeded)
      expect(refused).toEqual([deep])
    })
  )
})

describe("Guards.wrap: one fleet per set of services", () => {
  it.effect("two sets of guards that differ only in their gate: each call takes its permit from its own", () =>
    Effect.gen(function* () {
      const budget = yield* Budget.make({ limitUsd: 1 })
      const breaker = yield* CircuitBreaker.make({ failureThreshold: 5, resetAfter: "1 second", halfOpenMaxCalls: 1 })
      const depth = yield* Depth.make({ maxDepth: 4, maxFanOut: 4 })
      const run = (maxConcurrency: number) =>
        Effect.provide(
          Guards.wrap(Concurrency.snapshot, { estimateUsd: 0.01, actualUsd: () => 0.01 }),
          Layer.mergeAll(
            Layer.succeed(Budget, budget),
            Concurrency.layer({ maxConcurrency }),
            Layer.succeed(CircuitBreaker, breaker),
            Layer.succeed(Depth, depth),
            Pricing.layer()
          )
        )
      expect(yield* run(3)).toMatchObject({ limit: 3, inFlight: 1 })
      expect(yield* run(7)).toMatchObject({ limit: 7, inFlight: 1 })
      expect((yield* budget.snapshot).spentUsd).toBeCloseTo(0.02, 9)
    })
  )
})
