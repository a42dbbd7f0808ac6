/**
 * FakeAnthropic's types, documented here and exported from FakeAnthropic.ts. They stand apart so
 * that the server's modules use them without importing the module that imports the server.
 */
import type { Duration, Effect } from "effect"

/**
 * How a 429 says when to come back: `retry-after` (seconds or an HTTP date) or `retry-after-ms`.
 *
 * @since 0.1.0
 * @category models
 */
export type RetryAfter = { readonly seconds: number } | { readonly millis: number } | { readonly date: Date }

/**
 * What the server does instead of answering a call normally: an error status, a hang, a stream cut
 * short or an unreadable body.
 *
 * @since 0.1.0
 * @category models
 */
export type Fault =
  /**
   * 429 rate_limit_error, with the given retry-after header (none when absent). `headers` are added
   * as given, over the server's own: values no server should send, to try clients on them
   * (TestProvider, which has no headers, ignores them).
   */
  | {
      readonly _tag: "RateLimited"
      readonly retryAfter?: RetryAfter | undefined
      readonly headers?: Readonly<Record<string, string>> | undefined
    }
  /** 529 overloaded_error. */
  | { readonly _tag: "Overloaded" }
  /** Any error status with the API's error body, e.g. 500 api_error or 400 invalid_request_error. */
  | {
      readonly _tag: "Status"
      readonly status: number
      readonly errorType: string
      readonly message?: string | undefined
    }
  /** Never answers: only the client closing the connection ends it. */
  | { readonly _tag: "Hang" }
  /**
   * Streaming: message_start and `afterDeltas` deltas (of any block), then the socket is destroyed (no
   * message_delta). Not streaming: the socket is destroyed before any answer.
   */
  | { readonly _tag: "DropMidStream"; readonly afterDeltas: number }
  /**
   * Streaming: `afterDeltas` deltas, then `event: error` with the error body (default
   * overloaded_error), then the response ends. Not streaming: that error type's status and body.
   */
  | { readonly _tag: "ErrorEvent"; readonly afterDeltas: number; readonly errorType?: string | undefined }
  /** 200 `application/json` whose body does not parse (streaming: a `data:` line that is not JSON). */
  | { readonly _tag: "Malformed" }
  /** 200 with valid JSON that is not a Message: no content, usage a string. */
  | { readonly _tag: "BadShape" }

/**
 * What a script sees of a POST /v1/messages that passed the auth check and the request's checks
 * (and, for a fault `Script`, the rate-limit window).
 *
 * @since 0.1.0
 * @category models
 */
export interface FakeCall {
  /** 0 for the first POST /v1/messages the server received (rejected ones count too). */
  readonly index: number
  /** Since the server started, on the Effect Clock. */
  readonly elapsedMillis: number
  readonly body: unknown
  readonly stream: boolean
}

/**
 * The fault for a call, or `undefined` to answer it normally.
 *
 * @since 0.1.0
 * @category models
 */
export type Script = (call: FakeCall) => Fault | undefined

/**
 * A block of a scripted answer, as the Messages API writes it. A `tool_use` without an `id` gets
 * one from the server (`toolu_…`, unique per server); a `thinking` block without a `signature`
 * gets one too. Build them with `FakeAnthropic.text`, `toolUse`, `thinking`, `redactedThinking`.
 *
 * @since 0.2.0
 * @category models
 */
export type FakeBlock =
  | { readonly type: "text"; readonly text: string }
  | { readonly type: "tool_use"; readonly name: string; readonly input: unknown; readonly id?: string | undefined }
  | { readonly type: "thinking"; readonly thinking: string; readonly signature?: string | undefined }
  | { readonly type: "redacted_thinking"; readonly data: string }

/**
 * The blocks a call is answered with, in order, as JSON or streamed the way the API streams them.
 * Its output tokens are ceil(UTF-8 bytes / 4) of what is generated (text, tool input JSON,
 * thinking), at most the request's `max_tokens`: an answer longer than that is cut there
 * (`stop_reason: "max_tokens"`; a tool_use that does not fit is left out), and a text block is cut
 * at the first of the request's `stop_sequences` (`stop_reason: "stop_sequence"`). Otherwise the
 * stop reason is `tool_use` when a tool_use block is in it, else `end_turn`.
 *
 * @since 0.2.0
 * @category models
 */
export type FakeAnswer = ReadonlyArray<FakeBlock>

