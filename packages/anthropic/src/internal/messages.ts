import type Anthropic from "@anthropic-ai/sdk"
import type { CompletionRequest, Content, ProviderCompletion, ProviderStreamEvent, Usage } from "@fleetguard/core"
import { Either, ParseResult, Schema } from "effect"

/** Text as the API takes it: a string as it is, text blocks copied (the SDK's types want them mutable). */
const text = (content: Content): string | Array<Anthropic.TextBlockParam> =>
  typeof content === "string" ? content : content.map((block) => ({ type: "text", text: block.text }))

/** The Messages API body for a request (without `stream`). */
export const toParams = (request: CompletionRequest): Anthropic.MessageCreateParamsNonStreaming => ({
  model: request.model,
  max_tokens: request.maxTokens,
  messages: request.messages.map((m) => ({ role: m.role, content: text(m.content) })),
  ...(request.system === undefined ? {} : { system: text(request.system) }),
  ...(request.cache === undefined ? {} : { cache_control: { type: "ephemeral", ttl: request.cache } })
})

const Count = Schema.Number.pipe(Schema.finite(), Schema.nonNegative())
const OptionalCount = Schema.optional(Schema.NullOr(Count))

/** The part of the API's usage fleetguard prices; nulls (no caching) are zeros. */
const ApiUsage = Schema.Struct({
  input_tokens: Count,
  output_tokens: Count,
  cache_creation_input_tokens: OptionalCount,
  cache_read_input_tokens: OptionalCount,
  cache_creation: Schema.optional(
    Schema.NullOr(Schema.Struct({ ephemeral_1h_input_tokens: Schema.optional(Schema.NullOr(Count)) }))
  )
})
type ApiUsage = typeof ApiUsage.Type

const toUsage = (usage: ApiUsage): Usage => ({
  inputTokens: usage.input_tokens,
  outputTokens: usage.output_tokens,
  cacheCreationInputTokens: usage.cache_creation_input_tokens ?? 0,
  cacheReadInputTokens: usage.cache_read_input_tokens ?? 0,
  cacheCreation1hInputTokens: usage.cache_creation?.ephemeral_1h_input_tokens ?? undefined
})

const ApiMessage = Schema.Struct({
  model: Schema.String,
  stop_reason: Schema.NullOr(Schema.String),
  content: Schema.Array(Schema.Struct({ type: Schema.String, text: Schema.optional(Schema.String) })),
  usage: ApiUsage
})

const decodeMessage = Schema.decodeUnknownEither(ApiMessage)

/** A Message as fleetguard's completion, or why it is not one. */
export const fromMessage = (message: unknown): Either.Either<ProviderCompletion, string> =>
  Either.match(decodeMessage(message), {
    onLeft: (error) => Either.left(ParseResult.TreeFormatter.formatErrorSync(error)),
    onRight: (m) =>
      Either.right({
        text: m.content.reduce((text, block) => (block.type === "text" ? text + (block.text ?? "") : text), ""),
        model: m.model,
        stopReason: m.stop_reason,
        usage: toUsage(m.usage)
      })
  })

const StartEvent = Schema.Struct({
  type: Schema.Literal("message_start"),
  message: Schema.Struct({ model: Schema.String, usage: ApiUsage })
})
const TextDeltaEvent = Schema.Struct({
  type: Schema.Literal("content_block_delta"),
  delta: Schema.Struct({ type: Schema.Literal("text_delta"), text: Schema.String })
})
/** message_delta's usage is cumulative; input and cache counts may be absent (then unchanged). */
const DeltaEvent = Schema.Struct({
  type: Schema.Literal("message_delta"),
  delta: Schema.Struct({ stop_reason: Schema.NullOr(Schema.String) }),
  usage: Schema.Struct({
    output_tokens: Count,
    input_tokens: OptionalCount,
    cache_creation_input_tokens: OptionalCount,
    cache_read_input_tokens: OptionalCount
  })
})
const StopEvent = Schema.Struct({ type: Schema.Literal("message_stop") })
const decodeEvent = Schema.decodeUnknownEither(Schema.Union(StartEvent, TextDeltaEvent, DeltaEvent, StopEvent))

// Anything else (ping, block starts and stops, thinking or tool deltas) carries nothing to price.
const priced = (event: unknown): boolean => {
  if (typeof event !== "object" || event === null) return false
  const { type, delta } = event as { readonly type?: unknown; readonly delta?: { readonly type?: unknown } }
  return type === "content_block_delta"
    ? delta?.type === "text_delta"
    : type === "message_start" || type === "message_delta" || type === "message_stop"
}

/** What a stream has said so far, folded event by event. */
export interface StreamState {
  model: string
  text: string
  usage: Usage | undefined
  stopReason: string | null
}

export const initialState = (request: CompletionRequest): StreamState => ({
  model: request.model,
  text: "",
  usage: undefined,
  stopReason: null
})

/**
 * Folds one raw stream event into `state` and says what to emit. Events with nothing to price emit
 * nothing; a priced event with a bad shape is an error, so a broken stream is not taken for a short one.
 */
export const onEvent = (
  state: StreamState,
  event: unknown
): Either.Either<ReadonlyArray<ProviderStreamEvent>, string> => {
  if (!priced(event)) return Either.right([])
  return Either.match(decodeEvent(event), {
    onLeft: (error) => Either.left(ParseResult.TreeFormatter.formatErrorSync(error)),
    onRight: (e): Either.Either<ReadonlyArray<ProviderStreamEvent>, string> => {
      switch (e.type) {
        case "message_start":
          state.model = e.message.model
          state.usage = toUsage(e.message.usage)
          return Either.right([{ _tag: "Usage", usage: state.usage, final: false }])
        case "content_block_delta":
          state.text += e.delta.text
          return Either.right([{ _tag: "TextDelta", text: e.delta.text }])
        case "message_delta": {
          if (state.usage === undefined) return Either.left("message_delta before message_start")
          state.stopReason = e.delta.stop_reason
          state.usage = {
            ...state.usage,
            outputTokens: e.usage.output_tokens,
            inputTokens: e.usage.input_tokens ?? state.usage.inputTokens,
            cacheCreationInputTokens: e.usage.cache_creation_input_tokens ?? state.usage.cacheCreationInputTokens,
            cacheReadInputTokens: e.usage.cache_read_input_tokens ?? state.usage.cacheReadInputTokens
          }
          return Either.right([{ _tag: "Usage", usage: state.usage, final: true }])
        }
        case "message_stop":
          return state.usage === undefined
            ? Either.left("message_stop before message_start")
            : Either.right([
                {
                  _tag: "Done",
                  completion: { text: state.text, model: state.model, stopReason: state.stopReason, usage: state.usage }
                }
              ])
      }
    }
  })
}
