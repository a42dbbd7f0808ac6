/** The Budget contract: its checks, for any backend (Contract.budgetChecks). */
import { expect } from "@effect/vitest"
import { Budget, BudgetExceeded, type BudgetOptions, Events, InvalidAmount, type Reservation } from "@fleetguard/core"
import { Chunk, Effect, Fiber, FastCheck as fc, type Layer, Queue } from "effect"
import * as WithReservation from "./budgetWithReservation.js"
import {
  type Check,
  type CheckOptions,
  example,
  property,
  type BudgetSuite as Suite,
  timeOf,
  withHub
} from "./check.js"

export type Make = (options: BudgetOptions) => Layer.Layer<Budget, unknown>

const usd = (cents: number) => cents / 100

const drain = (queue: Queue.Dequeue<Events.GuardEvent>) => Effect.map(Queue.takeAll(queue), Chunk.toReadonlyArray)

/** An event as a plain object without its time, which is the backend's clock. */
const timeless = (event: Events.GuardEvent) => {
  const { at: _, ...rest } = event
  return rest
}

interface Step {
  readonly agent: number
  readonly cents: number
  readonly holdMillis: number
  /** Percent of the reservation committed; null releases it. */
  readonly commitPercent: number | null
}

const step: fc.Arbitrary<Step> = fc.record({
  agent: fc.integer({ min: 0, max: 5 }),
  cents: fc.integer({ min: 0, max: 300 }),
  holdMillis: fc.integer({ min: 0, max: 10 }),
  commitPercent: fc.option(fc.integer({ min: 0, max: 100 }), { nil: null })
})

const neverOverLimits = ({ withBudget, advance, samples }: Suite) =>
  property(
    "concurrent reserve/commit/release from many fibers never pass either limit; spend is the sum of commits",
    fc.record({
      limitCents: fc.integer({ min: 1, max: 2_000 }),
      steps: fc.array(step, { minLength: 1, maxLength: 60 })
    }),
    samples(60),
    ({ limitCents, steps }) =>
      withBudget(
        { limitUsd: usd(limitCents) },
        Effect.gen(function* () {
          const budget = yield* Budget
          let committedCents = 0
          const fibers = yield* Effect.forEach(steps, (s) =>
            Effect.fork(
              Effect.gen(function* () {
                const reserved = yield* Effect.either(budget.reserve(`agent-${s.agent}`, usd(s.cents)))
                if (reserved._tag === "Left") return
                yield* Effect.sleep(s.holdMillis)
                if (s.commitPercent === null) return yield* budget.release(reserved.right)
                const cents = Math.floor((s.cents * s.commitPercent) / 100)
                yield* budget.commit(reserved.right, usd(cents))
                committedCents += cents
              })
            )
          )
          // Step time one millisecond at a time and check the invariants at every step.
          for (let t = 0; t <= 11; t++) {
            const snap = yield* budget.snapshot
            expect(snap.spentUsd + snap.reservedUsd).toBeLessThanOrEqual(snap.limitUsd + 1e-9)
            for (const agent of Object.values(snap.agents)) {
              expect(agent.spentUsd + agent.reservedUsd).toBeLessThanOrEqual(snap.perAgentLimitUsd + 1e-9)
            }
            yield* advance(1)
          }
          yield* Fiber.joinAll(fibers)
          const end = yield* budget.snapshot
          expect(end.reservedUsd).toBe(0)
          expect(end.spentUsd).toBeCloseTo(usd(committedCents), 9)
        })
      )
  )

