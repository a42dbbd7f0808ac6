/**
 * A fleetguard request as the Messages API takes it (snake_case), through the SDK's own types: every
 * field is mapped, none cast, and what the API cannot take is refused naming the field.
 */
import type Anthropic from "@anthropic-ai/sdk"
import type {
  CompletionRequest,
  Content,
  ContentBlock,
  DocumentBlock,
  ImageBlock,
  ServerTool,
  SystemPrompt,
  TextBlock,
  Thinking,
  Tool,
  ToolChoice,
  ToolResultBlock
} from "@fleetguard/core"
import { InvalidRequest } from "@fleetguard/core"
import { Either } from "effect"
import { serverTool } from "./serverTools.js"

type ResultContent = Exclude<Anthropic.ToolResultBlockParam["content"], string | undefined>

/** A request field the provider cannot send, and why. */
export interface Unsendable {
  readonly field: string
  readonly reason: string
}

/** The refusal of a request the provider cannot send: a client error, never retried, nothing sent. */
export const unsendable = ({ field, reason }: Unsendable): InvalidRequest =>
  new InvalidRequest({ errorType: "client_error", field, message: `${field} ${reason}` })

const textBlock = (block: TextBlock): Anthropic.TextBlockParam => ({ type: "text", text: block.text })

const image = ({ source }: ImageBlock): Anthropic.ImageBlockParam => ({
  type: "image",
  source:
    source.type === "url"
      ? { type: "url", url: source.url }
      : { type: "base64", media_type: source.mediaType, data: source.data }
})

const document = (block: DocumentBlock): Anthropic.DocumentBlockParam => {
  const { source } = block
  const param: Anthropic.DocumentBlockParam = {
    type: "document",
    source:
      source.type === "url"
        ? { type: "url", url: source.url }
        : source.type === "text"
          ? { type: "text", media_type: "text/plain", data: source.data }
          : { type: "base64", media_type: "application/pdf", data: source.data }
  }
  if (block.title !== undefined) param.title = block.title
  if (block.context !== undefined) param.context = block.context
  return param
}

const toolResult = (block: ToolResultBlock): Anthropic.ToolResultBlockParam => {
  const param: Anthropic.ToolResultBlockParam = {
    type: "tool_result",
    tool_use_id: block.toolUseId,
    content:
      typeof block.content === "string"
        ? block.content
        : block.content.map((b): ResultContent[number] => (b.type === "text" ? textBlock(b) : image(b)))
  }
  if (block.isError !== undefined) param.is_error = block.isError
  return param
}

/** One block as the API takes it (the SDK's types want them mutable, so each is a fresh object). */
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
    // Sent back unchanged, signature and all: the API checks it.
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

/**
 * A client tool as the API takes it. Its input schema must describe an object (the API's rule):
 * one that says nothing is given `type: "object"`, one that says another type is refused rather
 * than rewritten.
 */
const clientTool = (t: Tool, at: string): Either.Either<Anthropic.Tool, Unsendable> => {
  const type = t.inputSchema.type
  if (type !== undefined && type !== "object") {
    return Either.left({ field: `${at}.inputSchema.type`, reason: `must be "object" (got ${JSON.stringify(type)})` })
  }
  const param: Anthropic.Tool = { name: t.name, input_schema: { ...t.inputSchema, type: "object" } }
  if (t.description !== undefined) param.description = t.description
  return Either.right(param)
}

/** Every tool as the API takes it, or the first one that is not, by its place. */
const tools = (given: ReadonlyArray<Tool | ServerTool>): Either.Either<Array<Anthropic.ToolUnion>, Unsendable> => {
  const out: Array<Anthropic.ToolUnion> = []
  for (const [i, t] of given.entries()) {
    const at = `tools[${i}]`
    if (isClientTool(t)) {
      const mapped = clientTool(t, at)
      if (Either.isLeft(mapped)) return Either.left(mapped.left)
      out.push(mapped.right)
      continue
    }
    const server = serverTool(t)
    if (Either.isLeft(server)) return Either.left({ field: `${at}.${server.left.field}`, reason: server.left.reason })
    out.push(server.right)
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

/**
 * The Messages API body for a request (without `stream`), or the field it cannot send. Fields are
 * set only when given: a plain text request costs three fields and its messages.
 */
export const toParams = (
  request: CompletionRequest
): Either.Either<Anthropic.MessageCreateParamsNonStreaming, Unsendable> => {
  const params: Anthropic.MessageCreateParamsNonStreaming = {
    model: request.model,
    max_tokens: request.maxTokens,
    messages: request.messages.map((m) => ({ role: m.role, content: content(m.content) }))
  }
  if (request.system !== undefined) params.system = system(request.system)
  if (request.tools !== undefined) {
    const mapped = tools(request.tools)
    if (Either.isLeft(mapped)) return Either.left(mapped.left)
    params.tools = mapped.right
  }
  if (request.toolChoice !== undefined) params.tool_choice = toolChoice(request.toolChoice)
  if (request.stopSequences !== undefined) params.stop_sequences = [...request.stopSequences]
  if (request.thinking !== undefined) params.thinking = thinking(request.thinking)
  if (request.metadata?.userId !== undefined) params.metadata = { user_id: request.metadata.userId }
  if (request.cache !== undefined) params.cache_control = { type: "ephemeral", ttl: request.cache }
  return Either.right(params)
}

/**
 * The count_tokens body for a request: the fields that endpoint takes (messages, system, tools,
 * tool_choice, thinking, caching, model), or the field it cannot send. `max_tokens`,
 * `stop_sequences` and `metadata` change nothing in the input and the endpoint refuses them.
 */
export const toCountParams = (
  request: CompletionRequest
): Either.Either<Anthropic.MessageCountTokensParams, Unsendable> =>
  Either.map(toParams(request), (params) => {
    const count: Anthropic.MessageCountTokensParams = { model: params.model, messages: params.messages }
    if (params.system !== undefined) count.system = params.system
    if (params.tools !== undefined) count.tools = params.tools
    if (params.tool_choice !== undefined) count.tool_choice = params.tool_choice
    if (params.thinking !== undefined) count.thinking = params.thinking
    if (params.cache_control !== undefined) count.cache_control = params.cache_control
    return count
  })
