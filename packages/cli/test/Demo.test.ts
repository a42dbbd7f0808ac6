import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Demo from "../src/Demo.js"

// No incident and no latency: nothing waits, so the counts are exact whatever the timing.
const options: Demo.DemoOptions = {
  ...Demo.defaults,
  agents: 4,
  branches: 2,
  levels: 3,
  outputTokens: 200,
  latency: 0,
  incident: 0,
  budgetUsd: 0.05,
  agentBudgetUsd: 0.02,
  maxDepth: 2
}
const tree = (levels: number) => Array.from({ length: levels + 1 }, (_, l) => 2 ** l).reduce((a, b) => a + b, 0)

describe("fleetguard demo", () => {
  it.live("runs the same fleet naive and guarded, and reports what each cost", () =>
    Effect.gen(function* () {
      const report = yield* Demo.run(options)
      // The naive fleet runs every level its code asks for: 4 × (1 + 2 + 4 + 8) calls.
      expect(report.naive).toMatchObject({ requests: 4 * tree(3), answered: 4 * tree(3), rateLimited: 0 })
      // The depth guard lets agents run at depths 0 and 1 only, and the budget holds.
      expect(report.guarded.requests).toBeLessThanOrEqual(4 * tree(1))
      expect(report.guarded.refused.DepthLimitExceeded).toBeGreaterThan(0)
      expect(report.guarded.spentUsd).toBeLessThanOrEqual(options.budgetUsd)
      expect(report.guarded.spentUsd).toBeGreaterThan(0)
      expect(report.naive.spentUsd).toBeGreaterThan(report.guarded.spentUsd)
      const text = Demo.format(report)
      expect(text).toContain("HTTP requests")
      expect(text).toContain(String(report.naive.requests))
      expect(text).toContain(`$${report.guarded.spentUsd.toFixed(4)}`)
    })
  )
})