const refusesWhole = ({ withBudget }: Suite) =>
  example(
    "refuses a reservation whole, naming the limit, how much was asked and how much is left",
    withBudget(
      { limitUsd: 10, perAgentLimitUsd: 4 },
      Effect.gen(function* () {
        const budget = yield* Budget
        yield* budget.reserve("a", 3)
        const agent = yield* Effect.flip(budget.reserve("a", 1.5))
        expect(agent).toEqual(
          new BudgetExceeded({ scope: "agent", agentId: "a", requestedUsd: 1.5, remainingUsd: 1, limitUsd: 4 })
        )
        yield* budget.reserve("b", 4)
        yield* budget.reserve("c", 2.5)
        const fleet = yield* Effect.flip(budget.reserve("d", 1))
        expect(fleet).toMatchObject({ _tag: "BudgetExceeded", scope: "fleet", remainingUsd: 0.5, limitUsd: 10 })
        const snap = yield* budget.snapshot
        expect(snap.reservedUsd).toBe(9.5)
        expect(snap.agents.d).toBeUndefined()
      })
    )
  )

const capsNamedAgents = ({ withBudget }: Suite) =>
  example(
    "caps named agents only: a call outside any Agent.run is under the fleet limit alone",
    withBudget(
      { limitUsd: 10, perAgentLimitUsd: 2 },
      Effect.gen(function* () {
        const budget = yield* Budget
        yield* budget.reserve("default", 5)
        const named = yield* Effect.flip(budget.reserve("named", 2.5))
        expect(named).toMatchObject({ _tag: "BudgetExceeded", scope: "agent", agentId: "named", limitUsd: 2 })
        const fleet = yield* Effect.flip(budget.reserve("default", 5.5))
        expect(fleet).toMatchObject({ _tag: "BudgetExceeded", scope: "fleet", remainingUsd: 5 })
        expect((yield* budget.snapshot).agents.default).toEqual({ spentUsd: 0, reservedUsd: 5 })
      })
    )
  )

const settlesOnce = ({ withBudget }: Suite) =>
  example(
    "settles a reservation exactly once",
    withBudget(
      { limitUsd: 10 },
      Effect.gen(function* () {
        const budget = yield* Budget
        const r = yield* budget.reserve("a", 1)
        yield* budget.commit(r, 0.5)
        yield* budget.commit(r, 0.5)
        yield* budget.release(r)
        expect(yield* budget.snapshot).toMatchObject({
          spentUsd: 0.5,
          reservedUsd: 0,
          agents: { a: { spentUsd: 0.5, reservedUsd: 0 } }
        })
      })
    )
  )

const keepsTheTruth = ({ withBudget }: Suite) =>
  example(
    "keeps the truth when a commit exceeds its reservation, and says so",
    withBudget(
      { limitUsd: 10 },
      Effect.scoped(
        Effect.gen(function* () {
          const events = yield* Events.subscribe
          const budget = yield* Budget
          const r = yield* budget.reserve("a", 1)
          yield* budget.commit(r, 1.25)
          expect((yield* budget.snapshot).spentUsd).toBe(1.25)
          const seen = yield* drain(events)
          expect(seen.map(timeless)).toEqual([
            timeless(new Events.EstimateExceeded({ at: 0, agentId: "a", reservedUsd: 1, actualUsd: 1.25 }))
          ])
        })
      )
    )
  )

const refusesBadAmounts = ({ withBudget }: Suite) =>
  example(
    "refuses negative, NaN and infinite amounts with a typed error, changing nothing",
    withBudget(
      { limitUsd: 10 },
      Effect.gen(function* () {
        const budget = yield* Budget
        for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
          const error = yield* Effect.flip(budget.reserve("a", bad))
          expect(error).toBeInstanceOf(InvalidAmount)
          expect(error).toMatchObject({ field: "usd" })
        }
        const r = yield* budget.reserve("a", 1)
        const error = yield* Effect.flip(budget.commit(r, -0.5))
        expect(error).toMatchObject({ _tag: "InvalidAmount", field: "actualUsd", value: -0.5 })
        expect(yield* budget.snapshot).toMatchObject({ spentUsd: 0, reservedUsd: 1 })
      })
    )
  )

