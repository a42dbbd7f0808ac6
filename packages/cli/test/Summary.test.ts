import { describe, expect, it } from "@effect/vitest"
import { Events, type JournalLine } from "@fleetguard/core"
import { Either, FastCheck as fc } from "effect"
import * as Summary from "../src/Summary.js"
import { line, settled, started } from "./journalLines.js"

/** Lines of up to three interleaved runs, in time order, with integer-cent costs. */
const linesArb = fc
  .array(
    fc.record({
      run: fc.integer({ min: 0, max: 2 }),
      gap: fc.integer({ min: 0, max: 1_000 }),
      kind: fc.constantFrom("call", "call", "call", "rejected", "trip"),
      agent: fc.constantFrom("a", "b", "c", "d"),
      cents: fc.integer({ min: 0, max: 500 })
    }),
    { maxLength: 80 }
  )
  .map((steps) => {
    let at = 0
    return steps.map(({ run, gap, kind, agent, cents }) => {
      at += gap
      const event =
        kind === "call"
          ? settled(at, agent, cents / 100)
          : kind === "rejected"
            ? new Events.Rejected({ at, agentId: agent, reason: "BudgetExceeded", detail: "" })
            : new Events.BreakerOpened({ at, interrupted: cents, interruptedAgents: 0, trips: 1 })
      return line(`run-${run}`, event)
    })
  })

const report = (lines: ReadonlyArray<JournalLine>, selection: Summary.Selection) =>
  Either.getOrThrow(Summary.summarize("j.jsonl", { lines, torn: 0, unknown: 0 }, selection))

const cents = (usd: number) => Math.round(usd * 100)

describe("Summary", () => {
  it.prop(
    "every run together: agents by spend, their calls and spend add up to the calls journaled",
    [linesArb],
    ([lines]) => {
      const all = report(lines, { all: true })
      const calls = lines.flatMap((l) => (l.event._tag === "CallSettled" ? [l.event] : []))
      expect(all.agents.reduce((n, a) => n + a.calls, 0)).toBe(calls.length)
      expect(all.agents.reduce((n, a) => n + cents(a.spentUsd), 0)).toBe(
        calls.reduce((n, c) => n + cents(c.costUsd), 0)
      )
      expect(cents(all.fleet.spentUsd)).toBe(calls.reduce((n, c) => n + cents(c.costUsd), 0))
      for (let i = 1; i < all.agents.length; i++)
        expect(all.agents[i - 1]?.spentUsd ?? 0).toBeGreaterThanOrEqual(all.agents[i]?.spentUsd ?? 0)
      expect(all.runs).toBe(new Set(lines.map((l) => l.runId)).size)
      expect(Object.values(all.rejections).reduce((n, r) => n + r, 0)).toBe(
        lines.filter((l) => l.event._tag === "Rejected").length
      )
    }
  )

  it.prop("by default, the run that began last, and only its lines", [linesArb], ([lines]) => {
    const latest = report(lines, {})
    const runs = Summary.runsOf(lines)
    expect(latest.runId).toBe(runs.at(-1) ?? "")
    const own = lines.filter((l) => l.runId === latest.runId)
    expect(latest.trips).toEqual(
      own.flatMap((l) => (l.event._tag === "BreakerOpened" ? [{ at: l.at, interrupted: l.event.interrupted }] : []))
    )
    expect(latest.lastEventAt).toBe(own.length === 0 ? null : own.at(-1)?.at)
  })

  it.prop(
    "a window counts only what happened in it",
    [linesArb, fc.integer({ min: 0, max: 40_000 })],
    ([lines, since]) => {
      const windowed = report(lines, { all: true, since })
      const inside = report(
        lines.filter((l) => l.at >= since),
        { all: true }
      )
      expect(windowed.agents).toEqual(inside.agents)
      expect(windowed.trips).toEqual(inside.trips)
      expect(windowed.rejections).toEqual(inside.rejections)
      expect(windowed.runs).toBe(inside.runs)
    }
  )

  it("a run that ended counts what its ledger says, reservations included; a run cut by the window only its calls", () => {
    const lines = [
      line("r", started(0)),
      line("r", settled(10, "a", 0.25)),
      line("r", new Events.RunEnded({ at: 20, spentUsd: 0.75, reservedUsd: 0.125 }))
    ]
    expect(report(lines, {}).fleet).toEqual({ limitUsd: 5, spentUsd: 0.75, reservedUsd: 0.125 })
    expect(report(lines, { since: 5 }).fleet).toEqual({ limitUsd: 5, spentUsd: 0.25, reservedUsd: 0 })
  })

  it("an unknown run, or the start of several, is a typed failure", () => {
    const lines = [line("run-1", settled(0, "a", 0)), line("run-2", settled(1, "a", 0))]
    const summarize = (run: string) => Summary.summarize("j", { lines, torn: 0, unknown: 0 }, { run })
    expect(summarize("run-3")).toMatchObject({ left: { _tag: "UnknownRun", known: ["run-1", "run-2"] } })
    expect(summarize("run")).toMatchObject({ left: { _tag: "AmbiguousRun", matches: ["run-1", "run-2"] } })
    expect(summarize("run-2")).toMatchObject({ right: { runId: "run-2" } })
  })
})

