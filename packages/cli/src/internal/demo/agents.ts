/**
 * What the demo's agents share: the model, their prompts, and the one guard configuration every
 * scenario's guarded side runs under (a fleet configured once, not tuned per incident).
 *
 * @since 0.1.0
 */
import {
  Agent,
  Budget,
  CircuitBreaker,
  type CircuitBreakerOptions,
  type CompletionRequest,
  Concurrency,
  type ConcurrencyOptions,
  Depth,
  type DepthOptions,
  type GuardsOptions,
  LlmClient,
  type PricingService
} from "@fleetguard/core"
import { Config, type ConfigError, ConfigProvider, Effect } from "effect"
import type { Progress } from "./progress.js"

/** @since 0.1.0 @category constants */
export const model = "claude-sonnet-4-6"

/** @since 0.1.0 @category constructors */
export const range = (n: number): Array<number> => Array.from({ length: n }, (_, i) => i)

/**
 * One agent's call: a prompt about `topic`, answered with at most `maxTokens` (on `onModel`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const request = (topic: string, maxTokens: number, onModel: string = model): CompletionRequest => ({
  model: onModel,
  maxTokens,
  messages: [{ role: "user", content: `Research ${topic} and report what you find.` }]
})

/**
 * `count` guarded agents at once, each making its `steps` calls in turn (`ask`) and stopping at
 * its first failure. Succeeds with how many finished, and the ids of those that failed.
 *
 * @since 0.1.0
 * @category agents
 */
export const stepping = (count: number, steps: number, ask: (agent: number, step: number) => CompletionRequest) =>
  Effect.map(
    Effect.forEach(
      range(count),
      (i) =>
        Agent.run(
          `agent-${i}`,
          Effect.forEach(range(steps), (s) => LlmClient.complete(ask(i, s)))
        ).pipe(
          Effect.either,
          Effect.map((outcome) => ({ agentId: `agent-${i}`, finished: outcome._tag === "Right" }))
        ),
      { concurrency: "unbounded" }
    ),
    (outcomes) => ({
      finished: outcomes.filter((o) => o.finished).length,
      failed: new Set(outcomes.flatMap((o) => (o.finished ? [] : [o.agentId])))
    })
  )

/**
 * What the guarded fleet sets, as a user would (docs/configuration.md): its limits, and room for
 * its 20 agents at once. Every other setting (the breaker, the gate, retries) is the library's default.
 *
 * @since 0.1.0
 * @category constants
 */
export const settings: Readonly<Record<string, string>> = {
  FLEETGUARD_BUDGET_USD: "2",
  FLEETGUARD_AGENT_BUDGET_USD: "0.5",
  FLEETGUARD_MAX_CONCURRENCY: "20",
  FLEETGUARD_MAX_DEPTH: "3",
  FLEETGUARD_MAX_FANOUT: "4"
}

/**
 * Every group of the guards' options, as `guardsOf` reads them (each option given or defaulted).
 *
 * @since 0.1.0
 * @category models
 */
export interface DemoGuards extends GuardsOptions {
  readonly concurrency: ConcurrencyOptions
  readonly depth: DepthOptions
  readonly breaker: CircuitBreakerOptions
}

/**
 * The guards' options read from `variables` alone, as `Guards.layerConfig()` reads the
 * environment: what is not set takes the library's default.
 *
 * @since 0.1.0
 * @category constructors
 */
export const guardsOf = (
  variables: Readonly<Record<string, string>>
): Effect.Effect<DemoGuards, ConfigError.ConfigError> =>
  Effect.withConfigProvider(
    Config.all({
      budget: Budget.config,
      concurrency: Concurrency.config,
      depth: Depth.config,
      breaker: CircuitBreaker.config
    }),
    ConfigProvider.fromMap(new Map(Object.entries(variables)))
  )

/**
 * What a scenario runs with.
 *
 * @since 0.1.0
 * @category models
 */
export interface Env {
  readonly progress: Progress
  /** Prices the naive side's answers as the guards price the guarded side's. */
  readonly pricing: PricingService
  /** The guarded side's guards: `settings`, and the defaults. */
  readonly guards: DemoGuards
}
