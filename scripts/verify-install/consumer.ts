// Type-checked against the published .d.ts files only (under NodeNext and under Bundler resolution), in a
// project that installed the packed tarballs with npm. It exercises every package's entry
// point but @fleetguard/effect-ai's, which consumer-effect-ai.ts checks.
import { AnthropicProvider, type AnthropicProviderOptions } from "@fleetguard/anthropic"
import { Demo } from "@fleetguard/cli"
import {
  Agent,
  type BudgetExceeded,
  type Completion,
  Guards,
  type InvalidOption,
  LlmClient,
  type LlmError,
  type LlmProvider
} from "@fleetguard/core"
import { RedisGuards } from "@fleetguard/redis"
import { FakeAnthropic, TestProvider } from "@fleetguard/testing"
import { Effect, Layer, Redacted } from "effect"

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

const ask = (agent: string, question: string): Effect.Effect<Completion, LlmError, LlmClient> =>
  Agent.run(
    agent,
    LlmClient.complete({
      model: "claude-sonnet-4-6",
      maxTokens: 512,
      messages: [{ role: "user", content: question }]
    })
  )

// Every requirement is met by the layers (whose options can be refused): the program's context is `never` (this only holds when fleetguard's
// declarations and this file see one copy of effect).
export const program: Effect.Effect<Completion, LlmError | InvalidOption> = Effect.provide(ask("a", "hello"), Live)

// Typed errors are a union the caller can narrow.
export const refused = (error: LlmError): error is BudgetExceeded => error._tag === "BudgetExceeded"

const options: AnthropicProviderOptions = { apiKey: Redacted.make("sk-test"), baseURL: "http://127.0.0.1:1" }
export const provider: Layer.Layer<LlmProvider, unknown> = AnthropicProvider.layer(options)
export const fake = FakeAnthropic.layer()
export const demo = Demo.run
export const shared = RedisGuards.layerConfig()

// @ts-expect-error internals are not part of the published API
export const internal = import("@fleetguard/core/internal/ledger")
// @ts-expect-error nor is a module path
export const budget = import("@fleetguard/core/Budget")
