// The README's Anthropic example, run as written against FakeAnthropic (its environment given
// through a ConfigProvider, stdout captured).

import { expect, it } from "@effect/vitest"
import { AnthropicProvider } from "@fleetguard/anthropic"
import { Budget, Guards, LlmClient } from "@fleetguard/core"
import { FakeAnthropic } from "@fleetguard/testing"
import { ConfigProvider, Effect, Layer, Stream } from "effect"

const Live = LlmClient.layer.pipe(
  Layer.provideMerge(Guards.layerConfig()), // FLEETGUARD_BUDGET_USD, …
  Layer.provideMerge(AnthropicProvider.layerConfig()) // ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL
)

const haiku = LlmClient.stream({
  model: "claude-haiku-4-5",
  maxTokens: 300,
  messages: [{ role: "user", content: "Write a haiku about budgets." }]
}).pipe(
  Stream.runForEach((part) =>
    part._tag === "TextDelta"
      ? Effect.sync(() => process.stdout.write(part.text))
      : Effect.log(`cost: $${part.completion.costUsd}`)
  )
)

it.effect("the README's Anthropic example streams through the SDK and is charged", () =>
  Effect.gen(function* () {
    const fake = yield* FakeAnthropic.make({ outputTokens: 5 })
    const written: Array<string> = []
    const write = process.stdout.write
    process.stdout.write = ((chunk: string) => written.push(chunk) > 0) as typeof process.stdout.write
    const env = ConfigProvider.fromMap(
      new Map([
        ["ANTHROPIC_API_KEY", fake.apiKey],
        ["ANTHROPIC_BASE_URL", fake.baseURL],
        ["FLEETGUARD_BUDGET_USD", "1"]
      ])
    )
    const spent = yield* Effect.zipRight(haiku, Budget.snapshot).pipe(
      Effect.provide(Live),
      Effect.provide(Layer.setConfigProvider(env)),
      Effect.ensuring(Effect.sync(() => (process.stdout.write = write)))
    )
    expect(written.join("").trim().split(/\s+/)).toHaveLength(5)
    expect(spent.spentUsd).toBeGreaterThan(0)
    expect((yield* fake.requests).map((r) => r.path)).toEqual(["/v1/messages"])
  }).pipe(Effect.scoped)
)
