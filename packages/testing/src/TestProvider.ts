/**
 * TestProvider: an in-memory `LlmProvider` whose every call follows a script — replies, provider
 * errors, hangs — with latencies on the Effect clock, so tests drive it with TestClock. It records
 * every call (when it started and ended, for which agent, how it ended) for assertions.
 *
 * @since 0.1.0
 */
import {
  Agent,
  type CompletionRequest,
  LlmProvider,
  type LlmProviderService,
  Pricing,
  type ProviderCompletion,
  type ProviderError,
  RateLimited
} from "@fleetguard/core"
import { Clock, Context, Duration, Effect, Layer } from "effect"

export type Step =
  | {
      readonly _tag: "Reply"
      readonly latency?: Duration.DurationInput | undefined
      readonly text?: string | undefined
      /** Default: one token per word of `text`, at most `maxTokens`. */
      readonly outputTokens?: number | undefined
    }
  | { readonly _tag: "Fail"; readonly latency?: Duration.DurationInput | undefined; readonly error: ProviderError }
  /** Never answers: only interruption ends it. */
  | { readonly _tag: "Hang" }

export const reply = (options: Omit<Extract<Step, { _tag: "Reply" }>, "_tag"> = {}): Step => ({
  _tag: "Reply",
  ...options
})
export const fail = (error: ProviderError, latency?: Duration.DurationInput): Step => ({ _tag: "Fail", error, latency })
export const hang: Step = { _tag: "Hang" }

export interface CallInfo {
  /** 0 for the first call made to this provider. */
  readonly index: number
  /** Epoch millis when the call started. */
  readonly at: number
  readonly agentId: string
  readonly request: CompletionRequest
}

export type Script = (call: CallInfo) => Step

export interface RecordedCall extends CallInfo {
  readonly step: Step["_tag"]
  /** Epoch millis when it ended; null while in flight. */
  endedAt: number | null
  outcome: "replied" | "failed" | "interrupted" | null
}

export interface TestProviderService extends LlmProviderService {
  readonly calls: Effect.Effect<ReadonlyArray<RecordedCall>>
  readonly inFlight: Effect.Effect<number>
  /** The most calls ever in flight at once. */
  readonly peakInFlight: Effect.Effect<number>
}

export class TestProvider extends Context.Tag("@fleetguard/testing/TestProvider")<
  TestProvider,
  TestProviderService
>() {}

/** Deterministic usage: ~4 bytes a token for input (never more tokens than bytes), a token per output word. */
export const usageFor = (request: CompletionRequest, text: string, outputTokens?: number) => {
  const bytes =
    (request.system === undefined ? 0 : Pricing.byteLength(request.system)) +
    request.messages.reduce((n, m) => n + Pricing.byteLength(m.content), 0)
  const words = text.split(/\s+/).filter((w) => w.length > 0).length
  return {
    inputTokens: Math.ceil(bytes / 4),
    outputTokens: Math.min(request.maxTokens, outputTokens ?? words),
    cacheCreationInputTokens: 0,
    cacheReadInputTokens: 0
  }
}

/** A provider that answers every call after `latency` (default: at once). */
export const always =
  (step: Step): Script =>
  () =>
    step

/** 429 with retry-after until `until` (epoch millis), then `after`. */
export const rateLimitedUntil =
  (until: number, after: Step = reply()): Script =>
  ({ at }) =>
    at < until
      ? fail(new RateLimited({ message: "rate limited", retryAfterMillis: until - at, requestId: "req_test" }))
      : after

export const make = (script: Script = always(reply())): Effect.Effect<TestProviderService> =>
  Effect.sync(() => {
    const calls: Array<RecordedCall> = []
    let inFlight = 0
    let peak = 0

    const complete = (request: CompletionRequest): Effect.Effect<ProviderCompletion, ProviderError> =>
      Effect.gen(function* () {
        const at = yield* Clock.currentTimeMillis
        const agentId = yield* Agent.current
        const info: CallInfo = { index: calls.length, at, agentId, request }
        const step = script(info)
        const call: RecordedCall = { ...info, step: step._tag, endedAt: null, outcome: null }
        calls.push(call)
        inFlight++
        peak = Math.max(peak, inFlight)
        const run: Effect.Effect<ProviderCompletion, ProviderError> =
          step._tag === "Hang"
            ? Effect.never
            : Effect.zipRight(
                Effect.sleep(step.latency ?? Duration.zero),
                step._tag === "Fail"
                  ? Effect.fail(step.error)
                  : Effect.sync(() => {
                      const text = step.text ?? `reply ${info.index}`
                      return {
                        text,
                        model: request.model,
                        stopReason: "end_turn",
                        usage: usageFor(request, text, step.outputTokens)
                      }
                    })
              )
        return yield* run.pipe(
          Effect.onExit((exit) =>
            Effect.map(Clock.currentTimeMillis, (now) => {
              inFlight--
              call.endedAt = now
              call.outcome = exit._tag === "Success" ? "replied" : exit.cause._tag === "Fail" ? "failed" : "interrupted"
            })
          )
        )
      })

    return {
      complete,
      calls: Effect.sync(() => calls.slice()),
      inFlight: Effect.sync(() => inFlight),
      peakInFlight: Effect.sync(() => peak)
    } satisfies TestProviderService
  })

/** Provides both `LlmProvider` (for `LlmClient`) and `TestProvider` (for assertions). */
export const layer = (script?: Script): Layer.Layer<LlmProvider | TestProvider> =>
  Layer.effectContext(
    Effect.map(make(script), (service) => Context.make(TestProvider, service).pipe(Context.add(LlmProvider, service)))
  )
