import type Anthropic from "@anthropic-ai/sdk"
import type {
  AnswerBlock,
  CompletionRequest,
  Content,
  ContentBlock,
  DocumentBlock,
  ImageBlock,
  ProviderCompletion,
  ProviderStreamEvent,
  ServerTool,
  SystemPrompt,
  TextBlock,
  Thinking,
  Tool,
  ToolChoice,
  ToolResultBlock,
  Usage
} from "@fleetguard/core"
import { InvalidRequest } from "@fleetguard/core"
import { Either, ParseResult, Schema } from "effect"
import { isKnownServerTool, unknownServerTool } from "./serverTools.js"

type ImageParam = Anthropic.ImageBlockParam
type ResultContent = Exclude<Anthropic.ToolResultBlockParam["content"], string | undefined>

const textBlock = (block: TextBlock): Anthropic.TextBlockParam => ({ type: "text", text: block.text })

const image = ({ source }: ImageBlock): ImageParam => ({
  type: "image",
  source:
    source.type === "url"
      ? { type: "url", url: source.url }
      : { type: "base64", media_type: source.mediaType, data: source.data }
})

const document = (block: DocumentBlock): Anthropic.DocumentBlockParam => {
  const { source } = block
  return {
    type: "document",
    source:
      source.type === "url"
        ? { type: "url", url: source.url }
        : source.type === "text"
          ? { type: "text", media_type: "text/plain", data: source.data }
          : { type: "base64", media_type: "application/pdf", data: source.data },
    ...(block.title === undefined ? {} : { title: block.title }),
    ...(block.context === undefined ? {} : { context: block.context })
  }
}

const toolResult = (block: ToolResultBlock): Anthropic.ToolResultBlockParam => ({
  type: "tool_result",
  tool_use_id: block.toolUseId,
  content:
    typeof block.content === "string"
      ? block.content
      : block.content.map((b): ResultContent[number] => (b.type === "text" ? textBlock(b) : image(b))),
  ...(block.isError === undefined ? {} : { is_error: block.isError })
})

/** One block as the API takes it (snake_case; the SDK's types want them mutable, so each is a fresh object). */
const block = (b: ContentBlock): Anthropic.ContentBlockParam => {
  switch (b.type) {
    case "text":
      return textBlock(b)
    case "image":
      return image(b)
    case "document":
      return document(b)
    case "tool_use":
      return { type: "tool_use", id: b.id, name: b.name, input: b.input }
    case "tool_result":
      return toolResult(b)
    case "thinking":
      return { type: "thinking", thinking: b.thinking, signature: b.signature }
    case "redacted_thinking":
      return { type: "redacted_thinking", data: b.data }
  }
}

const content = (c: Content): string | Array<Anthropic.ContentBlockParam> => (typeof c === "string" ? c : c.map(block))

const system = (s: SystemPrompt): string | Array<Anthropic.TextBlockParam> =>
  typeof s === "string" ? s : s.map(textBlock)

/** A client tool has an input schema; anything else is a server tool, passed through as the API writes it. */
const isClientTool = (tool: Tool | ServerTool): tool is Tool => "inputSchema" in tool

/** A tool as the API takes it, or what is wrong with it (a server tool the SDK does not know). */
const tool = (t: Tool | ServerTool): Either.Either<Anthropic.ToolUnion, string> => {
  if (isClientTool(t)) {
    return Either.right({
      name: t.name,
      input_schema: { ...t.inputSchema, type: "object" },
      ...(t.description === undefined ? {} : { description: t.description })
    })
  }
  return isKnownServerTool(t) ? Either.right({ ...t }) : Either.left(unknownServerTool(t))
}

/** Every tool as the API takes it, or the first one that is not, by its place. */
const tools = (
  given: ReadonlyArray<Tool | ServerTool>
): Either.Either<Array<Anthropic.ToolUnion>, { readonly field: string; readonly reason: string }> => {
  const out: Array<Anthropic.ToolUnion> = []
  for (const [i, t] of given.entries()) {
    const mapped = tool(t)
    if (Either.isLeft(mapped)) return Either.left({ field: `tools[${i}].type`, reason: mapped.left })
    out.push(mapped.right)
  }
  return Either.right(out)
}

const toolChoice = (choice: ToolChoice): Anthropic.ToolChoice => {
  if (choice.type === "none") return { type: "none" }
  const parallel =
    choice.disableParallelToolUse === undefined ? {} : { disable_parallel_tool_use: choice.disableParallelToolUse }
  return choice.type === "tool" ? { type: "tool", name: choice.name, ...parallel } : { type: choice.type, ...parallel }
}

