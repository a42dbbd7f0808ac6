/**
 * The breaker on Redis is used through `protect` only: a burst of 429s through LlmClient must leave
 * it closed there too (a real redis-server, real time: the store's leases run on it).
 */
import { expect, it } from "@effect/vitest"
import { Agent, CircuitBreaker, Depth, GuardEvents, LlmClient, Pricing, RateLimited } from "@fleetguard/core"
import { TestProvider } from "@fleetguard/testing"
import { Effect, Either, Layer } from "effect"
import { guards, withRedis } from "../../packages/redis/test/support.js"
import { request } from "../support/client.js"

withRedis("LlmClient over Redis guards: a burst of 429s never opens the breaker", (server) => {
  it.live("20 agents, a wave of 8 429s (one per permit): all answered, the shared breaker closed", () =>
    Effect.gen(function* () {
      // One 429 per permit: the first wave, then answers.
      const provider = TestProvider.layer(({ index }) =>
        index < 8
          ? TestProvider.fail(new RateLimited({ message: "rate limited", retryAfterMillis: 100 }), "10 millis")
          : TestProvider.reply({ latency: "10 millis" })
      )
      const client = LlmClient.layer.pipe(
        Layer.provideMerge(
          Layer.mergeAll(
            guards(server(), {
              budget: { limitUsd: 10 },
              concurrency: { maxConcurrency: 8 },
              breaker: { failureThreshold: 5, resetAfter: "30 seconds", halfOpenMaxCalls: 1 }
            }),
            Depth.layer({ maxDepth: 4, maxFanOut: 8 }),
            Pricing.layer(),
            provider
          )
        ),
        Layer.provideMerge(GuardEvents.layer())
      )
      const outcome = yield* Effect.gen(function* () {
        const results = yield* Effect.forEach(
          Array.from({ length: 20 }, (_, i) => i),
          (i) => Effect.either(Agent.run(`agent-${i}`, LlmClient.complete(request()))),
          { concurrency: "unbounded" }
        )
        const calls = yield* (yield* TestProvider.TestProvider).calls
        return { results, limited: calls.filter((c) => c.step === "Fail").length, state: yield* CircuitBreaker.state }
      }).pipe(Effect.provide(client), Effect.timeout("20 seconds"))
      expect(outcome.limited).toBe(8)
      expect(outcome.results.filter(Either.isLeft).map((r) => r.left)).toEqual([])
      expect(outcome.state).toBe("Closed")
    })
  )
})
