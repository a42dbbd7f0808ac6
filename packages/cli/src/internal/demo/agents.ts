/**
 * What the demo's agents share: the model, their prompts, and the one guard configuration every
 * scenario's guarded side runs under (a fleet configured once, not tuned per incident).
 *
 * @since 0.1.0
 */
import { type CompletionRequest, type GuardsOptions, isCountedFailure, type PricingService } from "@fleetguard/core"
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
 * The guards of every guarded side. A 429 is the gate's business, not the breaker's: counting it
 * would trip the breaker in the middle of a rate-limit window the gate already handles.
 *
 * @since 0.1.0
 * @category constants
 */
export const guards = {
  budget: { limitUsd: 2, perAgentLimitUsd: 0.5 },
  concurrency: { maxConcurrency: 20, releaseWindow: "1 second" },
  depth: { maxDepth: 3, maxFanOut: 4 },
  breaker: {
    failureThreshold: 3,
    resetAfter: "10 seconds",
    halfOpenMaxCalls: 1,
    isFailure: (error) => isCountedFailure(error) && (error as { readonly _tag?: unknown })._tag !== "RateLimited"
  }
} satisfies GuardsOptions

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
}
