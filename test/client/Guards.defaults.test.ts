/**
 * `Guards.layer` needs only `budget.limitUsd`: every other option has the default
 * `Guards.layerConfig()` uses; whatever the options are, a bad one fails the layer with
 * `InvalidOption` naming it, and `Guards.wrap` refuses bad options with `InvalidAmount`.
 */
import { describe, expect, it } from "@effect/vitest"
import {
  Budget,
  CircuitBreaker,
  Concurrency,
  Depth,
  Guards,
  type GuardsOptions,
  InvalidAmount,
  InvalidOption,
  Overloaded,
  type WrapOptions
} from "@fleetguard/core"
import { ConfigProvider, Effect, Layer, TestClock } from "effect"

const guardsNow = Effect.all({
  budget: Budget.snapshot,
  concurrency: Concurrency.snapshot,
  depth: Effect.map(Depth, ({ maxDepth, maxFanOut }) => ({ maxDepth, maxFanOut })),
  breaker: CircuitBreaker.snapshot
})

const fromEnv = (env: Record<string, string>) =>
  Guards.layerConfig().pipe(
    Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))))
  )

/** Fails the breaker's count once, through every guard. */
const overloaded = Effect.either(
  Guards.wrap({ estimateUsd: 0.01, actualUsd: () => 0 })(Effect.fail(new Overloaded({ message: "busy" })))
)

const boom = () => {
  throw new Error("SECRET in a getter")
}

/** The option `layer` fails with; that it fails, never throws. */
const refusal = (options: unknown) =>
  Effect.flip(Effect.provide(Budget.snapshot, Guards.layer(options as GuardsOptions)))

describe("Guards.layer: only budget.limitUsd is required", () => {
  it.effect(
    "the budget alone: every other guard as Guards.layerConfig() builds it from FLEETGUARD_BUDGET_USD alone",
    () =>
      Effect.gen(function* () {
        const fromOptions = yield* Effect.provide(guardsNow, Guards.layer({ budget: { limitUsd: 10 } }))
        const fromVariables = yield* Effect.provide(guardsNow, fromEnv({ FLEETGUARD_BUDGET_USD: "10" }))
        expect(fromOptions).toEqual(fromVariables)
        expect(fromOptions.concurrency.limit).toBe(8)
        expect(fromOptions.depth).toEqual({ maxDepth: 4, maxFanOut: 8 })
        expect(fromOptions.budget).toMatchObject({ limitUsd: 10, perAgentLimitUsd: 2, alertAt: 0.8 })
      })
  )

  it.effect("the default breaker: 5 counted failures trip it, for 30 seconds, then one probe", () =>
    Effect.gen(function* () {
      for (let i = 0; i < 4; i++) yield* overloaded
      expect(yield* CircuitBreaker.state).toBe("Closed")
      yield* overloaded
      expect(yield* CircuitBreaker.snapshot).toMatchObject({ state: "Open", reopenAt: 30_000 })
      yield* TestClock.adjust("30 seconds")
      yield* overloaded
      expect(yield* CircuitBreaker.snapshot).toMatchObject({ state: "Open", trips: 2 })
    }).pipe(Effect.provide(Guards.layer({ budget: { limitUsd: 10 } })))
  )

  it.effect("a group given in part: its other options default", () =>
    Effect.gen(function* () {
      const now = yield* guardsNow
      expect(now.concurrency.limit).toBe(8)
      expect(now.depth).toEqual({ maxDepth: 2, maxFanOut: 8 })
      yield* overloaded
      yield* overloaded
      expect(yield* CircuitBreaker.state).toBe("Open")
    }).pipe(
      Effect.provide(
        Guards.layer({
          budget: { limitUsd: 10 },
          concurrency: {},
          depth: { maxDepth: 2 },
          breaker: { failureThreshold: 2 }
        })
      )
    )
  )

  it.effect("a bad value is still named under its group", () =>
    Effect.gen(function* () {
      for (const [options, option] of [
        [{ budget: { limitUsd: 10 }, concurrency: { maxConcurrency: 0 } }, "concurrency.maxConcurrency"],
        [{ budget: { limitUsd: 10 }, breaker: { resetAfter: "soon" } }, "breaker.resetAfter"],
        [{ budget: { limitUsd: 10 }, depth: 3 }, "depth"],
        [{ budget: { limitUsd: 10 }, breaker: null }, "breaker"],
        [{ budget: {} }, "budget.limitUsd"],
        [{ concurrency: { maxConcurrency: 2 } }, "budget"],
        [undefined, "options"],
        [null, "options"],
        ["budget", "options"],
        [[{ limitUsd: 1 }], "options"]
      ] as const) {
        const error = yield* refusal(options)
        expect(error, option).toBeInstanceOf(InvalidOption)
        expect((error as InvalidOption).option).toBe(option)
      }
    })
  )

  it.effect(
    "an option that cannot be read (a getter that throws, a Proxy): InvalidOption naming it, never a throw",
    () =>
      Effect.gen(function* () {
        const hostile = new Proxy(
          {},
          {
            ownKeys: boom,
            get: boom
          }
        )
        for (const [options, option] of [
          [
            Object.defineProperty({ budget: { limitUsd: 1 } }, "concurrency", { get: boom, enumerable: true }),
            "concurrency"
          ],
          [{ budget: Object.defineProperty({}, "limitUsd", { get: boom, enumerable: true }) }, "budget.limitUsd"],
          [{ budget: { limitUsd: 1 }, breaker: hostile }, "breaker"],
          [hostile, "options"]
        ] as const) {
          const error = yield* refusal(options)
          expect(error, option).toBeInstanceOf(InvalidOption)
          expect((error as InvalidOption).option).toBe(option)
          expect(String(error)).not.toMatch(/SECRET/)
        }
      })
  )
})