const rejected = (at: number, agentId: string, reason: Events.Rejected["reason"]) =>
  new Events.Rejected({ at, agentId, reason, detail: "" })

/** Every number anywhere in `value`. */
const numbers = (value: unknown): ReadonlyArray<number> =>
  typeof value === "number"
    ? [value]
    : typeof value === "object" && value !== null
      ? Object.values(value).flatMap(numbers)
      : []

describe("Summary, as a newcomer reads it", () => {
  it("an agent that was only refused is listed, with nothing spent, beside its refusals", () => {
    const lines = [
      line("r", settled(1, "a", 0.5)),
      line("r", rejected(2, "b", "BudgetExceeded")),
      line("r", rejected(3, "b", "CircuitOpen")),
      line("r", rejected(4, "a", "BudgetExceeded"))
    ]
    expect(report(lines, {}).agents).toEqual([
      { agentId: "a", spentUsd: 0.5, calls: 1, rejections: { BudgetExceeded: 1 } },
      { agentId: "b", spentUsd: 0, calls: 0, rejections: { BudgetExceeded: 1, CircuitOpen: 1 } }
    ])
  })

  it.prop("every refusal is some agent's, and every refused agent is listed", [linesArb], ([lines]) => {
    const all = report(lines, { all: true })
    const refused = new Set(lines.flatMap((l) => (l.event._tag === "Rejected" ? [l.event.agentId] : [])))
    for (const agentId of refused) expect(all.agents.map((a) => a.agentId)).toContain(agentId)
    const byAgent = all.agents.flatMap((a) => Object.values(a.rejections))
    expect(byAgent.reduce((n, r) => n + r, 0)).toBe(Object.values(all.rejections).reduce((n, r) => n + r, 0))
  })

  it("says when the run ended (its RunEnded), and null while it runs or after it was cut off", () => {
    const ended = [line("r", started(0)), line("r", settled(5, "a", 0)), line("r", new Events.RunEnded({ at: 9 }))]
    const going = [line("s", started(10)), line("s", settled(15, "a", 0))]
    expect(report(ended, {}).endedAt).toBe(9)
    expect(report([...ended, ...going], {}).endedAt).toBe(null)
    expect(report([...ended, ...going], { run: "r" }).endedAt).toBe(9)
    // Every run together has ended when each has; the window does not hide a run's end.
    expect(report([...ended, ...going], { all: true }).endedAt).toBe(null)
    expect(report(ended, { all: true, since: 6 }).endedAt).toBe(9)
  })
})