const refusesWrongTypes = ({ withBudget }: Suite) =>
  example(
    "refuses amounts, agent ids and reservations of the wrong type with InvalidAmount, changing nothing",
    withBudget(
      { limitUsd: 10 },
      Effect.gen(function* () {
        const budget = yield* Budget
        const r = yield* budget.reserve("a", 0.5)
        const cases: ReadonlyArray<readonly [Effect.Effect<unknown, unknown>, string]> = [
          [budget.reserve("a", "abc" as unknown as number), "usd"],
          [budget.reserve("a", null as unknown as number), "usd"],
          [budget.reserve(42 as unknown as string, 0.1), "agentId"],
          [budget.commit(r, "x" as unknown as number), "actualUsd"],
          [budget.commit(null as unknown as Reservation, 0.1), "reservation"],
          [budget.commit("r" as unknown as Reservation, 0.1), "reservation"]
        ]
        for (const [attempt, field] of cases) {
          expect(yield* Effect.flip(attempt)).toMatchObject({ _tag: "InvalidAmount", field })
        }
        expect(yield* Effect.flip(budget.release(undefined as unknown as Reservation))).toMatchObject({
          _tag: "InvalidAmount",
          field: "reservation"
        })
        expect(yield* budget.snapshot).toMatchObject({ spentUsd: 0, reservedUsd: 0.5 })
        yield* budget.commit(r, 0.25)
        expect(yield* budget.snapshot).toMatchObject({ spentUsd: 0.25, reservedUsd: 0 })
      })
    )
  )

const alertsOnce = ({ withBudget }: Suite) =>
  example(
    "publishes the threshold event once; the exhausted event at the first fleet refusal, and once more when spend reaches the limit",
    withBudget(
      { limitUsd: 10, perAgentLimitUsd: 10 },
      Effect.scoped(
        Effect.gen(function* () {
          const events = yield* Events.subscribe
          const budget = yield* Budget
          const held = yield* budget.reserve("a", 7.9)
          expect(yield* drain(events)).toEqual([])
          const r = yield* budget.reserve("a", 0.1)
          yield* budget.commit(r, 0.1)
          const more = yield* budget.reserve("a", 1)
          const crossed = yield* drain(events)
          expect(crossed.map((e) => e._tag)).toEqual(["BudgetThresholdCrossed"])
          expect(crossed[0]).toMatchObject({ alertAt: 0.8, limitUsd: 10, spentUsd: 0, reservedUsd: 8 })
          yield* Effect.flip(budget.reserve("b", 2))
          yield* Effect.flip(budget.reserve("b", 2))
          const refused = yield* drain(events)
          expect(refused.map((e) => e._tag)).toEqual(["Rejected", "BudgetExhausted", "Rejected"])
          expect(refused[1]).toMatchObject({ agentId: "b", requestedUsd: 2, spentUsd: 0.1, reservedUsd: 8.9 })
          yield* budget.commit(held, 7.9)
          yield* budget.commit(more, 1)
          yield* budget.commit(yield* budget.reserve("c", 1), 1)
          yield* Effect.flip(budget.reserve("b", 0.5))
          yield* Effect.flip(budget.reserve("b", 0.5))
          const spent = (yield* drain(events)).filter((e) => e._tag !== "CallSettled")
          expect(spent.map((e) => e._tag)).toEqual(["Rejected", "BudgetExhausted", "Rejected"])
          expect(spent[1]).toMatchObject({ agentId: "b", requestedUsd: 0.5, spentUsd: 10, reservedUsd: 0 })
        })
      )
    )
  )

export const checks = (make: Make, options?: CheckOptions): ReadonlyArray<Check> => {
  const suite: Suite = {
    ...timeOf(options),
    // `make` is called when the check runs, not when it is built: a store may start only then.
    withBudget: (budgetOptions, self) => Effect.suspend(() => Effect.provide(self, withHub(make(budgetOptions))))
  }
  return [
    neverOverLimits,
    refusesWhole,
    capsNamedAgents,
    settlesOnce,
    keepsTheTruth,
    refusesBadAmounts,
    refusesWrongTypes,
    alertsOnce,
    ...WithReservation.checks
  ].map((check) => check(suite))
}
