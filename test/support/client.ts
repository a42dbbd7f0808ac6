import {
  type CompletionRequest,
  GuardEvents,
  Guards,
  type GuardsOptions,
  LlmClient,
  Retry,
  type RetryOptions
} from "@fleetguard/core"
import { TestProvider } from "@fleetguard/testing"
import { Layer } from "effect"

export const request = (content = "hello", model = "claude-haiku-4-5"): CompletionRequest => ({
  model,
  maxTokens: 100,
  messages: [{ role: "user", content }]
})

export const defaultGuards: GuardsOptions = {
  budget: { limitUsd: 100, perAgentLimitUsd: 100 },
  concurrency: { maxConcurrency: 5 },
  depth: { maxDepth: 3, maxFanOut: 4 },
  breaker: { failureThreshold: 10, resetAfter: "30 seconds", halfOpenMaxCalls: 2 }
}

/** LlmClient over every guard and `provider`, with a hub of the test's own. */
export const clientOver = <P, E>(
  provider: Layer.Layer<P, E>,
  guards: Partial<GuardsOptions> = {},
  retry: RetryOptions = {}
) =>
  LlmClient.layer.pipe(
    Layer.provideMerge(Layer.mergeAll(Guards.layer({ ...defaultGuards, ...guards }), provider, Retry.layer(retry))),
    Layer.provideMerge(GuardEvents.layer())
  )

/** LlmClient over every guard and a scripted provider, with a hub of the test's own. */
export const client = (script: TestProvider.Script, guards: Partial<GuardsOptions> = {}, retry: RetryOptions = {}) =>
  clientOver(TestProvider.layer(script), guards, retry)
