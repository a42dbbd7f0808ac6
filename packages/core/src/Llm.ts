/**
 * The data every provider and the LlmClient speak.
 *
 * @since 0.1.0
 */

export interface Message {
  readonly role: "user" | "assistant"
  readonly content: string
}

export interface CompletionRequest {
  readonly model: string
  readonly maxTokens: number
  readonly messages: ReadonlyArray<Message>
  readonly system?: string | undefined
  /** Prompt caching asked for, with its lifetime; cache writes cost more than plain input. */
  readonly cache?: "5m" | "1h" | undefined
}

export interface Usage {
  readonly inputTokens: number
  readonly outputTokens: number
  /** All cache-write tokens, whatever their lifetime. */
  readonly cacheCreationInputTokens: number
  readonly cacheReadInputTokens: number
  /** The part of `cacheCreationInputTokens` written with a 1-hour lifetime, when the provider says. */
  readonly cacheCreation1hInputTokens?: number | undefined
}

export interface ProviderCompletion {
  readonly text: string
  readonly model: string
  readonly stopReason: string | null
  readonly usage: Usage
}

export interface Completion extends ProviderCompletion {
  readonly costUsd: number
}
