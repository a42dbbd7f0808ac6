/**
 * TestProvider's implementation: the record of every call, and each step played out on the
 * Effect clock, for `complete` and as a stream.
 */
import {
  Agent,
  type CompletionRequest,
  type ProviderCompletion,
  type ProviderError,
  type ProviderStreamEvent,
  type Usage
} from "@fleetguard/core"
import { Clock, Duration, Effect, Exit, Stream } from "effect"
import * as Count from "./countTokens.js"
import type { CallInfo, RecordedCall, Script, Step, TestProviderService } from "./testProviderModel.js"

export const usageFor = (request: CompletionRequest, text: string, outputTokens?: number) => {
  const words = text.split(/\s+/).filter((w) => w.length > 0).length
  return {
    inputTokens: Count.count({
      model: request.model,
      system: request.system,
      messages: request.messages,
      tools: request.tools,
      toolChoice: request.toolChoice?.type
    }).inputTokens,
    outputTokens: Math.min(request.maxTokens, outputTokens ?? words),
    cacheCreationInputTokens: 0,
    cacheReadInputTokens: 0
  }
}

/** Every call as recorded, and the calls in flight (now and at most). */
const recorder = (script: Script) => {
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

  return {
    begin,
    calls: Effect.sync(() => calls.slice()),
    inFlight: Effect.sync(() => inFlight),
    peakInFlight: Effect.sync(() => peak)
  }
}

const completionOf = (step: Extract<Step, { _tag: "Reply" }>, info: CallInfo): ProviderCompletion => {
  const text = step.text ?? `reply ${info.index}`
  return {
    text,
    content: [{ type: "text", text }],
    model: info.request.model,
    stopReason: "end_turn",
    usage: usageFor(info.request, text, step.outputTokens),
    rateLimitResetMillis: step.rateLimitResetMillis
  }
}

const answer = (step: Step, info: CallInfo): Effect.Effect<ProviderCompletion, ProviderError> => {
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

// As the Anthropic stream: input usage first, a delta per word, the final usage, then Done.
const events = (step: Step, info: CallInfo): Stream.Stream<ProviderStreamEvent, ProviderError> => {
  switch (step._tag) {
    case "Hang":
    case "Fail":
      return Stream.drain(Stream.fromEffect(answer(step, info)))
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

export const make = (script: Script): Effect.Effect<TestProviderService> =>
  Effect.sync(() => {
    const recorded = recorder(script)
    const complete = (request: CompletionRequest): Effect.Effect<ProviderCompletion, ProviderError> =>
      Effect.flatMap(recorded.begin(request, false), ({ step, info, end }) => Effect.onExit(answer(step, info), end))
    // The call is recorded as running until its stream ends, not only until it started.
    const stream = (request: CompletionRequest): Stream.Stream<ProviderStreamEvent, ProviderError> =>
      Stream.unwrap(
        Effect.map(recorded.begin(request, true), ({ step, info, end }) => Stream.ensuringWith(events(step, info), end))
      )
    return {
      complete,
      stream,
      calls: recorded.calls,
      inFlight: recorded.inFlight,
      peakInFlight: recorded.peakInFlight
    } satisfies TestProviderService
  })