const thinking = (t: Thinking): Anthropic.ThinkingConfigParam =>
  t.type === "enabled" ? { type: "enabled", budget_tokens: t.budgetTokens } : { type: t.type }

/** A request field the provider cannot send, and why. */
export interface Unsendable {
  readonly field: string
  readonly reason: string
}

/** The refusal of a request the provider cannot send: a client error, never retried, nothing sent. */
export const unsendable = ({ field, reason }: Unsendable): InvalidRequest =>
  new InvalidRequest({ errorType: "client_error", field, message: `${field} ${reason}` })

/** The Messages API body for a request (without `stream`), or the field it cannot send. */
export const toParams = (
  request: CompletionRequest
): Either.Either<Anthropic.MessageCreateParamsNonStreaming, Unsendable> =>
  Either.map(request.tools === undefined ? Either.right(undefined) : tools(request.tools), (mapped) => ({
    model: request.model,
    max_tokens: request.maxTokens,
    messages: request.messages.map((m) => ({ role: m.role, content: content(m.content) })),
    ...(request.system === undefined ? {} : { system: system(request.system) }),
    ...(mapped === undefined ? {} : { tools: mapped }),
    ...(request.toolChoice === undefined ? {} : { tool_choice: toolChoice(request.toolChoice) }),
    ...(request.stopSequences === undefined ? {} : { stop_sequences: [...request.stopSequences] }),
    ...(request.thinking === undefined ? {} : { thinking: thinking(request.thinking) }),
    ...(request.metadata?.userId === undefined ? {} : { metadata: { user_id: request.metadata.userId } }),
    ...(request.cache === undefined ? {} : { cache_control: { type: "ephemeral", ttl: request.cache } })
  }))

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

const ApiTextBlock = Schema.Struct({ type: Schema.Literal("text"), text: Schema.String })
const ApiToolUseBlock = Schema.Struct({
  type: Schema.Literal("tool_use"),
  id: Schema.String,
  name: Schema.String,
  input: Schema.Unknown
})
const ApiThinkingBlock = Schema.Struct({
  type: Schema.Literal("thinking"),
  thinking: Schema.String,
  signature: Schema.String
})
const ApiRedactedThinkingBlock = Schema.Struct({ type: Schema.Literal("redacted_thinking"), data: Schema.String })
const ApiAnswerBlock = Schema.Union(ApiTextBlock, ApiToolUseBlock, ApiThinkingBlock, ApiRedactedThinkingBlock)
const decodeAnswerBlock = Schema.decodeUnknownEither(ApiAnswerBlock)
const answerTypes: ReadonlySet<unknown> = new Set(["text", "tool_use", "thinking", "redacted_thinking"])

/**
 * The blocks of an answer fleetguard carries, in order, each checked; blocks of other kinds (a
 * server tool's call and result) are left out.
 */
export const answerBlocks = (
  content: ReadonlyArray<unknown>
): Either.Either<Array<AnswerBlock>, ParseResult.ParseError> => {
  const blocks: Array<AnswerBlock> = []
  for (const raw of content) {
    if (typeof raw !== "object" || raw === null || !answerTypes.has((raw as { readonly type?: unknown }).type)) continue
    const decoded = decodeAnswerBlock(raw)
    if (Either.isLeft(decoded)) return Either.left(decoded.left)
    blocks.push(decoded.right)
  }
  return Either.right(blocks)
}

const joinText = (blocks: ReadonlyArray<AnswerBlock>): string =>
  blocks.reduce((text, block) => (block.type === "text" ? text + block.text : text), "")

const ApiMessage = Schema.Struct({
  model: Schema.String,
  stop_reason: Schema.NullOr(Schema.String),
  content: Schema.Array(Schema.Unknown),
  usage: ApiUsage
})

const decodeMessage = Schema.decodeUnknownEither(ApiMessage)

const formatted = (error: ParseResult.ParseError) => ParseResult.TreeFormatter.formatErrorSync(error)

/** A Message as fleetguard's completion, or why it is not one. */
export const fromMessage = (message: unknown): Either.Either<ProviderCompletion, string> =>
  Either.mapLeft(
    Either.flatMap(decodeMessage(message), (m) =>
      Either.map(
        answerBlocks(m.content),
        (content): ProviderCompletion => ({
          text: joinText(content),
          content,
          model: m.model,
          stopReason: m.stop_reason,
          usage: toUsage(m.usage)
        })
      )
    ),
    formatted
  )

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
                  completion: {
                    text: state.text,
                    content: state.text === "" ? [] : [{ type: "text", text: state.text }],
                    model: state.model,
                    stopReason: state.stopReason,
                    usage: state.usage
                  }
                }
              ])
      }
    }
  })
}
