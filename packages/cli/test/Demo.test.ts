import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Demo from "../src/Demo.js"

// Each scenario end to end against FakeAnthropic over real HTTP: timings vary with the load, so
// only relations between the measured figures are asserted, never the figures themselves.
const scenario = (name: Demo.ScenarioName) =>
  Effect.map(Demo.run({ scenarios: [name] }), (report) => {
    const [result] = report.results
    if (result === undefined) throw new Error(`no result for ${name}`)
    return { result, table: Demo.format({ results: [result], wallMillis: 0 }) }
  })

const statuses = (side: Demo.Side, status: number) => side.calls.filter((c) => c.status === status).length

const row = (result: Demo.ScenarioResult, starting: string) => {
  const found = result.rows.find(([label]) => label.startsWith(starting))
  if (found === undefined) throw new Error(`no row "${starting}"`)
  return found
}

/** What the guarded side cost: its ledger. */
const charged = (side: Demo.Side) => side.charged?.usd ?? Number.NaN

describe("fleetguard demo", () => {
  it.live(
    "storm: naive agents give up when the SDK does and their spend is wasted; guarded ones wait at the gate and finish",
    () =>
      Effect.gen(function* () {
        const { result, table } = yield* scenario("storm")
        expect(result.guarded.finished, table).toBe(result.agents)
        expect(result.naive.finished, table).toBeLessThan(result.guarded.finished)
        expect(result.wasted?.guarded, table).toBe(0)
        expect(result.wasted?.naive, table).toBeGreaterThan(0)
        expect(statuses(result.guarded, 429), table).toBeLessThan(statuses(result.naive, 429))
        // Sent after the client had seen a 429, before its wait ran out.
        const [, naiveWaiting, guardedWaiting] = row(result, "calls sent while")
        expect(Number(guardedWaiting), table).toBeLessThan(Number(naiveWaiting))
        expect(result.pauses, table).toBeGreaterThanOrEqual(1)
      }),
    60_000
  )

  it.live(
    "budget: the guarded fleet stays within its fleet limit; the naive one spends its agents' caps",
    () =>
      Effect.gen(function* () {
        const { result, table } = yield* scenario("budget")
        expect(charged(result.guarded), table).toBeLessThanOrEqual(result.limitUsd)
        expect(result.naive.reportedUsd, table).toBeGreaterThan(result.limitUsd)
        expect(result.refused.BudgetExceeded, table).toBeGreaterThan(0)
      }),
    60_000
  )

  it.live(
    "fanout: the guarded tree is cut in depth and width, and says what it dropped",
    () =>
      Effect.gen(function* () {
        const { result, table } = yield* scenario("fanout")
        // Agents: 1 + 6 + 36 + 216 naive; 1 + 4 + 16 guarded (depths 0 to 2, 4 wide). An agent above the
        // last level plans (a tool call) and answers from the plan's result: two requests; a last-level
        // one researches in one. Naive: 2 × 43 + 216; guarded: every agent plans (its sub-agents refused
        // at maxDepth still make it answer), 2 × 21.
        expect(result.naive.calls.length, table).toBe(302)
        expect(result.guarded.calls.length, table).toBe(42)
        expect([result.naive.finished, result.guarded.finished, result.agents], table).toEqual([259, 21, 259])
        expect(result.refused.FanOutTruncated, table).toBe(2 * 21)
        expect(result.refused.DepthLimitExceeded, table).toBe(64)
        expect(charged(result.guarded), table).toBeLessThan(result.naive.reportedUsd)
      }),
    60_000
  )

  it.live(
    "trip: the breaker interrupts the 15 streams in flight, nothing starts after it, and the cut streams are charged, not reported",
    () =>
      Effect.gen(function* () {
        const { result, table } = yield* scenario("trip")
        const lanes = result.lanes
        expect(
          lanes?.guarded.filter((l) => l.interrupted),
          table
        ).toHaveLength(15)
        expect(
          lanes?.naive.filter((l) => l.interrupted),
          table
        ).toHaveLength(0)
        expect(Math.max(...(lanes?.guarded ?? []).map((l) => l.end)), table).toBeLessThan(
          Math.min(...(lanes?.naive ?? []).map((l) => l.end))
        )
        expect(row(result, "requests started after the trip")[2], table).toBe("0")
        // A cut stream has no final usage: the API reported nothing for it, the ledger its upper bound.
        const [, , streamsReported] = row(result, "the long streams, reported by the API")
        const [, , streamsCharged] = row(result, "the long streams, charged by fleetguard")
        expect(streamsReported, table).toBe("$0.0000")
        expect(Number(streamsCharged.slice(1)), table).toBeGreaterThan(0)
        expect(charged(result.guarded), table).toBeGreaterThan(result.guarded.reportedUsd)
      }),
    60_000
  )

  it.live(
    "all at once: the naive fleet overspends; the guarded one stays within its limit and draws fewer 429s",
    () =>
      Effect.gen(function* () {
        const { result, table } = yield* scenario("all")
        expect(charged(result.guarded), table).toBeLessThanOrEqual(result.limitUsd)
        expect(statuses(result.guarded, 429), table).toBeLessThan(statuses(result.naive, 429))
        expect(result.guarded.calls.length, table).toBeLessThan(result.naive.calls.length)
        expect(result.refused.FanOutTruncated, table).toBeGreaterThan(0)
        expect(result.naive.reportedUsd, table).toBeGreaterThan(result.limitUsd)
        expect(result.refused.BudgetExceeded, table).toBeGreaterThan(0)
        expect(Demo.html({ results: [result], wallMillis: 0 })).toContain('data-chart="all-spend"')
      }),
    60_000
  )

  it.effect("refuses scenarios it does not know, before running anything", () =>
    Effect.gen(function* () {
      const throwing = new Proxy([], {
        get() {
          throw new Error("a getter that throws")
        }
      })
      for (const scenarios of [["storms"], "storm", null, [1], throwing]) {
        const refused = yield* Effect.flip(Demo.run({ scenarios: scenarios as never }))
        expect(refused).toMatchObject({ _tag: "InvalidDemoOption", option: "scenarios" })
      }
    })
  )
})
