/**
 * TestProvider: an in-memory `LlmProvider` whose every call follows a script — replies, provider
 * errors, hangs — with latencies on the Effect clock, so tests drive it with TestClock. It records
 * every call (when it started and ended, for which agent, how it ended) for assertions.
 *
 * @module
 * @since 0.1.0
 */
import {
  Agent,
  type CompletionRequest,
  LlmProvider,
  type LlmProviderService,
  type ProviderCompletion,
  type ProviderError,
  type ProviderStreamEvent,
  ProviderUnavailable,
  providerErrorFrom,
  RateLimited,
  type Usage
} from "@fleetguard/core"
import { Clock, Context, Duration, Effect, Exit, Layer, Stream } from "effect"
import type * as FakeAnthropic from "./FakeAnthropic.js"
import * as Protocol from "./internal/fakeAnthropicProtocol.js"

/**
 * What the provider does with one call: reply (after a latency, streaming word by word), fail with
 * a `ProviderError`, hang, or fail partway through a stream.
 *
 * @since 0.1.0
 * @category models
 */
export type Step =
  | {
      readonly _tag: "Reply"
      readonly latency?: Duration.DurationInput | undefined
      readonly text?: string | undefined
      /** Default: one token per word of `text`, at most `maxTokens`. */
      readonly outputTokens?: number | undefined
      /** Streaming: the time between text deltas (one delta per word). */
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
 * A reply of `text` (default `reply <index>`), after `latency`, with the usage and pacing
 * `options` give.
 *
 * @since 0.1.0
 * @category constructors
 */
export const reply = (options: Omit<Extract<Step, { _tag: "Reply" }>, "_tag"> = {}): Step => ({
  _tag: "Reply",
  ...options
})
/**
 * A failure with `error`, after `latency`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fail = (error: ProviderError, latency?: Duration.DurationInput): Step => ({ _tag: "Fail", error, latency })
/**
 * No answer: only interruption ends the call.
 *
 * @since 0.1.0
 * @category constructors
 */
export const hang: Step = { _tag: "Hang" }
/**
 * A stream that sends `afterDeltas` words `deltaLatency` apart and then fails with `error` (when
 * not streaming, a plain failure).
 *
 * @since 0.1.0
 * @category constructors
 */
export const cut = (afterDeltas: number, error: ProviderError, deltaLatency?: Duration.DurationInput): Step => ({
  _tag: "Cut",
  afterDeltas,
  error,
  deltaLatency
})

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

/**
 * The tag of the test provider, for assertions on the calls it received.
 *
 * @since 0.1.0
 * @category tags
 */
export class TestProvider extends Context.Tag("@fleetguard/testing/TestProvider")<
  TestProvider,
  TestProviderService
>() {}

/**
 * Deterministic usage, as FakeAnthropic counts it: input as the API would bill the prompt, a token per output word.
 *
 * @since 0.1.0
 * @category utils
 */
export const usageFor = (request: CompletionRequest, text: string, outputTokens?: number) => {
  const words = text.split(/\s+/).filter((w) => w.length > 0).length
  return {
    inputTokens: Protocol.inputTokens(request.system, request.messages),
    outputTokens: Math.min(request.maxTokens, outputTokens ?? words),
    cacheCreationInputTokens: 0,
    cacheReadInputTokens: 0
  }
}

/**
 * A script that gives every call the same step.
 *
 * @since 0.1.0
 * @category combinators
 */
export const always =
  (step: Step): Script =>
  () =>
    step

/**
 * Runs a FakeAnthropic fault script in memory, as the Anthropic provider would report each fault:
 * the same scenarios, on TestClock, with no server. Calls without a fault get `otherwise`.
 *
 * @since 0.1.0
 * @category combinators
 */
export const faults =
  (script: FakeAnthropic.Script, otherwise: Step = reply()): Script =>
  (call) => {
    const fault = script({
      index: call.index,
      elapsedMillis: call.at,
      stream: call.stream,
      body: {
        model: call.request.model,
        max_tokens: call.request.maxTokens,
        messages: call.request.messages,
        ...(call.request.system === undefined ? {} : { system: call.request.system })
      }
    })
    if (fault === undefined) return otherwise
    const requestId = `req_test_${call.index}`
    switch (fault._tag) {
      case "RateLimited":
        return fail(
          new RateLimited({
            message: "rate limited",
            requestId,
            retryAfterMillis:
              fault.retryAfter === undefined
                ? undefined
                : "millis" in fault.retryAfter
                  ? fault.retryAfter.millis
                  : "seconds" in fault.retryAfter
                    ? fault.retryAfter.seconds * 1000
                    : Math.max(0, fault.retryAfter.date.getTime() - call.at)
          })
        )
      case "Overloaded":
        return fail(providerErrorFrom({ status: 529, message: "overloaded", requestId }))
      case "Status":
        return fail(
          providerErrorFrom({
            status: fault.status,
            errorType: fault.errorType,
            message: fault.message ?? fault.errorType,
            requestId
          })
        )
      case "Hang":
        return hang
      case "DropMidStream":
        return cut(fault.afterDeltas, new ProviderUnavailable({ message: "connection dropped mid-stream" }))
      case "ErrorEvent":
        return cut(
          fault.afterDeltas,
          providerErrorFrom({ errorType: fault.errorType ?? "overloaded_error", message: "error event", requestId })
        )
      case "Malformed":
      case "BadShape":
        return fail(new ProviderUnavailable({ message: "malformed response", requestId, billed: true }))
    }
  }

/**
 * 429 with retry-after until `until` (epoch millis), then `after`.
 *
 * @since 0.1.0
 * @category combinators
 */
export const rateLimitedUntil =
  (until: number, after: Step = reply()): Script =>
  ({ at }) =>
    at < until
      ? fail(new RateLimited({ message: "rate limited", retryAfterMillis: until - at, requestId: "req_test" }))
      : after

/**
 * A provider that follows `script` (by default, replies to every call at once), recording every
 * call.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (script: Script = always(reply())): Effect.Effect<TestProviderService> =>
  Effect.sync(() => {
    const calls: Array<RecordedCall> = []
    let inFlight = 0
    let peak = 0

    // Records a call as it starts; `end` records how it ended.
    const begin = (request: CompletionRequest, stream: boolean) =>
      Effect.map(Effect.zip(Clock.currentTimeMillis, Agent.current), ([at, agentId]) => {
        const info: CallInfo = { index: calls.length, at, agentId, request, stream }
        const step = script(info)
        const call: RecordedCall = { ...info, step: step._tag, endedAt: null, outcome: null }
        calls.push(call)
        inFlight++
        peak = Math.max(peak, inFlight)
        const end = (exit: Exit.Exit<unknown, unknown>) =>
          Effect.map(Clock.currentTimeMillis, (now) => {
            inFlight--
            call.endedAt = now
            call.outcome = Exit.isSuccess(exit) ? "replied" : exit.cause._tag === "Fail" ? "failed" : "interrupted"
          })
        return { step, info, end }
      })

    const completionOf = (step: Extract<Step, { _tag: "Reply" }>, info: CallInfo): ProviderCompletion => {
      const text = step.text ?? `reply ${info.index}`
      return {
        text,
        model: info.request.model,
        stopReason: "end_turn",
        usage: usageFor(info.request, text, step.outputTokens),
        rateLimitResetMillis: step.rateLimitResetMillis
      }
    }

    const reply = (step: Step, info: CallInfo): Effect.Effect<ProviderCompletion, ProviderError> => {
      switch (step._tag) {
        case "Hang":
          return Effect.never
        case "Reply":
          return Effect.as(Effect.sleep(step.latency ?? Duration.zero), completionOf(step, info))
        case "Fail":
          return Effect.zipRight(Effect.sleep(step.latency ?? Duration.zero), Effect.fail(step.error))
        case "Cut":
          return Effect.fail(step.error)
      }
    }
    const complete = (request: CompletionRequest): Effect.Effect<ProviderCompletion, ProviderError> =>
      Effect.flatMap(begin(request, false), ({ step, info, end }) => Effect.onExit(reply(step, info), end))

    // As the Anthropic stream: input usage first, a delta per word, the final usage, then Done.
    const events = (step: Step, info: CallInfo): Stream.Stream<ProviderStreamEvent, ProviderError> => {
      switch (step._tag) {
        case "Hang":
        case "Fail":
          return Stream.drain(Stream.fromEffect(reply(step, info)))
        case "Reply": {
          const completion = completionOf(step, info)
          return Stream.concat(
            started(completion.usage, words(completion.text), step.latency, step.deltaLatency),
            Stream.make(
              { _tag: "Usage", usage: completion.usage, final: true } as const,
              { _tag: "Done", completion } as const
            )
          )
        }
        case "Cut": {
          const deltas = Array.from({ length: step.afterDeltas }, (_, i) => (i === 0 ? "word" : " word"))
          return Stream.concat(
            started(usageFor(info.request, ""), deltas, undefined, step.deltaLatency),
            Stream.fail(step.error)
          )
        }
      }
    }
    // The call is recorded as running until its stream ends, not only until it started.
    const stream = (request: CompletionRequest): Stream.Stream<ProviderStreamEvent, ProviderError> =>
      Stream.unwrap(
        Effect.map(begin(request, true), ({ step, info, end }) => Stream.ensuringWith(events(step, info), end))
      )

    return {
      complete,
      stream,
      calls: Effect.sync(() => calls.slice()),
      inFlight: Effect.sync(() => inFlight),
      peakInFlight: Effect.sync(() => peak)
    } satisfies TestProviderService
  })

/** Splits text into deltas that concatenate back to it: each word with the space before it. */
const words = (text: string): ReadonlyArray<string> => text.split(/(?=\s+\S)/)

/** The start of a stream after `latency`: input usage reported with one output token, then the deltas. */
const started = (
  usage: Usage,
  deltas: ReadonlyArray<string>,
  latency: Duration.DurationInput | undefined,
  deltaLatency: Duration.DurationInput | undefined
): Stream.Stream<ProviderStreamEvent> =>
  Stream.concat(
    Stream.fromEffect(
      Effect.as(Effect.sleep(latency ?? Duration.zero), {
        _tag: "Usage",
        usage: { ...usage, outputTokens: Math.min(1, usage.outputTokens) },
        final: false
      } as const)
    ),
    Stream.mapEffect(Stream.fromIterable(deltas), (text) =>
      Effect.as(Effect.sleep(deltaLatency ?? Duration.zero), { _tag: "TextDelta", text } as const)
    )
  )

/**
 * Provides both `LlmProvider` (for `LlmClient`) and `TestProvider` (for assertions).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (script?: Script): Layer.Layer<LlmProvider | TestProvider> =>
  Layer.effectContext(
    Effect.map(make(script), (service) => Context.make(TestProvider, service).pipe(Context.add(LlmProvider, service)))
  )
