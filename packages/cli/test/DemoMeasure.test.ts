import { Events } from "@fleetguard/core"
import { describe, expect, it } from "vitest"
import * as Measure from "../src/internal/demo/measure.js"
import type { Call } from "../src/internal/demo/scenario.js"

const call = (at: number, status: number, endedAt: number = at): Call => ({
  at,
  endedAt,
  status,
  outcome: "answered",
  stream: false
})

describe("the demo's measures", () => {
  it("counts a pause once, however often it is extended", () => {
    const pause = (at: number, pausedUntil: number, extended: boolean) =>
      new Events.RateLimitPause({ at, pausedUntil, capped: false, extended })
    // Two extensions of the first pause, then a second pause once it had ended.
    const events = [pause(0, 1000, false), pause(10, 1010, true), pause(20, 1020, true), pause(1500, 2500, false)]
    expect(Measure.pauses(events)).toBe(2)
  })

  it("counts the calls made while an earlier 429 said wait", () => {
    const calls = [call(0, 429, 5), call(3, 429, 8), call(500, 200), call(1004, 200), call(1100, 200)]
    // 500 is within both waits, 1004 within the second's (8 + 1000); 1100 is after both; the 429s
    // themselves arrived before any 429 was answered.
    expect(Measure.madeWhileWaiting(calls, 1000)).toBe(2)
  })

  it("finds the first wave after the wait and how it bunched up", () => {
    const calls = [call(0, 429, 10), call(1, 429, 11), call(1010, 200), call(1012, 200), call(1500, 200)]
    const wave = Measure.firstWave(calls, 1000, 2)
    expect(wave.map((c) => c.at)).toEqual([1010, 1012])
    expect(Measure.spread(wave)).toBe(2)
    expect(Measure.bursts(calls)).toEqual([2, 2, 1])
  })

  it("sums spend in nanodollars, as the ledger does", () => {
    expect(
      Measure.spent([
        { at: 0, usd: 0.1 },
        { at: 1, usd: 0.2 }
      ])
    ).toBe(0.3)
  })
})
