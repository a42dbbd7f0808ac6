/**
 * The per-agent cap applies to named agents (`Agent.run`); a call outside any agent (agent
 * "default") is under the fleet limit alone, so a simple program can spend its whole budget.
 */
import { describe, expect, it } from "@effect/vitest"
import { Agent, Budget, BudgetExceeded, GuardEvents, Guards, LlmClient } from "@fleetguard/core"
import { TestProvider } from "@fleetguard/testing"
import { Effect, Layer } from "effect"
import { request } from "../support/client.js"

/** Estimated at about $0.96 (64,000 output tokens at $15 per million): above a $2 fleet's ⅕. */
const big = { ...request("hello", "claude-sonnet-4-5"), maxTokens: 64_000 }

const client = LlmClient.layer.pipe(
  Layer.provideMerge(Layer.merge(Guards.layer({ budget: { limitUsd: 2 } }), TestProvider.layer())),
  Layer.provideMerge(GuardEvents.layer())
)

describe("the default agent: under the fleet limit alone", () => {
  it.effect("a call outside any agent may reserve more than the per-agent cap; a named agent may not", () =>
    Effect.gen(function* () {
      expect((yield* Budget.snapshot).perAgentLimitUsd).toBe(0.4)
      yield* LlmClient.complete(big)
      const refused = yield* Effect.flip(Agent.run("named", LlmClient.complete(big)))
      expect(refused).toBeInstanceOf(BudgetExceeded)
      expect(refused).toMatchObject({ scope: "agent", agentId: "named" })
      const snapshot = yield* Budget.snapshot
      expect(Object.keys(snapshot.agents)).toContain("default")
      expect(snapshot.agents.default?.reservedUsd).toBe(0)
      expect(snapshot.agents.default?.spentUsd).toBeGreaterThan(0)
    }).pipe(Effect.provide(client))
  )

  it.effect("a program with no agents can spend the whole fleet limit, and no more", () =>
    Effect.gen(function* () {
      const first = yield* Budget.reserve("default", 1.5)
      expect((yield* Budget.snapshot).agents.default).toEqual({ spentUsd: 0, reservedUsd: 1.5 })
      yield* Budget.reserve("default", 0.5)
      expect(yield* Effect.flip(Budget.reserve("default", 0.01))).toMatchObject({ scope: "fleet" })
      yield* Budget.commit(first, 1.5)
      expect(yield* Budget.snapshot).toMatchObject({ spentUsd: 1.5, reservedUsd: 0.5 })
    }).pipe(Effect.provide(Budget.layer({ limitUsd: 2 })))
  )
})
