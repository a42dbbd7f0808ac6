// Run with plain `node` in a project that installed the packed tarballs with npm: the README's
// "Guarded LLM calls" example as JavaScript, then one streamed call through AnthropicProvider and the
// official SDK to a local FakeAnthropic. Any failure throws, and node exits non-zero.
import { strict as assert } from "node:assert"
import { AnthropicProvider } from "@fleetguard/anthropic"
import { Agent, Budget, Guards, LlmClient } from "@fleetguard/core"
import { FakeAnthropic, TestProvider } from "@fleetguard/testing"
import { Effect, Either, Layer, Redacted, Stream } from "effect"

const guards = Guards.layer({
  budget: { limitUsd: 10, perAgentLimitUsd: 0.5 },
  concurrency: { maxConcurrency: 5 },
  depth: { maxDepth: 3, maxFanOut: 4 },
  breaker: { failureThreshold: 10, resetAfter: "30 seconds", halfOpenMaxCalls: 2 }
})

const ask = (agent, question) =>
  Agent.run(
    agent,
    LlmClient.complete({
      model: "claude-sonnet-4-6",
      maxTokens: 512,
      messages: [{ role: "user", content: question }]
    })
  )

// 1. Guards and LlmClient with the in-memory TestProvider.
const Live = LlmClient.layer.pipe(Layer.provideMerge(guards), Layer.provideMerge(TestProvider.layer()))
const [results, spend, calls] = await Effect.runPromise(
  Effect.all([
    Effect.all([ask("a", "hello"), ask("b", "world")], { concurrency: "unbounded", mode: "either" }),
    Budget.snapshot,
    Effect.flatMap(TestProvider.TestProvider, (provider) => provider.calls)
  ]).pipe(Effect.provide(Live))
)
assert.equal(results.length, 2)
for (const result of results) {
  assert.ok(Either.isRight(result), `a call failed: ${JSON.stringify(result)}`)
  assert.ok(result.right.costUsd > 0, "a completion is priced")
}
assert.equal(calls.length, 2, "the provider saw both calls")
assert.deepEqual(Object.keys(spend.agents).sort(), ["a", "b"])
assert.ok(Math.abs(spend.spentUsd - results.reduce((sum, r) => sum + r.right.costUsd, 0)) < 1e-9)
assert.equal(spend.reservedUsd, 0, "every reservation is settled")
console.log(`TestProvider: 2 calls completed, $${spend.spentUsd.toFixed(6)} spent`)

// 2. AnthropicProvider (through @anthropic-ai/sdk) against FakeAnthropic over HTTP (@effect/platform-node).
const streamed = Effect.gen(function* () {
  const fake = yield* FakeAnthropic.make({ outputTokens: 5 })
  const provider = AnthropicProvider.layer({ apiKey: Redacted.make(fake.apiKey), baseURL: fake.baseURL })
  const text = []
  const completion = yield* LlmClient.stream({
    model: "claude-haiku-4-5",
    maxTokens: 64,
    messages: [{ role: "user", content: "Write a haiku about budgets." }]
  }).pipe(
    Stream.tap((part) => Effect.sync(() => part._tag === "TextDelta" && text.push(part.text))),
    Stream.runLast,
    Effect.provide(LlmClient.layer.pipe(Layer.provideMerge(guards), Layer.provideMerge(provider)))
  )
  return { text: text.join(""), completion, requests: yield* fake.requests }
}).pipe(Effect.scoped)
const { text, completion, requests } = await Effect.runPromise(streamed)
assert.equal(completion._tag, "Some")
assert.equal(completion.value._tag, "Completion")
assert.ok(completion.value.completion.costUsd > 0)
assert.equal(text.trim().split(/\s+/).length, 5)
assert.deepEqual(
  requests.map((request) => request.path),
  ["/v1/messages"]
)
console.log(`AnthropicProvider → FakeAnthropic: streamed "${text.trim()}", $${completion.value.completion.costUsd}`)

// 3. Only the package roots are exported: no path into internals or dist.
for (const specifier of [
  "@fleetguard/core/Budget",
  "@fleetguard/core/internal/ledger",
  "@fleetguard/core/dist/index.js"
]) {
  await assert.rejects(import(specifier), { code: "ERR_PACKAGE_PATH_NOT_EXPORTED" }, specifier)
}
console.log("internals are not exported")
