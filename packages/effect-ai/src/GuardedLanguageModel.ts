/**
 * GuardedLanguageModel: every fleetguard guard around @effect/ai's `LanguageModel`. Provided over
 * any model layer (and the guards), it replaces the `LanguageModel` in context, so that each
 * `generateText`, `generateObject` and `streamText` passes the depth check, reserves an upper-bound
 * estimate, waits at the shared rate-limit gate, takes a permit, runs tracked by the breaker (a trip
 * interrupts it, aborting its HTTP request), is retried through fleetguard's one coordination point,
 * and is settled from the usage the response reports, priced as the model it reports.
 *
 * The estimate reads the call's model and `max_tokens` from the provider's config in context — for
 * @effect/ai-anthropic, `AnthropicLanguageModel.withConfigOverride({ model, max_tokens })`, which
 * is also what is sent; without `max_tokens`, 4096 (the provider's default). No model there, or no
 * price for it: `UnknownModel`, before any request.
 *
 * Failures keep @effect/ai's types: fleetguard's own (a guard's refusal, or what the provider
 * answered once retries are done) come as an `AiError.UnknownError` whose `cause` is the fleetguard
 * error — `guardError` gives it back, tag and all. Any other failure (a tool's, an object that did
 * not decode) is the model's, as it was.
 *
 * @module
 * @since 0.1.0
 */
import { LanguageModel } from "@effect/ai"
import type { Budget, CircuitBreaker, Concurrency, Depth, LlmError, Pricing } from "@fleetguard/core"
import { Effect, Layer } from "effect"
import * as Errors from "./internal/errors.js"
import * as Guarded from "./internal/guarded.js"

/**
 * The fleetguard error an `AiError` from a guarded call carries (`BudgetExceeded`, `RateLimited`,
 * `CircuitOpen`…), so that it can be caught by its tag; any other error as it is. For
 * `Effect.mapError` and `Stream.mapError`.
 *
 * @since 0.1.0
 * @category errors
 */
export const guardError: <E>(error: E) => E | LlmError = Errors.guardError

/**
 * Builds a `LanguageModel` that runs each call of the one in context under every guard, with the
 * guards in context.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = Effect.gen(function* () {
  const model = yield* LanguageModel.LanguageModel
  const client = yield* Guarded.guardsOnly
  return LanguageModel.LanguageModel.of({
    generateText: (options) =>
      Guarded.generate(client, "generateText", options, (prepared) => model.generateText(prepared)),
    generateObject: (options) =>
      Guarded.generate(client, "generateObject", options, (prepared) => model.generateObject(prepared)),
    streamText: (options) => Guarded.stream(client, options, (prepared) => model.streamText(prepared))
  })
})

/**
 * The guarded `LanguageModel`, over the one in context and the guards.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<
  LanguageModel.LanguageModel,
  never,
  LanguageModel.LanguageModel | Concurrency | Budget | Depth | CircuitBreaker | Pricing
> = Layer.effect(LanguageModel.LanguageModel, make)
