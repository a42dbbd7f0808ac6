/**
 * One worker of the example: ten research agents asking FakeAnthropic five questions each,
 * through LlmClient and AnthropicProvider. With FLEETGUARD_REDIS_URL set its guards are on Redis
 * (shared with every worker on the same FLEETGUARD_REDIS_PREFIX); without, in memory (its own).
 * The one switch is `RedisGuards.guardsLayerConfig()`. Prints one line of JSON: what it spent.
 */
import { AnthropicProvider } from "@fleetguard/anthropic"
import { Agent, LlmClient, Retry } from "@fleetguard/core"
import { RedisGuards } from "@fleetguard/redis"
import { Effect, Layer } from "effect"

const AGENTS = 10
const QUESTIONS = 5

const live = LlmClient.layer.pipe(
  Layer.provideMerge(
    Layer.mergeAll(RedisGuards.guardsLayerConfig(), AnthropicProvider.layerConfig(), Retry.layer({ maxAttempts: 1 }))
  )
)

const ask = (agent: number, question: number) =>
  LlmClient.complete({
    model: "claude-haiku-4-5",
    maxTokens: 1024,
    messages: [{ role: "user", content: `Agent ${agent}, question ${question}: summarise the incident report.` }]
  })

const program = Effect.gen(function* () {
  let spentUsd = 0
  let answered = 0
  let refused = 0
  const researcher = (agent: number) =>
    Agent.run(
      `researcher-${process.pid}-${agent}`,
      Effect.forEach(
        Array.from({ length: QUESTIONS }, (_, q) => q),
        (question) =>
          ask(agent, question).pipe(
            Effect.match({
              onSuccess: (completion) => {
                spentUsd += completion.costUsd
                answered++
              },
              onFailure: () => {
                refused++
              }
            })
          )
      )
    )
  yield* Effect.forEach(
    Array.from({ length: AGENTS }, (_, a) => a),
    researcher,
    { concurrency: "unbounded" }
  )
  console.log(JSON.stringify({ spentUsd, answered, refused }))
})

Effect.runPromise(Effect.provide(program, live)).catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
