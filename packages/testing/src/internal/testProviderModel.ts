/**
 * TestProvider's types, documented here and exported from TestProvider.ts. They stand apart so
 * that its implementation uses them without importing the module that imports it.
 */
import type { CompletionRequest, LlmProviderService, ProviderError } from "@fleetguard/core"
import type { Duration, Effect } from "effect"
import type { FakeBlock } from "./fakeAnthropicModel.js"

/**
 * What the provider does with one call: reply (after a latency, streaming word by word, tool
 * input piece by piece), fail with a `ProviderError`, hang, or fail partway through a stream.
 *
 * @since 0.1.0
 * @category models
 */
export type Step =
  | {
      readonly _tag: "Reply"
      readonly latency?: Duration.DurationInput | undefined
      readonly text?: string | undefined
      /**
       * The answer's blocks instead of `text` (whose text blocks make the completion's `text`):
       * tool calls, thinking, text — core's `AnswerBlock`s, or FakeAnthropic's constructors'
       * (`FakeAnthropic.toolUse(name, input)`), whose missing ids (`toolu_test_<call>…`) and
       * signatures are made up. Streamed as TextDelta, ToolInputDelta and ThinkingDelta events.
       */
      readonly content?: ReadonlyArray<FakeBlock> | undefined
      /** Default: `tool_use` when `content` holds a tool_use, else `end_turn`. */
      readonly stopReason?: string | undefined
      /**
       * Default: one token per word of `text`; for `content`, as FakeAnthropic counts a scripted
       * answer (ceil(UTF-8 bytes / 4) of text, tool input JSON, thinking). At most `maxTokens`.
       */
      readonly outputTokens?: number | undefined
      /** Streaming: the time before each delta (one per word, or per piece of tool input). */
      readonly deltaLatency?: Duration.DurationInput | undefined
      /** As if the provider's rate-limit headers said a limit is used up for this long. */
      readonly rateLimitResetMillis?: number | undefined
    }
  | { readonly _tag: "Fail"; readonly latency?: Duration.DurationInput | undefined; readonly error: ProviderError }
  /** Never answers: only interruption ends it. */
  | { readonly _tag: "Hang" }
  /**
   * Streaming: starts (input usage reported), sends `afterDeltas` words `deltaLatency` apart, then
   * fails with `error` like an `event: error` mid-stream. Not streaming: fails like `Fail`.
   */
  | {
      readonly _tag: "Cut"
      readonly afterDeltas: number
      readonly deltaLatency?: Duration.DurationInput | undefined
      readonly error: ProviderError
    }

/**
 * What a script sees of a call: its index, when it started, for which agent, the request, and
 * whether it streams.
 *
 * @since 0.1.0
 * @category models
 */
export interface CallInfo {
  /** 0 for the first call made to this provider. */
  readonly index: number
  /** Epoch millis when the call started. */
  readonly at: number
  readonly agentId: string
  readonly request: CompletionRequest
  /** Whether it came through `stream` rather than `complete`. */
  readonly stream: boolean
}

/**
 * The step for each call: what the provider does with it.
 *
 * @since 0.1.0
 * @category models
 */
export type Script = (call: CallInfo) => Step

/**
 * A call the provider received, as recorded: what it was, which step answered it, and how it
 * ended.
 *
 * @since 0.1.0
 * @category models
 */
export interface RecordedCall extends CallInfo {
  readonly step: Step["_tag"]
  /** Epoch millis when it ended; null while in flight. */
  endedAt: number | null
  outcome: "replied" | "failed" | "interrupted" | null
}

/**
 * The provider, with what it recorded: every call, the calls in flight, and the most ever in
 * flight at once.
 *
 * @since 0.1.0
 * @category models
 */
export interface TestProviderService extends LlmProviderService {
  readonly calls: Effect.Effect<ReadonlyArray<RecordedCall>>
  readonly inFlight: Effect.Effect<number>
  /** The most calls ever in flight at once. */
  readonly peakInFlight: Effect.Effect<number>
}
