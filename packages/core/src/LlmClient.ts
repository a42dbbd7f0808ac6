/**
 * LlmClient: the guarded client. `complete(request)` runs the whole flow: the request is checked →
 * depth → upper-bound estimate → reservation → attempts (gate → permit → breaker → provider,
 * tracked and interruptible) with coordinated retries → settlement. Nothing leaks: whatever
 * happens, every reservation is settled and every permit given back.
 *
 * @module
 * @since 0.1.0
 */
import { Context, Effect, Either, Layer, Stream } from "effect"
import { Budget } from "./Budget.js"
import { CircuitBreaker } from "./CircuitBreaker.js"
import { Concurrency } from "./Concurrency.js"
import { Depth } from "./Depth.js"
import type { LlmError } from "./Errors.js"
import * as Client from "./internal/call/client.js"
import * as Streaming from "./internal/call/streaming.js"
import * as Request from "./internal/input/request.js"
import type { Answer, Completion, CompletionRequest, GuardedCall, StreamPart } from "./Llm.js"
import { LlmProvider } from "./LlmProvider.js"
import { Pricing } from "./Pricing.js"
import { Retry } from "./Retry.js"

/**
 * The guarded client: every call it makes passes every guard, is retried through one coordination
 * point and is settled against the budget.
 *
 * @since 0.1.0
 * @category models
 */
export interface LlmClientService {
  /** One guarded call: the completion with what it cost, or a typed failure. */
  readonly complete: (request: CompletionRequest) => Effect.Effect<Completion, LlmError>
  /**
   * The same guarded call, streamed: text, tool input and thinking deltas as they arrive, then the
   * completion (each tool_use in its content with its parsed input). A provider that cannot stream
   * gives its whole text as one delta, then one `ToolInputDelta` per tool_use. A stream is retried
   * only before any of it arrived. Stopping it early aborts the request; it is charged what was
   * generated (before the provider's final count, an upper bound: the bytes of the deltas received).
   */
  readonly stream: (request: CompletionRequest) => Stream.Stream<StreamPart, LlmError>
  /**
   * `complete` with a send of your own (a call through another client library, say): `request`
   * names the model and bounds the cost (its prompt and `maxTokens` give the estimate); `call.send`
   * makes one attempt, must be interruptible and fail with `ProviderError`s; its answer's usage
   * settles it. Retries, the gate, the breaker, settlement and `CallSettled` are those of
   * `complete`. (`Guards.wrap`, by contrast, guards any effect at costs you give, with no retries.)
   */
  readonly completeWith: <A extends Answer>(
    request: CompletionRequest,
    call: GuardedCall<A>
  ) => Effect.Effect<A & { readonly costUsd: number }, LlmError>
}

/** Builds the guarded client over the provider and the guards in context. */
const make = Effect.gen(function* () {
  const provider = yield* LlmProvider
  const guarded = Client.make({
    concurrency: yield* Concurrency,
    budget: yield* Budget,
    depth: yield* Depth,
    breaker: yield* CircuitBreaker,
    pricing: yield* Pricing,
    policy: yield* Retry
  })

  // The request is decoded first, into a copy of its own: nothing of a malformed one is priced,
  // reserved or sent, and what is priced is what is sent, whatever the caller does to its object
  // while the call waits for a permit, at the gate or in backoff.
  const complete = (input: CompletionRequest): Effect.Effect<Completion, LlmError> =>
    Either.match(Request.validate(input), {
      onLeft: Effect.fail,
      onRight: (request) => guarded("LlmClient.complete", request, { send: provider.complete(request) })
    })

  const stream = (input: CompletionRequest): Stream.Stream<StreamPart, LlmError> =>
    Either.match(Request.validate(input), {
      onLeft: Stream.fail,
      onRight: (request) =>
        Streaming.toStream((deliver) =>
          guarded("LlmClient.stream", request, Streaming.callFor(provider, request, deliver))
        )
    })

  const completeWith = <A extends Answer>(
    input: CompletionRequest,
    call: GuardedCall<A>
  ): Effect.Effect<A & { readonly costUsd: number }, LlmError> =>
    Either.match(Request.validate(input), {
      onLeft: Effect.fail,
      onRight: (request) => guarded("LlmClient.completeWith", request, call)
    })

  return { complete, stream, completeWith } satisfies LlmClientService
})

/**
 * The tag of the guarded client, with its layer and accessors as static members.
 *
 * @since 0.1.0
 * @category tags
 */
export class LlmClient extends Context.Tag("@fleetguard/core/LlmClient")<LlmClient, LlmClientService>() {
  static readonly make = make
  static readonly layer: Layer.Layer<
    LlmClient,
    never,
    LlmProvider | Concurrency | Budget | Depth | CircuitBreaker | Pricing
  > = Layer.effect(LlmClient, make)
  static readonly complete = (request: CompletionRequest): Effect.Effect<Completion, LlmError, LlmClient> =>
    Effect.flatMap(LlmClient, (client) => client.complete(request))
  static readonly stream = (request: CompletionRequest): Stream.Stream<StreamPart, LlmError, LlmClient> =>
    Stream.unwrap(Effect.map(LlmClient, (client) => client.stream(request)))
  static readonly completeWith = <A extends Answer>(
    request: CompletionRequest,
    call: GuardedCall<A>
  ): Effect.Effect<A & { readonly costUsd: number }, LlmError, LlmClient> =>
    Effect.flatMap(LlmClient, (client) => client.completeWith(request, call))
}
