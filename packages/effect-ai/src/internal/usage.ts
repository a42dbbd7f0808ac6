/**
 * What a response says it cost, read from its parts: the usage of its `finish` part (with the
 * Anthropic provider's own counts, which alone tell cache writes apart) and the model its
 * `response-metadata` part reports. Whatever a response does not say is bounded from above.
 */
import type { Response } from "@effect/ai"
import type { CompletionRequest, Usage } from "@fleetguard/core"
import { Pricing } from "@fleetguard/core"
import { Either, Option, Schema } from "effect"

/** The usage a call is charged when nothing is known of it but how much text came back. */
export const boundedUsage = (request: CompletionRequest, bytesReceived: number): Usage => ({
  inputTokens: Pricing.inputCeiling(request),
  outputTokens: Math.min(request.maxTokens, bytesReceived),
  cacheCreationInputTokens: 0,
  cacheReadInputTokens: 0
})

/** Nothing: what a call that was never sent is charged. */
export const noUsage: Usage = { inputTokens: 0, outputTokens: 0, cacheCreationInputTokens: 0, cacheReadInputTokens: 0 }

const Count = Schema.NullishOr(Schema.Number)

/**
 * The Anthropic usage @effect/ai-anthropic puts in the finish part's metadata. Its output count is
 * stale in a stream (taken at message_start), so only its input-side counts are read.
 */
const AnthropicUsage = Schema.Struct({
  input_tokens: Count,
  cache_creation_input_tokens: Schema.optional(Count),
  cache_read_input_tokens: Schema.optional(Count),
  cache_creation: Schema.optional(
    Schema.NullishOr(Schema.Struct({ ephemeral_1h_input_tokens: Schema.optional(Count) }))
  )
})

const decodeAnthropic = Schema.decodeUnknownEither(Schema.Struct({ usage: AnthropicUsage }))

/**
 * The usage a `finish` part reports; a count it leaves out is taken at its upper bound (input at
 * the prompt's bound, `Pricing.inputCeiling`; output at max tokens), so a call is never charged less than it may have cost.
 */
export const usageOf = (finish: Response.FinishPart, request: CompletionRequest): Usage => {
  const anthropic = Either.getOrUndefined(decodeAnthropic(finish.metadata.anthropic))?.usage
  const reported = finish.usage
  const inputTokens = anthropic?.input_tokens ?? reported.inputTokens
  const cacheWrite1h = anthropic?.cache_creation?.ephemeral_1h_input_tokens
  return {
    inputTokens: inputTokens ?? Pricing.inputCeiling(request),
    outputTokens: reported.outputTokens ?? request.maxTokens,
    cacheCreationInputTokens: anthropic?.cache_creation_input_tokens ?? 0,
    cacheReadInputTokens: anthropic?.cache_read_input_tokens ?? reported.cachedInputTokens ?? 0,
    ...(cacheWrite1h == null ? {} : { cacheCreation1hInputTokens: cacheWrite1h })
  }
}

/** The model a `response-metadata` part reports, if it does. */
export const modelOf = (metadata: Response.ResponseMetadataPart): string | undefined =>
  Option.getOrUndefined(metadata.modelId)

const isFinish = (part: { readonly type: string }): part is Response.FinishPart => part.type === "finish"

const isMetadata = (part: { readonly type: string }): part is Response.ResponseMetadataPart =>
  part.type === "response-metadata"

/** What settles a response: the usage of its finish part (bounded when it has none) and the model it reports. */
export const answerOf = (
  parts: ReadonlyArray<{ readonly type: string }>,
  request: CompletionRequest
): { readonly usage: Usage; readonly reportedModel: string | undefined } => {
  const finish = parts.filter(isFinish).at(-1)
  const metadata = parts.find(isMetadata)
  return {
    usage: finish === undefined ? boundedUsage(request, request.maxTokens) : usageOf(finish, request),
    reportedModel: metadata === undefined ? undefined : modelOf(metadata)
  }
}
