import { describe, expect, it } from "@effect/vitest"
import { Events, type JournalLine } from "@fleetguard/core"
import { Either, FastCheck as fc } from "effect"
import * as Summary from "../src/Summary.js"

const settled = (at: number, agentId: string, costUsd: number) =>
  new Events.CallSettled({
    at,
    agentId,
    model: "claude-haiku-4-5",
    outcome: "success",
    attempts: 1,
    reservedUsd: costUsd,
    costUsd,
    inputTokens: 1,
    outputTokens: 1,
    cacheCreationInputTokens: 0,
    cacheReadInputTokens: 0
  })

const line = (runId: string, event: Events.GuardEvent): JournalLine => ({ v: 1, at: event.at, pid: 1, runId, event })

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
    const started = new Events.RunStarted({
      at: 0,
      budget: { limitUsd: 5, perAgentLimitUsd: 1, alertAt: 0.8 },
      journal: { maxBytes: 1, maxFiles: 1, capacity: 1 }
    })
    const lines = [
      line("r", started),
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
