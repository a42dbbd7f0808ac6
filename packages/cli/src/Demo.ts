/**
 * The demo: one fleet of research agents, run twice against a local FakeAnthropic during a
 * rate-limit incident. The first run is naive code: the SDK's own retries, `Promise.all` fan-out and
 * no budget. The second is the same agents through fleetguard. Every figure in the report is
 * measured: requests from the server's record, spend from the usage the API reported, refusals
 * from the guards' events. Nothing needs a key or the network.
 *
 * @module
 * @since 0.1.0
 */
import Anthropic from "@anthropic-ai/sdk"
import { AnthropicProvider } from "@fleetguard/anthropic"
import {
  Agent,
  Budget,
  type CompletionRequest,
  Depth,
  Events,
  GuardEvents,
  Guards,
  LlmClient,
  type LlmError,
  Pricing,
  type PricingService
} from "@fleetguard/core"
import { FakeAnthropic } from "@fleetguard/testing"
import { Chunk, Duration, Effect, Layer, Queue, Redacted } from "effect"

export interface DemoOptions {
  readonly agents: number
  /** Sub-agents each agent spawns. */
  readonly branches: number
  /** Levels of sub-agents the agents' code asks for below the root. */
  readonly levels: number
  readonly model: string
  /** Tokens the fake writes per reply. */
  readonly outputTokens: number
  readonly latency: Duration.DurationInput
  /** From the start, every call is answered 429 for this long… */
  readonly incident: Duration.DurationInput
  /** …with this retry-after. */
  readonly retryAfterSeconds: number
  readonly budgetUsd: number
  readonly agentBudgetUsd: number
  readonly maxConcurrency: number
  /** The depth guard: agents run at depths 0 … maxDepth − 1. */
  readonly maxDepth: number
}

export const defaults: DemoOptions = {
  agents: 10,
  branches: 3,
  levels: 3,
  model: "claude-sonnet-4-6",
  outputTokens: 600,
  latency: "100 millis",
  incident: "1500 millis",
  retryAfterSeconds: 1,
  budgetUsd: 1,
  agentBudgetUsd: 0.15,
  maxConcurrency: 8,
  maxDepth: 3
}

export interface FleetRun {
  /** POST /v1/messages requests the server received. */
  readonly requests: number
  /** Of those, answered 429. */
  readonly rateLimited: number
  /** Of those, answered with a completion. */
  readonly answered: number
  /** Agents whose work ended in an error (a retry limit, a refusal). */
  readonly failedAgents: number
  readonly spentUsd: number
  readonly elapsedMillis: number
  /** Guard refusals by reason (the guarded run only). */
  readonly refused: Readonly<Record<string, number>>
  /** Times the shared gate closed for a 429 (the guarded run only). */
  readonly pauses: number
}

export interface DemoReport {
  readonly options: DemoOptions
  readonly naive: FleetRun
  readonly guarded: FleetRun
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i)

const prompt = (topic: string) => `Research ${topic} and report what you find.`

const request = (options: DemoOptions, topic: string): CompletionRequest => ({
  model: options.model,
  maxTokens: options.outputTokens,
  messages: [{ role: "user", content: prompt(topic) }]
})

/** A FakeAnthropic in the middle of an incident, for one run. */
const server = (options: DemoOptions) =>
  FakeAnthropic.make({
    latency: options.latency,
    outputTokens: options.outputTokens,
    script: FakeAnthropic.during(
      0,
      Duration.toMillis(options.incident),
      FakeAnthropic.rateLimited({ seconds: options.retryAfterSeconds })
    )
  })

const served = (fake: FakeAnthropic.FakeAnthropicService) =>
  Effect.map(fake.requests, (all) => {
    const messages = all.filter((r) => r.path === "/v1/messages")
    return {
      requests: messages.length,
      rateLimited: messages.filter((r) => r.status === 429).length,
      answered: messages.filter((r) => r.status === 200).length
    }
  })

/** The naive fleet, as it is usually written: each request retried alone by the SDK, no budget, no depth limit. */
const naiveFleet = (options: DemoOptions, fake: FakeAnthropic.FakeAnthropicService, pricing: PricingService) =>
  Effect.promise(async () => {
    const sdk = new Anthropic({ apiKey: fake.apiKey, baseURL: fake.baseURL, logLevel: "off" })
    let spentUsd = 0
    const agent = async (level: number, topic: string): Promise<void> => {
      const r = request(options, topic)
      const message = await sdk.messages.create({
        model: r.model,
        max_tokens: r.maxTokens,
        messages: [{ role: "user", content: prompt(topic) }]
      })
      spentUsd += Effect.runSync(
        pricing.cost(r.model, {
          inputTokens: message.usage.input_tokens,
          outputTokens: message.usage.output_tokens,
          cacheCreationInputTokens: message.usage.cache_creation_input_tokens ?? 0,
          cacheReadInputTokens: message.usage.cache_read_input_tokens ?? 0
        })
      )
      if (level < options.levels)
        await Promise.all(range(options.branches).map((b) => agent(level + 1, `${topic}.${b}`)))
    }
    const started = performance.now()
    const outcomes = await Promise.allSettled(range(options.agents).map((i) => agent(0, `topic ${i}`)))
    return {
      failedAgents: outcomes.filter((o) => o.status === "rejected").length,
      spentUsd,
      elapsedMillis: performance.now() - started
    }
  })

