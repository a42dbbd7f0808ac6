/**
 * The most input tokens a request can be billed for, read from the request alone, block by block:
 * text, thinking, tool definitions, tool inputs and results by their UTF-8 bytes (a token is at
 * least one byte), images by the provider's per-image ceiling (less when the image's header gives
 * its size), PDFs by a per-page ceiling when their pages can be counted. A part that cannot be
 * bounded (a PDF by URL, or one whose pages cannot be counted, or a block of a kind not known
 * here) makes the bound infinite: the caller then asks the provider to count, or takes the model's
 * whole context window. Pure; nothing of fleetguard.
 */
import { byteLength } from "./bytes.js"
import * as Media from "./media.js"

/** The blocks an estimate reads, structurally (the public types are in Llm.ts). */
export type Block =
  | { readonly type: "text"; readonly text: string }
  | { readonly type: "image"; readonly source: Source }
  | {
      readonly type: "document"
      readonly source: Source
      readonly title?: string | undefined
      readonly context?: string | undefined
    }
  | { readonly type: "tool_use"; readonly id: string; readonly name: string; readonly input: unknown }
  | {
      readonly type: "tool_result"
      readonly toolUseId: string
      readonly content: string | ReadonlyArray<Block>
    }
  | { readonly type: "thinking"; readonly thinking: string; readonly signature: string }
  | { readonly type: "redacted_thinking"; readonly data: string }

export type Source =
  | { readonly type: "base64"; readonly mediaType: string; readonly data: string }
  | { readonly type: "text"; readonly data: string }
  | { readonly type: "url"; readonly url: string }

export type Content = string | ReadonlyArray<Block>

/** What the bound reads of a request. */
export interface Bounded {
  readonly model: string
  readonly messages: ReadonlyArray<{ readonly content: Content }>
  readonly system?: string | ReadonlyArray<{ readonly type: "text"; readonly text: string }> | undefined
  readonly tools?: ReadonlyArray<object> | undefined
}

export const perMessageOverheadTokens = 16
export const perRequestOverheadTokens = 32

/**
 * The system prompt the provider adds when a request has tools: Anthropic documents 313–346
 * tokens for current models (up to 530 for older ones); this is above all of them.
 */
export const toolUseSystemPromptTokens = 600

/**
 * What the provider adds for a tool it defines itself (`{ type: "bash_20250124", name: "bash" }`,
 * web search, code execution…), beyond the tool's own JSON: above every figure Anthropic documents
 * (computer use, 735 tokens and 499 of system prompt). What such a tool fetches or runs is billed as
 * the provider reports, and bounded by nothing in the request.
 */
export const definedToolTokens = 1_500

/**
 * The model's context window: no request's input can be billed past it (the API refuses a longer
 * one), so it bounds what cannot be counted. The largest Anthropic offers (1M tokens, with the
 * long-context option), for every model: a smaller window would undercount a model that has one.
 */
export const contextWindowTokens = 1_000_000

/** A block's framing (its type, separators) beyond its bytes, as a message's. */
const framed = (bytes: number): number => bytes + perMessageOverheadTokens

/**
 * Bytes of a value as JSON (a tool's input or schema); infinite for one JSON cannot hold (a cycle, a
 * bigint), which a request decoded at the boundary never has.
 */
const jsonBytes = (value: unknown): number => {
  try {
    return byteLength(JSON.stringify(value) ?? "null")
  } catch {
    return Number.POSITIVE_INFINITY
  }
}

const sourceTokens = (model: string, block: { readonly type: "image" | "document"; readonly source: Source }) => {
  const { source } = block
  if (source.type === "text") return byteLength(source.data)
  if (block.type === "image") return Media.imageTokens(model, source.type === "base64" ? source.data : undefined)
  return source.type === "base64" ? Media.pdfTokens(model, source.data) : Number.POSITIVE_INFINITY
}

const blockTokens = (model: string, block: Block): number => {
  switch (block.type) {
    case "text":
      return framed(byteLength(block.text))
    case "image":
      return framed(sourceTokens(model, block))
    case "document":
      return framed(sourceTokens(model, block) + byteLength(block.title ?? "") + byteLength(block.context ?? ""))
    case "tool_use":
      return framed(byteLength(block.id) + byteLength(block.name) + jsonBytes(block.input))
    case "tool_result":
      return framed(byteLength(block.toolUseId) + contentTokens(model, block.content))
    case "thinking":
      return framed(byteLength(block.thinking) + byteLength(block.signature))
    case "redacted_thinking":
      return framed(byteLength(block.data))
    default:
      // Not a kind known here (the request was not decoded): never priced as nothing.
      return Number.POSITIVE_INFINITY
  }
}

/** A string is framed as one block; blocks each as their own. */
export const contentTokens = (model: string, content: Content): number => {
  if (typeof content === "string") return framed(byteLength(content))
  let tokens = content.length === 0 ? perMessageOverheadTokens : 0
  for (const block of content) tokens += blockTokens(model, block)
  return tokens
}

/** A tool the provider defines (it has a `type`, which a client tool has not, or says is "custom"). */
const isDefined = (tool: object): boolean => "type" in tool && tool.type !== "custom"

/**
 * Every tool definition by its bytes as JSON, and what the provider adds for one it defines; the
 * tool-use system prompt once.
 */
const toolTokens = (tools: ReadonlyArray<object> | undefined): number => {
  if (tools === undefined || tools.length === 0) return 0
  let tokens = toolUseSystemPromptTokens
  for (const tool of tools) tokens += framed(jsonBytes(tool)) + (isDefined(tool) ? definedToolTokens : 0)
  return tokens
}

/**
 * The bound: infinite when a part cannot be bounded from the request (see the module's doc).
 */
export const maxInputTokens = (request: Bounded): number => {
  let tokens = perRequestOverheadTokens + toolTokens(request.tools)
  if (request.system !== undefined) tokens += contentTokens(request.model, request.system)
  for (const message of request.messages) tokens += contentTokens(request.model, message.content)
  return tokens
}

/** The bound, never past the context window: the window alone when the request holds a part that cannot be bounded. */
export const inputCeiling = (request: Bounded): number => Math.min(maxInputTokens(request), contextWindowTokens)
