/**
 * FakeAnthropic: a real HTTP server on 127.0.0.1 that speaks the Anthropic Messages API the way
 * `@anthropic-ai/sdk` expects (JSON and SSE replies, error bodies, `request-id` and rate-limit
 * headers), with scriptable faults and optional rate-limit windows. Point the SDK's `baseURL` at it.
 *
 * Every delay (latency, delta interval, windows) is on the Effect Clock of the fiber that built the
 * server, so a server built inside `it.effect` runs on the TestClock and a live program on real time.
 * Every request is recorded — never its API key — with how it ended.
 *
 * @module
 * @since 0.1.0
 */
import type { ServeError } from "@effect/platform/HttpServerError"
import { Context, type Effect, Layer, type Scope } from "effect"
import type {
  FakeAnthropicService,
  FakeBlock,
  Fault,
  Options,
  RetryAfter,
  Script
} from "./internal/fakeAnthropicModel.js"
import * as internal from "./internal/fakeAnthropicServer.js"

export type {
  AnswerScript,
  FakeAnswer,
  FakeAnthropicService,
  FakeBlock,
  FakeCall,
  Fault,
  Limits,
  Options,
  RecordedRequest,
  RetryAfter,
  Script
} from "./internal/fakeAnthropicModel.js"

/**
 * The key the server accepts unless `Options.apiKey` says otherwise.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultApiKey = internal.defaultApiKey

/**
 * A 429 `rate_limit_error`, saying when to come back as `retryAfter` gives (not at all when
 * absent), with `headers` added over the server's own.
 *
 * @since 0.1.0
 * @category constructors
 */
export const rateLimited = (retryAfter?: RetryAfter, headers?: Readonly<Record<string, string>>): Fault => ({
  _tag: "RateLimited",
  retryAfter,
  headers
})
/**
 * A 529 `overloaded_error`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const overloaded: Fault = { _tag: "Overloaded" }
/**
 * An error `status` with the API's error body of `errorType` (and `message`, or a default one).
 *
 * @since 0.1.0
 * @category constructors
 */
export const status = (status: number, errorType: string, message?: string): Fault => ({
  _tag: "Status",
  status,
  errorType,
  message
})
/**
 * No answer at all: only the client closing the connection ends the request.
 *
 * @since 0.1.0
 * @category constructors
 */
export const hang: Fault = { _tag: "Hang" }
/**
 * The connection destroyed after `afterDeltas` text deltas of a stream (before any answer, when
 * not streaming).
 *
 * @since 0.1.0
 * @category constructors
 */
export const dropMidStream = (afterDeltas: number): Fault => ({ _tag: "DropMidStream", afterDeltas })
/**
 * An `event: error` after `afterDeltas` text deltas of a stream (`errorType`, default
 * `overloaded_error`); when not streaming, that error's status and body.
 *
 * @since 0.1.0
 * @category constructors
 */
export const errorEvent = (afterDeltas: number, errorType?: string): Fault => ({
  _tag: "ErrorEvent",
  afterDeltas,
  errorType
})
/**
 * A 200 whose body is not JSON (streaming: a `data:` line that is not).
 *
 * @since 0.1.0
 * @category constructors
 */
export const malformed: Fault = { _tag: "Malformed" }
/**
 * A 200 with valid JSON that is not a Message.
 *
 * @since 0.1.0
 * @category constructors
 */
export const badShape: Fault = { _tag: "BadShape" }

/**
 * A text block of a scripted answer (streamed a word a delta).
 *
 * @since 0.2.0
 * @category answers
 */
export const text = (text: string): FakeBlock => ({ type: "text", text })
/**
 * A tool call of a scripted answer: `name` with `input` (streamed as pieces of its JSON). Its id is
 * `id`, or one the server makes up (`toolu_…`, unique per server), which a `tool_result` must answer.
 *
 * @since 0.2.0
 * @category answers
 */
export const toolUse = (name: string, input: unknown, id?: string): FakeBlock => ({ type: "tool_use", name, input, id })
/**
 * A thinking block of a scripted answer, with `signature` or one the server makes up; send it back
 * unchanged on the next turn.
 *
 * @since 0.2.0
 * @category answers
 */
export const thinking = (thinking: string, signature?: string): FakeBlock => ({
  type: "thinking",
  thinking,
  signature
})
/**
 * A redacted thinking block of a scripted answer (streamed whole, in its content_block_start).
 *
 * @since 0.2.0
 * @category answers
 */
export const redactedThinking = (data: string): FakeBlock => ({ type: "redacted_thinking", data })

/**
 * Faults by call index; other calls are answered normally.
 *
 * @since 0.1.0
 * @category combinators
 */
export const byIndex =
  (faults: Readonly<Record<number, Fault>>): Script =>
  ({ index }) =>
    Object.hasOwn(faults, index) ? faults[index] : undefined

/**
 * `fault` for calls arriving in [fromMillis, toMillis) after the server started.
 *
 * @since 0.1.0
 * @category combinators
 */
export const during =
  (fromMillis: number, toMillis: number, fault: Fault): Script =>
  ({ elapsedMillis }) =>
    elapsedMillis >= fromMillis && elapsedMillis < toMillis ? fault : undefined

/**
 * The first script with an answer wins.
 *
 * @since 0.1.0
 * @category combinators
 */
export const sequence =
  (...scripts: ReadonlyArray<Script>): Script =>
  (call) => {
    for (const script of scripts) {
      const fault = script(call)
      if (fault !== undefined) return fault
    }
    return undefined
  }

/**
 * The tag of a running server, for tests that take it from the context.
 *
 * @since 0.1.0
 * @category tags
 */
export class FakeAnthropic extends Context.Tag("@fleetguard/testing/FakeAnthropic")<
  FakeAnthropic,
  FakeAnthropicService
>() {}

/**
 * Starts a server; it stops (closing any open connection) when the scope closes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (options?: Options) => Effect.Effect<FakeAnthropicService, ServeError, Scope.Scope> = internal.make

/**
 * A server running for the layer's lifetime, as the `FakeAnthropic` service.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: Options): Layer.Layer<FakeAnthropic, ServeError> =>
  Layer.scoped(FakeAnthropic, make(options))