/** The same agents through fleetguard: the code only swaps the SDK call and Promise.all. */
const guardedAgent = (
  options: DemoOptions,
  level: number,
  topic: string
): Effect.Effect<void, LlmError, LlmClient | Depth> =>
  Effect.zipRight(
    LlmClient.complete(request(options, topic)),
    level < options.levels
      ? Effect.flatMap(
          Depth.fanOut(range(options.branches), (b) => guardedAgent(options, level + 1, `${topic}.${b}`)),
          // A sub-agent's failure is its own; the parent's result stands.
          () => Effect.void
        )
      : Effect.void
  )

const guardedFleet = (options: DemoOptions, fake: FakeAnthropic.FakeAnthropicService) =>
  Effect.gen(function* () {
    const events = yield* Events.subscribe
    const started = performance.now()
    const outcomes = yield* Effect.forEach(
      range(options.agents),
      (i) => Effect.either(Agent.run(`agent-${i}`, guardedAgent(options, 0, `topic ${i}`))),
      { concurrency: "unbounded" }
    )
    const elapsedMillis = performance.now() - started
    const seen = Chunk.toReadonlyArray(yield* Queue.takeAll(events))
    const refused: Record<string, number> = {}
    for (const event of seen) if (event._tag === "Rejected") refused[event.reason] = (refused[event.reason] ?? 0) + 1
    return {
      failedAgents: outcomes.filter((o) => o._tag === "Left").length,
      spentUsd: (yield* Budget.snapshot).spentUsd,
      elapsedMillis,
      refused,
      pauses: seen.filter((e) => e._tag === "RateLimitPause").length
    }
  }).pipe(
    Effect.provide(
      LlmClient.layer.pipe(
        Layer.provideMerge(
          Guards.layer({
            budget: { limitUsd: options.budgetUsd, perAgentLimitUsd: options.agentBudgetUsd },
            concurrency: { maxConcurrency: options.maxConcurrency },
            depth: { maxDepth: options.maxDepth, maxFanOut: options.branches },
            breaker: { failureThreshold: 4 * options.maxConcurrency, resetAfter: "5 seconds", halfOpenMaxCalls: 2 }
          })
        ),
        Layer.provideMerge(AnthropicProvider.layer({ apiKey: Redacted.make(fake.apiKey), baseURL: fake.baseURL })),
        Layer.provideMerge(GuardEvents.layer())
      )
    ),
    Effect.scoped
  )

/** Runs both fleets, each against a server of its own, one after the other. */
export const run = (options: DemoOptions = defaults) =>
  Effect.gen(function* () {
    const pricing = yield* Pricing.make()
    const naive = yield* Effect.scoped(
      Effect.gen(function* () {
        const fake = yield* server(options)
        const fleet = yield* naiveFleet(options, fake, pricing)
        return { ...fleet, ...(yield* served(fake)), refused: {}, pauses: 0 }
      })
    )
    const guarded = yield* Effect.scoped(
      Effect.gen(function* () {
        const fake = yield* server(options)
        const fleet = yield* guardedFleet(options, fake)
        return { ...fleet, ...(yield* served(fake)) }
      })
    )
    return { options, naive, guarded } satisfies DemoReport
  })

const usd = (n: number) => `$${n.toFixed(4)}`

/** The report as the terminal shows it. */
export const format = ({ options, naive, guarded }: DemoReport): string => {
  const rows: ReadonlyArray<readonly [string, string, string]> = [
    ["HTTP requests", String(naive.requests), String(guarded.requests)],
    ["  answered 429", String(naive.rateLimited), String(guarded.rateLimited)],
    ["  answered", String(naive.answered), String(guarded.answered)],
    ["spent", usd(naive.spentUsd), usd(guarded.spentUsd)],
    [
      "agents that failed",
      `${naive.failedAgents} of ${options.agents}`,
      `${guarded.failedAgents} of ${options.agents}`
    ],
    ["wall time", `${(naive.elapsedMillis / 1000).toFixed(1)} s`, `${(guarded.elapsedMillis / 1000).toFixed(1)} s`]
  ]
  const width = Math.max(...rows.map(([label]) => label.length))
  const column = Math.max(8, ...rows.map(([, a]) => a.length))
  const line = ([label, a, b]: readonly [string, string, string]) =>
    `${label.padEnd(width)}  ${a.padStart(column)}  ${b.padStart(column)}`
  const refusals = Object.entries(guarded.refused)
  return [
    `fleetguard demo: ${options.agents} agents × ${options.branches} sub-agents per level, ${options.levels} levels asked for, ` +
      `on ${options.model}; every call answered 429 (retry-after ${options.retryAfterSeconds} s) for the first ` +
      `${Duration.toMillis(options.incident) / 1000} s, against a local FakeAnthropic`,
    `guards: fleet budget ${usd(options.budgetUsd)}, ${usd(options.agentBudgetUsd)} per agent, ` +
      `${options.maxConcurrency} calls in flight, depth < ${options.maxDepth}`,
    "",
    line(["", "naive", "guarded"]),
    ...rows.map(line),
    "",
    `guarded: the gate closed ${guarded.pauses} time(s) for a 429; refused ` +
      (refusals.length === 0 ? "nothing" : refusals.map(([reason, n]) => `${n} × ${reason}`).join(", ")),
    `naive spend ÷ guarded spend: ${guarded.spentUsd > 0 ? (naive.spentUsd / guarded.spentUsd).toFixed(1) : "—"}×`
  ].join("\n")
}
