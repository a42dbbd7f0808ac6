/**
 * What a conversation is made of: the content blocks a message holds (text, images, documents,
 * tool calls and results, thinking), the system prompt, the tools a request offers and how the
 * model may use them, and the blocks of an answer. `Llm` re-exports them all.
 *
 * @module
 * @since 0.2.0
 */

/**
 * A block of text, as the Messages API accepts it wherever it takes text (content and system).
 *
 * @since 0.1.0
 * @category models
 */
export interface TextBlock {
  readonly type: "text"
  readonly text: string
}

/**
 * Where an image or a document comes from when the provider fetches it itself.
 *
 * @since 0.2.0
 * @category models
 */
export interface UrlSource {
  readonly type: "url"
  readonly url: string
}

/**
 * An image, inline (base64, with its media type: `image/jpeg`, `image/png`, `image/gif` or
 * `image/webp`) or by URL. Priced by the provider's per-image ceiling (less when its size can be
 * read from its header).
 *
 * @since 0.2.0
 * @category models
 */
export interface ImageBlock {
  readonly type: "image"
  readonly source: { readonly type: "base64"; readonly mediaType: ImageMediaType; readonly data: string } | UrlSource
}

/**
 * The image formats the Messages API takes inline.
 *
 * @since 0.2.0
 * @category models
 */
export type ImageMediaType = "image/jpeg" | "image/png" | "image/gif" | "image/webp"

/**
 * A document: a PDF (base64 or by URL) or plain text. A PDF is priced by a per-page ceiling when
 * its pages can be counted, else by the provider's token count when one is configured, else by
 * the model's whole context window.
 *
 * @since 0.2.0
 * @category models
 */
export interface DocumentBlock {
  readonly type: "document"
  readonly source:
    | { readonly type: "base64"; readonly mediaType: "application/pdf"; readonly data: string }
    | { readonly type: "text"; readonly data: string }
    | UrlSource
  readonly title?: string | undefined
  readonly context?: string | undefined
}

/**
 * The model asking for a tool: its id (which the `tool_result` answering it names), the tool and
 * the input it chose (parsed JSON).
 *
 * @since 0.2.0
 * @category models
 */
export interface ToolUseBlock {
  readonly type: "tool_use"
  readonly id: string
  readonly name: string
  readonly input: unknown
}

/**
 * What a tool gave back, in the user turn after the `tool_use` it answers.
 *
 * @since 0.2.0
 * @category models
 */
export interface ToolResultBlock {
  readonly type: "tool_result"
  readonly toolUseId: string
  readonly content: string | ReadonlyArray<TextBlock | ImageBlock>
  readonly isError?: boolean | undefined
}

/**
 * The model's reasoning, when thinking is on: sent back unchanged (signature and all) on the
 * next turn, as the API requires; `redacted_thinking` is reasoning the provider encrypted.
 *
 * @since 0.2.0
 * @category models
 */
export type ThinkingBlock =
  | { readonly type: "thinking"; readonly thinking: string; readonly signature: string }
  | { readonly type: "redacted_thinking"; readonly data: string }

/**
 * Every kind of block a message can hold.
 *
 * @since 0.2.0
 * @category models
 */
export type ContentBlock = TextBlock | ImageBlock | DocumentBlock | ToolUseBlock | ToolResultBlock | ThinkingBlock

/**
 * What a message says: a string, or blocks of any kind.
 *
 * @since 0.1.0
 * @category models
 */
export type Content = string | ReadonlyArray<ContentBlock>

/**
 * A system prompt: a string, or text blocks.
 *
 * @since 0.2.0
 * @category models
 */
export type SystemPrompt = string | ReadonlyArray<TextBlock>

/**
 * A tool the caller runs (a client tool): its name, what it is for, and the JSON Schema of its
 * input (an object schema: `{ type: "object", properties, required }`).
 *
 * @since 0.2.0
 * @category models
 */
export interface Tool {
  readonly name: string
  readonly description?: string | undefined
  readonly inputSchema: Readonly<Record<string, unknown>>
}

/**
 * A tool the provider runs (web search, code execution…), passed through as the API writes it
 * (`{ type: "web_search_20250305", name: "web_search", max_uses: 3 }`); what it costs is priced by
 * what the provider reports.
 *
 * @since 0.2.0
 * @category models
 */
export interface ServerTool {
  readonly type: string
  readonly name: string
  readonly [field: string]: unknown
}

/**
 * Which tool the model may or must use: `auto` (its choice, the default with tools), `any` (one
 * of them), `tool` (that one), `none`.
 *
 * @since 0.2.0
 * @category models
 */
export type ToolChoice =
  | { readonly type: "auto" | "any"; readonly disableParallelToolUse?: boolean | undefined }
  | { readonly type: "none" }
  | { readonly type: "tool"; readonly name: string; readonly disableParallelToolUse?: boolean | undefined }

/**
 * Extended thinking: `enabled` with a budget of reasoning tokens (at least 1024, below
 * `maxTokens`), `adaptive` (the model decides, on the models that take it) or `disabled`.
 * Thinking is output: it is billed within `maxTokens`, which bounds the estimate.
 *
 * @since 0.2.0
 * @category models
 */
export type Thinking =
  | { readonly type: "enabled"; readonly budgetTokens: number }
  | { readonly type: "adaptive" }
  | { readonly type: "disabled" }

/**
 * A block of an answer: text, a tool the model asks for (with its parsed input), or its thinking.
 *
 * @since 0.2.0
 * @category models
 */
export type AnswerBlock = TextBlock | ToolUseBlock | ThinkingBlock
