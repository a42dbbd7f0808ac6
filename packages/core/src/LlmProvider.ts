/**
 * LlmProvider: the transport behind `LlmClient` — Anthropic, the test kit, or a user's own. It
 * makes one request per call (fleetguard owns retries) and must be interruptible: interrupting
 * the fiber aborts the request.
 *
 * @since 0.1.0
 */

import type { Effect } from "effect"
import { Context, Layer } from "effect"
import type { ProviderError } from "./Errors.js"
import type { CompletionRequest, ProviderCompletion } from "./Llm.js"

export interface LlmProviderService {
  readonly complete: (request: CompletionRequest) => Effect.Effect<ProviderCompletion, ProviderError>
}

export class LlmProvider extends Context.Tag("@fleetguard/core/LlmProvider")<LlmProvider, LlmProviderService>() {
  static readonly layer = (service: LlmProviderService): Layer.Layer<LlmProvider> => Layer.succeed(LlmProvider, service)
}
