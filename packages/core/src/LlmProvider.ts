/**
 * LlmProvider: the transport behind `LlmClient` — Anthropic, the test kit, or a user's own. It
 * makes one request per call (fleetguard owns retries) and must be interruptible: interrupting
 * the fiber (or the stream) aborts the request.
 *
 * @module
 * @since 0.1.0
 */

import type { Effect, Stream } from "effect"
import { Context, Layer } from "effect"
import type { ProviderError } from "./Errors.js"
import type { CompletionRequest, ProviderCompletion, ProviderStreamEvent } from "./Llm.js"

/**
 * What a provider implements: one request per call, interruptible, failing with a `ProviderError`;
 * streaming is optional.
 *
 * @since 0.1.0
 * @category models
 */
export interface LlmProviderService {
  readonly complete: (request: CompletionRequest) => Effect.Effect<ProviderCompletion, ProviderError>
  /**
   * Optional: the same call, streamed: `Usage`, then `TextDelta`, `ToolInputDelta` and
   * `ThinkingDelta` events as the answer is written, ending with a `Done` event whose completion
   * holds every block (each tool_use with its parsed input). A failure after `Usage` was reported
   * is charged that usage, its output taken as at least the bytes of the deltas received (within
   * `maxTokens`) until its final count. Without it,
   * `LlmClient.stream` emits the whole text at once, then one `ToolInputDelta` per tool_use block.
   */
  readonly stream?: ((request: CompletionRequest) => Stream.Stream<ProviderStreamEvent, ProviderError>) | undefined
  /**
   * Optional: the same streamed call, pushing its events to `sink` as they arrive (`Usage` and the
   * deltas, a chunk at a time, synchronously) and succeeding with the completion. When a
   * provider has it, `LlmClient.stream` uses it instead of `stream`: one stream to run where there
   * would be two (the provider's, then the caller's), which costs most of what streaming adds.
   */
  readonly streamTo?:
    | ((
        request: CompletionRequest,
        sink: (events: ReadonlyArray<ProviderStreamEvent>) => void
      ) => Effect.Effect<ProviderCompletion, ProviderError>)
    | undefined
}

/**
 * The tag of the provider `LlmClient` sends its calls through; `LlmProvider.layer` provides one
 * from its implementation.
 *
 * @since 0.1.0
 * @category tags
 */
export class LlmProvider extends Context.Tag("@fleetguard/core/LlmProvider")<LlmProvider, LlmProviderService>() {
  static readonly layer = (service: LlmProviderService): Layer.Layer<LlmProvider> => Layer.succeed(LlmProvider, service)
}