describe("Summary, over a hostile journal", () => {
  it("a line whose time no Date can hold is skipped and counted, whichever of its times it is", () => {
    const good = line("r", settled(1, "a", 0.25))
    const lines = [
      good,
      { ...line("r", settled(2, "b", 0.25)), at: 1e20 },
      line("r", settled(8.64e15 + 1, "c", 0.25)),
      line("r", new Events.RateLimitPause({ at: 3, pausedUntil: -1e300, capped: false }))
    ]
    const summary = report(lines, {})
    expect(summary).toMatchObject({ skippedLines: 3, lastEventAt: 1, pauses: [] })
    expect(summary.agents).toEqual([{ agentId: "a", spentUsd: 0.25, calls: 1, rejections: {} }])
  })

  it("an amount the ledger could not have held is skipped and counted: sums stay finite", () => {
    const lines = [
      line("r", started(0)),
      line("r", settled(1, "a", 1e308)),
      line("r", settled(2, "a", 1e308)),
      line("r", settled(3, "a", -5)),
      line("r", settled(4, "a", Number.POSITIVE_INFINITY)),
      line("r", settled(5, "a", 0.5)),
      line("r", new Events.RunEnded({ at: 6, spentUsd: 1e300, reservedUsd: 0 }))
    ]
    const summary = report(lines, {})
    expect(summary).toMatchObject({ skippedLines: 5, fleet: { spentUsd: 0.5, reservedUsd: 0 } })
    expect(summary.agents).toEqual([{ agentId: "a", spentUsd: 0.5, calls: 1, rejections: {} }])
  })

  it.prop(
    "whatever numbers the lines hold, every number in the report is finite",
    [fc.array(fc.tuple(fc.double(), fc.double(), fc.constantFrom("call", "ended", "pause", "trip", "dropped")))],
    ([values]) => {
      const lines = values.map(([a, b, kind], i) => {
        const event =
          kind === "call"
            ? settled(i, "a", a)
            : kind === "ended"
              ? new Events.RunEnded({ at: i, spentUsd: a, reservedUsd: b })
              : kind === "pause"
                ? new Events.RateLimitPause({ at: i, pausedUntil: a, capped: false })
                : kind === "trip"
                  ? new Events.BreakerOpened({ at: b, interrupted: a, interruptedAgents: 0, trips: 1 })
                  : new Events.EventsDropped({ at: i, dropped: a })
        return line("r", event)
      })
      for (const selection of [{}, { all: true }])
        for (const n of numbers(report(lines, selection))) expect(n).toSatisfy(Number.isFinite)
    }
  )
})

describe("Summary, telling what the journal lost", () => {
  it("events the writer dropped are counted: the per-agent figures are that much short", () => {
    const lines = [
      line("r", started(0)),
      line("r", settled(1, "a", 0.125)),
      line("r", new Events.EventsDropped({ at: 2, dropped: 87 })),
      line("r", new Events.RunEnded({ at: 3, spentUsd: 1, reservedUsd: 0 })),
      line("other", new Events.EventsDropped({ at: 0, dropped: 5 }))
    ]
    expect(report(lines, { run: "r" })).toMatchObject({ droppedEvents: 87, fleet: { spentUsd: 1 } })
    expect(report(lines, { all: true }).droppedEvents).toBe(92)
    expect(report(lines, { run: "r", since: 3 }).droppedEvents).toBe(0)
  })

  it("a run whose RunStarted was rotated away counts what its RunEnded says, and says its start is missing", () => {
    const pruned = [
      line("r", settled(100, "a", 0.04)),
      line("r", new Events.RunEnded({ at: 200, spentUsd: 1, reservedUsd: 0.25 }))
    ]
    expect(report(pruned, {})).toMatchObject({ prunedRuns: 1, fleet: { spentUsd: 1, reservedUsd: 0.25 } })
    expect(report([line("r", started(0)), ...pruned], {})).toMatchObject({ prunedRuns: 0, fleet: { spentUsd: 1 } })
  })
})
