// The README's LlmClient example, run as written.

import { expect, it } from "@effect/vitest"
import { Agent, Guards, LlmClient } from "@fleetguard/core"
import { TestProvider } from "@fleetguard/testing"
import { Effect, Either, Layer } from "effect"

const Live = LlmClient.layer.pipe(
  Layer.provideMerge(
    Guards.layer({
      budget: { limitUsd: 10, perAgentLimitUsd: 0.5 },
      concurrency: { maxConcurrency: 5 },
      depth: { maxDepth: 3, maxFanOut: 4 },
      breaker: { failureThreshold: 10, resetAfter: "30 seconds", halfOpenMaxCalls: 2 }
    })
  ),
  Layer.provideMerge(TestProvider.layer())
)

const ask = (agent: string, question: string) =>
  Agent.run(
    agent,
    LlmClient.complete({
      model: "claude-sonnet-4-6",
      maxTokens: 512,
      messages: [{ role: "user", content: question }]
    })
  )

it.effect("the README's LlmClient example answers both agents and prices each answer", () =>
  Effect.gen(function* () {
    const results = yield* Effect.all([ask("a", "hello"), ask("b", "world")], {
      concurrency: "unbounded",
      mode: "either"
    })
    for (const result of results) {
      expect(Either.isRight(result)).toBe(true)
      if (Either.isRight(result)) expect(result.right.costUsd).toBeGreaterThan(0)
    }
  }).pipe(Effect.provide(Live))
)
