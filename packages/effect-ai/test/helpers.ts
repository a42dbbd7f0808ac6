import { AnthropicClient, AnthropicLanguageModel } from "@effect/ai-anthropic"
import { FetchHttpClient } from "@effect/platform"
import { GuardEvents, Guards, type GuardsOptions, Retry, type RetryOptions } from "@fleetguard/core"
import type { FakeAnthropic } from "@fleetguard/testing"
import { Chunk, Effect, Layer, Redacted, TestClock } from "effect"
import { GuardedLanguageModel } from "../src/index.js"

export const guards: GuardsOptions = {
  budget: { limitUsd: 100, perAgentLimitUsd: 100 },
  concurrency: { maxConcurrency: 5 },
  depth: { maxDepth: 3, maxFanOut: 4 },
  breaker: { failureThreshold: 10, resetAfter: "30 seconds", halfOpenMaxCalls: 2 }
}

/** @effect/ai-anthropic over real HTTP to `fake`, guarded; with a hub of the test's own. */
export interface GuardedOptions {
  readonly guards?: Partial<GuardsOptions>
  readonly retry?: RetryOptions
  readonly apiKey?: string
}

export const guardedOver = (fake: FakeAnthropic.FakeAnthropicService, options: GuardedOptions = {}) =>
  GuardedLanguageModel.layer.pipe(
    Layer.provide(
      AnthropicLanguageModel.layer({ model: "claude-haiku-4-5" }).pipe(
        Layer.provide(
          AnthropicClient.layer({ apiKey: Redacted.make(options.apiKey ?? fake.apiKey), apiUrl: fake.baseURL })
        ),
        Layer.provide(FetchHttpClient.layer)
      )
    ),
    Layer.provideMerge(
      Layer.mergeAll(Guards.layer({ ...guards, ...options.guards }), Retry.layer(options.retry ?? { maxAttempts: 1 }))
    ),
    Layer.provideMerge(GuardEvents.layer())
  )

/** The model and max tokens every test call is estimated from, and sent with. */
export const haiku = AnthropicLanguageModel.withConfigOverride({ model: "claude-haiku-4-5", max_tokens: 100 })

/** Real time passing while the server works: this is waiting for I/O, not a timed assertion. */
export const io = Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 2)))

/** Waits until a fiber (the server's) sleeps on the TestClock, so that adjusting the clock wakes it. */
export const untilSleeping = Effect.gen(function* () {
  while (Chunk.isEmpty(yield* TestClock.sleeps())) yield* io
})
