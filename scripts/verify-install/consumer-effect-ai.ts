// @fleetguard/effect-ai's declarations, checked as consumer.ts is. @effect/ai brings @effect/platform and
// @effect/rpc declarations that name DOM types (Storage, Transferable, MessagePort), so a program that uses
// @effect/ai needs the DOM lib (or skipLibCheck); the other packages are checked without it.
import { LanguageModel } from "@effect/ai"
import { Guards } from "@fleetguard/core"
import { GuardedLanguageModel } from "@fleetguard/effect-ai"
import { Effect, Layer } from "effect"

// The guarded model, with the guards provided: what is left to provide is the model it wraps.
export const guarded: Layer.Layer<LanguageModel.LanguageModel, unknown, LanguageModel.LanguageModel> =
  GuardedLanguageModel.layer.pipe(
    Layer.provide(
      Guards.layer({
        budget: { limitUsd: 10, perAgentLimitUsd: 0.5 },
        concurrency: { maxConcurrency: 5 },
        depth: { maxDepth: 3, maxFanOut: 4 },
        breaker: { failureThreshold: 10, resetAfter: "30 seconds", halfOpenMaxCalls: 2 }
      })
    )
  )

export const answer = (prompt: string) =>
  Effect.map(LanguageModel.generateText({ prompt }), (response) => response.text)
