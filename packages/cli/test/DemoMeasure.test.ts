import { Events } from "@fleetguard/core"
import { describe, expect, it } from "vitest"
import * as Measure from "../src/internal/demo/measure.js"
import type { Call } from "../src/internal/demo/scenario.js"
import { settled } from "./journalLines.js"

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

  it("counts the requests sent after the client had seen a 429, before its wait was over", () => {
    // The client saw a 429 at 60 (wait until 1060) and one at 1200 (until 2200).
    const waits = [
      { from: 60, until: 1060 },
      { from: 1200, until: 2200 }
    ]
    // 0 and 50 left before any 429 reached the client, although the server may have answered 429 by
    // then (a 429 answered says nothing to a request already on its way); 1100 is between the waits.
    expect(Measure.madeWhileWaiting([0, 50, 500, 1059, 1100, 1300], waits)).toBe(3)
  })

  it("reads the guarded side's waits from its gate's pauses, in millis since the side started", () => {
    const events = [
      new Events.RateLimitPause({ at: 10_060, pausedUntil: 11_060, capped: false, extended: false }),
      new Events.RateLimitPause({ at: 10_070, pausedUntil: 11_070, capped: false, extended: true })
    ]
    expect(Measure.pausedWaits(events, 10_000)).toEqual([
      { from: 60, until: 1060 },
      { from: 70, until: 1070 }
    ])
  })

  it("reads a naive client's wait from a 429's headers as the SDK does: retry-after-ms, else retry-after", () => {
    expect(Measure.waitOf(new Headers({ "retry-after": "1" }), 500)).toEqual({ from: 500, until: 1500 })
    expect(Measure.waitOf(new Headers({ "retry-after-ms": "250", "retry-after": "1" }), 500)).toEqual({
      from: 500,
      until: 750
    })
    // No wait asked for: the client was told nothing about when to come back.
    expect(Measure.waitOf(new Headers(), 500)).toEqual({ from: 500, until: 500 })
  })

  it("finds the first wave after the first wait and how it bunched up", () => {
    const waits = [
      { from: 11, until: 1011 },
      { from: 10, until: 1010 },
      { from: 2000, until: 3000 }
    ]
    expect(Measure.endOfFirstWait(waits)).toBe(1010)
    expect(Measure.endOfFirstWait([])).toBeUndefined()
    const calls = [call(0, 429, 10), call(1, 429, 11), call(1010, 200), call(1012, 200), call(1500, 200)]
    const wave = Measure.firstWave(calls, 1010, 2)
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

  it("tells what the API reported (finished answers) from what fleetguard charged (every settlement)", () => {
    const events = [
      settled(1_100, "a", 0.01, "success"),
      settled(1_200, "b", 0.02, "interrupted"),
      settled(1_300, "c", 0, "failure")
    ]
    expect(Measure.reported(events, 1_000)).toEqual([{ at: 100, usd: 0.01 }])
    expect(Measure.charged(events, 1_000)).toEqual([
      { at: 100, usd: 0.01 },
      { at: 200, usd: 0.02 }
    ])
  })

  it("wasted spend: what the agents that failed had been charged", () => {
    const events = [settled(0, "a", 0.01, "success"), settled(1, "b", 0.02, "success"), settled(2, "b", 0, "failure")]
    expect(Measure.chargedTo(events, new Set(["b"]))).toBe(0.02)
    expect(Measure.chargedTo(events, new Set())).toBe(0)
  })
})