/**
 * The answer to a call, or `undefined` for the default one (words of lorem ipsum, or the forced
 * tool's `toolInput`). Called once per POST /v1/messages that passes the request's checks, before
 * the rate-limit window (which counts the answer's output tokens) and the fault script (a fault
 * still wins: a stream cut after N deltas is cut in this answer's deltas).
 *
 * @since 0.2.0
 * @category models
 */
export type AnswerScript = (call: FakeCall) => FakeAnswer | undefined

/**
 * Fixed windows aligned at server start. A POST /v1/messages counts one request and its input
 * tokens plus the output tokens it will get when admitted; one that does not fit is answered 429
 * with `retry-after` until the window ends. Limits left out are reported (4000 requests, 400000
 * tokens) but not enforced.
 *
 * @since 0.1.0
 * @category models
 */
export interface Limits {
  readonly requestsPerMinute?: number | undefined
  readonly tokensPerMinute?: number | undefined
  /** Default 1 minute; the "per minute" limits apply per window. */
  readonly window?: Duration.DurationInput | undefined
}

/**
 * How the server behaves: the key it accepts, its port, its latencies, the length of its replies,
 * its fault script and its rate limits.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Default `defaultApiKey`. Requests without `Authorization: Bearer <apiKey>` or `x-api-key: <apiKey>` get 401. */
  readonly apiKey?: string | undefined
  /** Default 0: any free port. The host is always 127.0.0.1. */
  readonly port?: number | undefined
  /** Before the response's headers are sent. Default 0. */
  readonly latency?: Duration.DurationInput | undefined
  /** Between two SSE deltas (of text, tool input or thinking). Default 0. */
  readonly deltaInterval?: Duration.DurationInput | undefined
  /** Tokens (words) per default reply, capped at the request's max_tokens. Default 24. */
  readonly outputTokens?: number | undefined
  readonly script?: Script | undefined
  readonly limits?: Limits | undefined
  /**
   * A request that forces a tool (`tool_choice: { type: "tool", name }`, as @effect/ai's
   * generateObject sends it) is answered, when not streaming, with one `tool_use` block of that
   * tool with this input. Default `{}`.
   */
  readonly toolInput?: unknown
  /** Scripted answers: tool calls, thinking, text of your own. Default: none (every call gets the default answer). */
  readonly answer?: AnswerScript | undefined
  /**
   * Default true: a conversation sent back must be one this server wrote — each `tool_result`
   * answers a tool_use id it sent, each thinking block is unchanged with the signature it sent
   * (as the API checks signatures). `false` takes hand-written histories; the API's other checks
   * (a tool_result answers a tool_use of the assistant message before it, and so on) still apply.
   */
  readonly strictHistory?: boolean | undefined
}

/**
 * A request the server received, as it recorded it (never the API key): what was asked, which
 * fault answered it, and how it ended.
 *
 * @since 0.1.0
 * @category models
 */
export interface RecordedRequest {
  /** 0 for the first request of any kind. */
  readonly index: number
  /** Epoch millis on the Effect Clock when it arrived. */
  readonly at: number
  readonly method: string
  readonly path: string
  /** Lower-cased; `authorization` and `x-api-key` are "[redacted]": the key is never stored. */
  readonly headers: Readonly<Record<string, string>>
  /** Parsed JSON, or the raw text when it is not JSON. */
  readonly body: unknown
  readonly fault: Fault["_tag"] | "RateLimitWindow" | "Unauthorized" | null
  /** Once headers were sent; null while none were (or never, for a hang or an early drop). */
  status: number | null
  /**
   * `answered`: the whole response was handed to the OS. `client-closed`: the connection closed
   * before that (the SDK aborted, timed out or stopped reading). `dropped`: a DropMidStream fault.
   */
  outcome: "in-flight" | "answered" | "client-closed" | "dropped"
  /** Epoch millis on the Effect Clock when it ended. */
  endedAt: number | null
}

/**
 * A running server: where to point the SDK, and what it received.
 *
 * @since 0.1.0
 * @category models
 */
export interface FakeAnthropicService {
  /** e.g. "http://127.0.0.1:43123": what the SDK's `baseURL` option takes. */
  readonly baseURL: string
  readonly apiKey: string
  /** Every request so far, oldest first (live records: status and outcome change as they end). */
  readonly requests: Effect.Effect<ReadonlyArray<RecordedRequest>>
  /**
   * Resolves once no request is "in-flight" (lets a test wait for the server to notice a closed
   * connection). A request the server has not received yet does not count.
   */
  readonly awaitIdle: Effect.Effect<void>
  /** The most requests the server has had in flight at once (the high-water mark of concurrency). */
  readonly peakInFlight: Effect.Effect<number>
}
