/**
 * The data every provider and the LlmClient speak.
 *
 * @module
 * @since 0.1.0
 */
import type { Effect } from "effect"
import type { AnswerBlock, Content, ServerTool, SystemPrompt, Thinking, Tool, ToolChoice } from "./Content.js"
import type { ProviderError } from "./Errors.js"

export type {
  AnswerBlock,
  Content,
  ContentBlock,
  DocumentBlock,
  ImageBlock,
  ImageMediaType,
  ServerTool,
  SystemPrompt,
  TextBlock,
  Thinking,
  ThinkingBlock,
  Tool,
  ToolChoice,
  ToolResultBlock,
  ToolUseBlock,
  UrlSource
} from "./Content.js"

/**
 * One turn of a conversation: who spoke, and what they said.
 *
 * @since 0.1.0
 * @category models
 */
export interface Message {
  readonly role: "user" | "assistant"
  readonly content: Content
}

/**
 * A request for one completion: the model, the most tokens it may generate (which bounds the
 * cost), the conversation, and optionally a system prompt, tools, stop sequences and thinking.
 *
 * @since 0.1.0
 * @category models
 */
export interface CompletionRequest {
  readonly model: string
  readonly maxTokens: number
  readonly messages: ReadonlyArray<Message>
  readonly system?: SystemPrompt | undefined
  readonly tools?: ReadonlyArray<Tool | ServerTool> | undefined
  readonly toolChoice?: ToolChoice | undefined
  readonly stopSequences?: ReadonlyArray<string> | undefined
  readonly thinking?: Thinking | undefined
  /** An opaque id of the end user (a hash, a uuid), which the provider may use against abuse. */
  readonly metadata?: { readonly userId?: string | undefined } | undefined
  /** Prompt caching asked for, with its lifetime; cache writes cost more than plain input. */
  readonly cache?: "5m" | "1h" | undefined
}

/**
 * The tokens a call used, as the provider counts them: what the call is priced from.
 *
 * @since 0.1.0
 * @category models
 */
export interface Usage {
  readonly inputTokens: number
  readonly outputTokens: number
  /** All cache-write tokens, whatever their lifetime. */
  readonly cacheCreationInputTokens: number
  readonly cacheReadInputTokens: number
  /** The part of `cacheCreationInputTokens` written with a 1-hour lifetime, when the provider says. */
  readonly cacheCreation1hInputTokens?: number | undefined
}

/**
 * A provider's answer: every block in order, the text blocks joined, the model that wrote it, why
 * it stopped (`tool_use` when it asks for a tool), and the tokens it used.
 *
 * @since 0.1.0
 * @category models
 */
export interface ProviderCompletion {
  /** The text blocks of `content`, joined. */
  readonly text: string
  /** Every block of the answer, in order; send them back as the assistant turn of the next request. */
  readonly content: ReadonlyArray<AnswerBlock>
  readonly model: string
  readonly stopReason: string | null
  readonly usage: Usage
  /**
   * The provider said (in its rate-limit headers) that a limit is used up until this long from
   * now: the client closes its gate for that long, so the next call waits instead of getting a 429.
   */
  readonly rateLimitResetMillis?: number | undefined
}

/**
 * A guarded call's answer: the provider's, with what it cost in USD.
 *
 * @since 0.1.0
 * @category models
 */
export interface Completion extends ProviderCompletion {
  readonly costUsd: number
}

/**
 * What a provider's stream reports, in order: usage as the provider counts it (at the start, and
 * again at the end with `final: true`), text as it arrives, then the whole completion.
 *
 * @since 0.1.0
 * @category models
 */
export type ProviderStreamEvent =
  | { readonly _tag: "Usage"; readonly usage: Usage; readonly final: boolean }
  | TextDelta
  | ToolInputDelta
  | ThinkingDelta
  | { readonly _tag: "Done"; readonly completion: ProviderCompletion }

/**
 * Text of the answer as it arrives.
 *
 * @since 0.2.0
 * @category models
 */
export interface TextDelta {
  readonly _tag: "TextDelta"
  readonly text: string
}

/**
 * A piece of a tool's input as the model writes it: `partialJson` pieces of one block (`index`)
 * joined are its input's JSON, which the completion holds parsed.
 *
 * @since 0.2.0
 * @category models
 */
export interface ToolInputDelta {
  readonly _tag: "ToolInputDelta"
  /** The block's place in the answer's content. */
  readonly index: number
  /** The tool_use block's id and its tool. */
  readonly id: string
  readonly name: string
  readonly partialJson: string
}

/**
 * A piece of the model's thinking as it arrives.
 *
 * @since 0.2.0
 * @category models
 */
export interface ThinkingDelta {
  readonly _tag: "ThinkingDelta"
  readonly thinking: string
}

/**
 * What `LlmClient.stream` emits: text, tool input and thinking as they arrive, then the completion
 * with its cost (its content holds each tool_use with its parsed input).
 *
 * @since 0.1.0
 * @category models
 */
export type StreamPart =
  | TextDelta
  | ToolInputDelta
  | ThinkingDelta
  | { readonly _tag: "Completion"; readonly completion: Completion }

/**
 * What an answer must carry for a guarded call to settle it and respect the provider's limits:
 * `ProviderCompletion` is one; a call made through another library can be another.
 *
 * @since 0.1.0
 * @category models
 */
export interface Answer {
  readonly usage: Usage
  /**
   * The model the provider reports having answered with, when a call made through another library
   * knows it (for a `ProviderCompletion`, its `model` says it). The usage is priced at the dearer of
   * this model and the request's, so that a model substituted or misreported never undercounts; a
   * reported model with no price is charged the full reservation.
   */
  readonly reportedModel?: string | undefined
  /** As in `ProviderCompletion`: a limit is used up for this long; the gate closes for it. */
  readonly rateLimitResetMillis?: number | undefined
}

/**
 * What a streamed call has received so far, updated by the stream as it goes: it decides whether
 * the call may still be retried (not once anything reached the caller) and what a stream cut short
 * is charged (the usage reported, or an upper bound from the bytes received).
 *
 * @since 0.1.0
 * @category models
 */
export interface StreamProgress {
  received: boolean
  usage: Usage | undefined
  /** Whether `usage` is the provider's final count. */
  final: boolean
  /** UTF-8 bytes of output received: text, tool input JSON and thinking. */
  bytes: number
}

/**
 * One call under every guard: `send` makes one attempt; a streamed call also reports its progress.
 *
 * @since 0.1.0
 * @category models
 */
export interface GuardedCall<A extends Answer> {
  readonly send: Effect.Effect<A, ProviderError>
  readonly progress?: StreamProgress | undefined
}
