/**
 * TestProvider: an in-memory `LlmProvider` whose every call follows a script — replies, provider
 * errors, hangs — with latencies on the Effect clock, so tests drive it with TestClock. It records
 * every call (when it started and ended, for which agent, how it ended) for assertions.
 *
 * @module
 * @since 0.1.0
 */
import { LlmProvider, type ProviderError, ProviderUnavailable, providerErrorFrom, RateLimited } from "@fleetguard/core"
import { Context, type Duration, Effect, Layer } from "effect"
import type * as FakeAnthropic from "./FakeAnthropic.js"
import * as internal from "./internal/testProvider.js"
import type { Script, Step, TestProviderService } from "./internal/testProviderModel.js"

export type { CallInfo, RecordedCall, Script, Step, TestProviderService } from "./internal/testProviderModel.js"

/**
 * A reply of `text` (default `reply <index>`), or of `content` blocks (tool calls, thinking: build
 * them with `FakeAnthropic.toolUse`, `thinking`, `text`) with their stop reason, after `latency`,
 * with the usage and pacing `options` give. A request FakeAnthropic would refuse for what it holds
 * (an image it cannot read, a PDF by URL) fails `InvalidRequest` instead, as the provider would.
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
 * Deterministic usage, as FakeAnthropic counts it: input as the API would bill the prompt (every
 * block, tool definitions and the tool-use system prompt; the same count as FakeAnthropic's), a
 * token per output word.
 *
 * @since 0.1.0
 * @category utils
 */
export const usageFor = internal.usageFor

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
export const make = (script: Script = always(reply())): Effect.Effect<TestProviderService> => internal.make(script)

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
