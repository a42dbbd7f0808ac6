import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Demo from "../src/Demo.js"

// Each scenario end to end against FakeAnthropic over real HTTP: timings vary, so only the relations
// between the measured figures are asserted, never the figures themselves.
const scenario = (name: Demo.ScenarioName) =>
  Effect.map(Demo.run({ scenarios: [name] }), (report) => {
    const [result] = report.results
    if (result === undefined) throw new Error(`no result for ${name}`)
    return result
  })

const statuses = (side: Demo.ScenarioResult["naive"], status: number) =>
  side.calls.filter((c) => c.status === status).length

describe("fleetguard demo", () => {
  it.live(
    "storm: the guarded fleet draws fewer 429s and makes fewer calls while told to wait",
    () =>
      Effect.gen(function* () {
        const result = yield* scenario("storm")
        const table = Demo.format({ results: [result], wallMillis: 0 })
        // Each naive agent's first two attempts fall in the window; the gate lets few through.
        expect(statuses(result.guarded, 429), table).toBeLessThan(statuses(result.naive, 429))
        const [, naiveWaiting, guardedWaiting] =
          result.rows.find(([label]) => label.startsWith("calls made while")) ?? []
        expect(Number(guardedWaiting), table).toBeLessThan(Number(naiveWaiting))
        expect(result.pauses, table).toBeGreaterThanOrEqual(1)
      }),
    30_000
  )

  it.live(
    "budget: the guarded fleet stays within its fleet limit; the naive one spends its agents' caps",
    () =>
      Effect.gen(function* () {
        const result = yield* scenario("budget")
        expect(result.guarded.spentUsd).toBeLessThanOrEqual(result.limitUsd)
        expect(result.naive.spentUsd).toBeGreaterThan(result.limitUsd)
        expect(result.refused.BudgetExceeded).toBeGreaterThan(0)
      }),
    30_000
  )

  it.live(
    "fanout: the guarded tree is cut in depth and width, and says what it dropped",
    () =>
      Effect.gen(function* () {
        const result = yield* scenario("fanout")
        // 1 + 6 + 36 + 216 naive; 1 + 4 + 16 guarded (depths 0 to 2, 4 wide).
        expect(result.naive.calls.length).toBe(259)
        expect(result.guarded.calls.length).toBe(21)
        expect(result.refused.FanOutTruncated).toBe(2 * 21)
        expect(result.refused.DepthLimitExceeded).toBe(64)
        expect(result.guarded.spentUsd).toBeLessThan(result.naive.spentUsd)
      }),
    30_000
  )

  it.live(
    "trip: the breaker interrupts the 15 streams in flight and nothing starts after it",
    () =>
      Effect.gen(function* () {
        const result = yield* scenario("trip")
        const lanes = result.lanes
        expect(lanes?.guarded.filter((l) => l.interrupted)).toHaveLength(15)
        expect(lanes?.naive.filter((l) => l.interrupted)).toHaveLength(0)
        expect(Math.max(...(lanes?.guarded ?? []).map((l) => l.end))).toBeLessThan(
          Math.min(...(lanes?.naive ?? []).map((l) => l.end))
        )
        // What the interrupted streams were charged is measured, not asserted: settling an interruption is
        // conservative, so it can come near what the naive streams cost in full.
        expect(result.rows).toContainEqual(["requests started after the trip", expect.any(String), "0"])
      }),
    30_000
  )

  it.live(
    "all at once: the naive fleet overspends; the guarded one stays within its limit and draws fewer 429s",
    () =>
      Effect.gen(function* () {
        const result = yield* scenario("all")
        expect(result.guarded.spentUsd).toBeLessThanOrEqual(result.limitUsd)
        expect(statuses(result.guarded, 429)).toBeLessThan(statuses(result.naive, 429))
        expect(result.guarded.calls.length).toBeLessThan(result.naive.calls.length)
        expect(result.refused.FanOutTruncated).toBeGreaterThan(0)
        expect(result.naive.spentUsd).toBeGreaterThan(result.limitUsd)
        expect(result.refused.BudgetExceeded).toBeGreaterThan(0)
        expect(Demo.html({ results: [result], wallMillis: 0 })).toContain('data-chart="all-spend"')
      }),
    60_000
  )
})
