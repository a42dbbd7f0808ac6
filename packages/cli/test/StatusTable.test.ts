import { describe, expect, it } from "@effect/vitest"
import { Events, type JournalLine } from "@fleetguard/core"
import { Either, FastCheck as fc } from "effect"
import * as Status from "../src/Status.js"
import * as Summary from "../src/Summary.js"
import { line, settled, started } from "./journalLines.js"

const table = (
  lines: ReadonlyArray<JournalLine>,
  now: number,
  selection: Summary.Selection = {},
  journal = "j.jsonl"
) => Status.table(Either.getOrThrow(Summary.summarize(journal, { lines, torn: 0, unknown: 0 }, selection)), now)

describe("Status.table", () => {
  it("counts runs in words that agree with the number", () => {
    const one = [line("r", started(0))]
    expect(table(one, 0)).toContain("run         r (1 run)\n")
    expect(table(one, 0, { all: true })).toContain("run         all 1 run\n")
    const two = [...one, line("s", started(1))]
    expect(table(two, 1)).toContain("run         s (2 runs; --run ID or --all for others)\n")
    expect(table(two, 1, { all: true })).toContain("run         all 2 runs\n")
  })

  it("lists an agent that was only refused, with nothing spent and its refusals", () => {
    const lines = [
      line("r", settled(1, "planner", 0.5)),
      line("r", new Events.Rejected({ at: 2, agentId: "writer", reason: "BudgetExceeded", detail: "" })),
      line("r", new Events.Rejected({ at: 3, agentId: "writer", reason: "BudgetExceeded", detail: "" }))
    ]
    const text = table(lines, 3)
    expect(text).toMatch(/\n {2}planner +\$0\.5000 +1 call\n/)
    expect(text).toMatch(/\n {2}writer +\$0\.0000 +0 calls +refused BudgetExceeded 2\n/)
  })

  it("says whether the run has ended, or since when it has been silent", () => {
    const going = [line("r", started(0)), line("r", settled(4_000, "a", 0))]
    expect(table(going, 10_000)).toContain(
      "state       not ended (no RunEnded): still going, or cut off; last event 6 s ago"
    )
    const ended = [...going, line("r", new Events.RunEnded({ at: 5_000 }))]
    expect(table(ended, 10_000)).toContain("state       ended at 1970-01-01T00:00:05.000Z")
    expect(table([...ended, line("s", started(6_000))], 10_000, { all: true })).toContain(
      "state       not every run has ended (no RunEnded): still going, or cut off; last event 4 s ago"
    )
  })

  it("says the per-agent figures are partial, and by how much, when the journal lost events or a run's start", () => {
    const lines = [
      line("r", started(0)),
      line("r", settled(1, "a", 0.125)),
      line("r", new Events.EventsDropped({ at: 2, dropped: 87 })),
      line("r", new Events.RunEnded({ at: 3, spentUsd: 1, reservedUsd: 0 }))
    ]
    const dropped = table(lines, 3)
    expect(dropped).toContain("agents by spend: partial, the journal's writer dropped 87 events (EventsDropped)")
    expect(dropped).toContain("the agents below account for $0.1250 of the $1.0000 spent")
    const pruned = table(lines.slice(1), 3)
    expect(pruned).toContain("the run's first lines were rotated away (maxFiles)")
    expect(table(lines.slice(0, 2), 3)).toMatch(/\nagents by spend\n/)
  })

  it("prints what came from the journal with its control characters escaped", () => {
    const hostile = "evil\x1b]0;owned\x07\x1b[2J\u202e\u009b1m\nfake line"
    const lines = [
      line(`run-${hostile}`, settled(1, hostile, 0.5)),
      line(`run-${hostile}`, new Events.Rejected({ at: 2, agentId: `b${hostile}`, reason: "CircuitOpen", detail: "" }))
    ]
    const text = table(lines, 2, {}, `/tmp/${hostile}.jsonl`)
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the point is that none is left
    expect(text).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f\u202e]/)
    expect(text).toContain("evil\\x1b]0;owned\\x07\\x1b[2J\\u202e\\x9b1m\\nfake line")
    expect(text.split("\n").some((l) => l.startsWith("fake line"))).toBe(false)
  })

  it.prop(
    "prints whatever times and amounts the lines hold, without throwing",
    [
      fc.array(fc.tuple(fc.double(), fc.double(), fc.constantFrom("call", "pause", "trip", "ended")), { maxLength: 20 })
    ],
    ([values]) => {
      const lines = values.map(([a, b, kind], i) =>
        line(
          "r",
          kind === "call"
            ? settled(a, "a", b)
            : kind === "pause"
              ? new Events.RateLimitPause({ at: i, pausedUntil: a, capped: false })
              : kind === "trip"
                ? new Events.BreakerOpened({ at: a, interrupted: b, interruptedAgents: 0, trips: 1 })
                : new Events.RunEnded({ at: a, spentUsd: b })
        )
      )
      expect(table(lines, values.length)).toContain("fleet ")
    }
  )
})
