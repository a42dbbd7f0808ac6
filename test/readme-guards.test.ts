// The README's first example, run as written, so the documented usage cannot rot.

import { expect, it } from "@effect/vitest"
import { Agent, Budget, Concurrency, Depth } from "@fleetguard/core"
import { Effect, Exit, Layer } from "effect"

const Guards = Layer.mergeAll(
  Concurrency.layer({ maxConcurrency: 5 }),
  Budget.layer({ limitUsd: 10, perAgentLimitUsd: 0.5 }),
  Depth.layer({ maxDepth: 3, maxFanOut: 4 })
)

const callModel = (prompt: string) =>
  Concurrency.withPermit(
    Budget.withReservation({ usd: 0.05, actualUsd: (reply: { costUsd: number }) => reply.costUsd })(
      Effect.succeed({ text: `echo: ${prompt}`, costUsd: 0.01 })
    )
  )

const researcher = (topic: string) =>
  Agent.run(
    `researcher-${topic}`,
    Effect.gen(function* () {
      const plan = yield* callModel(`plan ${topic}`)
      const { results, dropped } = yield* Depth.fanOut(["a", "b", "c"], (part) => callModel(`${plan.text} ${part}`))
      return { results, dropped }
    })
  )

it.effect("the README example charges every call to its agent, within the fleet budget", () =>
  Effect.gen(function* () {
    const runs = yield* Effect.all(["rust", "effect", "llms"].map(researcher), { concurrency: "unbounded" })
    for (const { results, dropped } of runs) {
      expect(dropped).toBe(0)
      expect(results.every(Exit.isSuccess)).toBe(true)
    }
    const spend = yield* Budget.snapshot
    expect(spend.spentUsd).toBeCloseTo(0.12, 9)
    expect(spend.reservedUsd).toBe(0)
    expect(spend.agents["researcher-rust"]).toEqual({ spentUsd: 0.04, reservedUsd: 0 })
  }).pipe(Effect.provide(Guards))
)