describe("Guards.wrap: bad options are a typed error, and nothing runs", () => {
  it.effect(
    "not an object, a bad estimate, a cost or usage that is not a function, no model for a usage, a getter that throws: InvalidAmount naming it",
    () =>
      Effect.gen(function* () {
        for (const [options, field] of [
          [undefined, "options"],
          [null, "options"],
          [0.01, "options"],
          [{ estimateUsd: -1, actualUsd: () => 0 }, "estimateUsd"],
          [{ estimateUsd: "0.01", actualUsd: () => 0 }, "estimateUsd"],
          [{ estimateUsd: 0.01 }, "actualUsd"],
          [{ estimateUsd: 0.01, actualUsd: 0.01 }, "actualUsd"],
          [Object.defineProperty({ actualUsd: () => 0 }, "estimateUsd", { get: boom }), "estimateUsd"],
          [Object.defineProperty({ estimateUsd: 0.01 }, "actualUsd", { get: boom }), "actualUsd"],
          [{ estimateUsd: 0.01, actualUsd: () => 0, model: "" }, "model"],
          [{ estimateUsd: 0.01, actualUsd: () => 0, model: 42 }, "model"],
          [{ estimateUsd: 0.01, actualUsd: () => 0, model: null }, "model"],
          [{ estimateUsd: 0.01, actualUsd: () => 0, model: "gpt-5", usage: { inputTokens: 1 } }, "usage"],
          [{ estimateUsd: 0.01, actualUsd: () => 0, usage: () => ({}) }, "model"],
          [Object.defineProperty({ estimateUsd: 0.01, actualUsd: () => 0 }, "model", { get: boom }), "model"],
          [
            Object.defineProperty({ estimateUsd: 0.01, actualUsd: () => 0, model: "m" }, "usage", { get: boom }),
            "usage"
          ]
        ] as const) {
          let ran = false
          const error = yield* Effect.flip(
            Guards.wrap(options as unknown as WrapOptions<number>)(Effect.sync(() => (ran = true)).pipe(Effect.as(1)))
          )
          expect(error, field).toBeInstanceOf(InvalidAmount)
          expect((error as InvalidAmount).field).toBe(field)
          expect(ran).toBe(false)
        }
        expect((yield* Budget.snapshot).reservedUsd).toBe(0)
        expect((yield* Concurrency.snapshot).inFlight).toBe(0)
      }).pipe(Effect.provide(Guards.layer({ budget: { limitUsd: 10 } })))
  )
})

describe("cost callbacks are called as methods of their options", () => {
  class PerToken {
    readonly usdPerToken = 0.001
    readonly estimateUsd = 1
    actualUsd(tokens: number) {
      return tokens * this.usdPerToken
    }
  }

  it.effect("Guards.wrap and Budget.withReservation keep `this`: a method's cost is charged, not the reservation", () =>
    Effect.gen(function* () {
      yield* Guards.wrap(Effect.succeed(100), new PerToken())
      yield* Budget.withReservation(Effect.succeed(200), Object.assign(new PerToken(), { usd: 1 }))
      expect((yield* Budget.snapshot).spentUsd).toBeCloseTo(0.3, 9)
    }).pipe(Effect.provide(Guards.layer({ budget: { limitUsd: 10 } })))
  )
})
