/**
 * TestProvider's implementation: the record of every call, and each step played out on the
 * Effect clock, for `complete` and as a stream.
 */
import {
  Agent,
  type AnswerBlock,
  type CompletionRequest,
  InvalidRequest,
  type ProviderCompletion,
  type ProviderError,
  type ProviderStreamEvent,
  type Usage
} from "@fleetguard/core"
import { Clock, Duration, Effect, Exit, Stream } from "effect"
import * as Answers from "./answers.js"
import * as Count from "./countTokens.js"
import type { CallInfo, RecordedCall, Script, Step, TestProviderService } from "./testProviderModel.js"

/** The request's input as FakeAnthropic counts it, and what in it FakeAnthropic would refuse. */
const counted = (request: CompletionRequest) =>
  Count.count({
    model: request.model,
    system: request.system,
    messages: request.messages,
    tools: request.tools,
    toolChoice: request.toolChoice?.type
  })

export const usageFor = (request: CompletionRequest, text: string, outputTokens?: number) => {
  const words = text.split(/\s+/).filter((w) => w.length > 0).length
  return {
    inputTokens: counted(request).inputTokens,
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

type Reply = Extract<Step, { _tag: "Reply" }>

/** The reply's blocks: `content` with its ids and signatures given, or one block of `text`. */
const blocksOf = (step: Reply, info: CallInfo): ReadonlyArray<AnswerBlock> =>
  step.content === undefined
    ? [{ type: "text", text: step.text ?? `reply ${info.index}` }]
    : Answers.withIds(step.content, `test_${info.index}`)

/** Output tokens: a word each for a text reply, as FakeAnthropic's for scripted blocks. */
const completionOf = (step: Reply, info: CallInfo): ProviderCompletion => {
  const content = blocksOf(step, info)
  const text = content.reduce((joined, block) => (block.type === "text" ? joined + block.text : joined), "")
  const outputTokens =
    step.content === undefined ? step.outputTokens : (step.outputTokens ?? Answers.outputTokens(content))
  return {
    text,
    content,
    model: info.request.model,
    stopReason: step.stopReason ?? Answers.stopReasonOf(content),
    usage: usageFor(info.request, text, outputTokens),
    rateLimitResetMillis: step.rateLimitResetMillis
  }
}

/** What FakeAnthropic refuses (an image it cannot read, a PDF by URL), refused as the provider would. */
const refusal = (info: CallInfo): InvalidRequest | undefined => {
  const { refused } = counted(info.request)
  return refused === undefined ? undefined : new InvalidRequest({ status: 400, message: refused })
}

const answer = (step: Step, info: CallInfo): Effect.Effect<ProviderCompletion, ProviderError> => {
  switch (step._tag) {
    case "Hang":
      return Effect.never
    case "Reply": {
      const refused = refusal(info)
      return Effect.zipRight(
        Effect.sleep(step.latency ?? Duration.zero),
        refused === undefined ? Effect.sync(() => completionOf(step, info)) : Effect.fail(refused)
      )
    }
    case "Fail":
      return Effect.zipRight(Effect.sleep(step.latency ?? Duration.zero), Effect.fail(step.error))
    case "Cut":
      return Effect.fail(step.error)
  }
}

type Delta = Extract<ProviderStreamEvent, { readonly _tag: "TextDelta" | "ToolInputDelta" | "ThinkingDelta" }>

/** The events of a block's deltas, as the Anthropic provider reports them (a signature is not an event). */
const blockDeltas = (block: AnswerBlock, index: number): ReadonlyArray<Delta> =>
  Answers.pieces(block).flatMap(
    (piece): ReadonlyArray<Delta> =>
      piece.kind === "text"
        ? [{ _tag: "TextDelta", text: piece.value }]
        : piece.kind === "input"
          ? [{ _tag: "ToolInputDelta", index, id: piece.id, name: piece.name, partialJson: piece.value }]
          : piece.kind === "thinking"
            ? [{ _tag: "ThinkingDelta", thinking: piece.value }]
            : []
  )

/** The start of a stream after `latency`: input usage reported with one output token, then the deltas. */
const started = (
  usage: Usage,
  deltas: ReadonlyArray<Delta>,
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
    Stream.mapEffect(Stream.fromIterable(deltas), (delta) =>
      Effect.as(Effect.sleep(deltaLatency ?? Duration.zero), delta)
    )
  )

// As the Anthropic stream: input usage first, a delta per word, the final usage, then Done.
const events = (step: Step, info: CallInfo): Stream.Stream<ProviderStreamEvent, ProviderError> => {
  switch (step._tag) {
    case "Hang":
    case "Fail":
      return Stream.drain(Stream.fromEffect(answer(step, info)))
    case "Reply": {
      const refused = refusal(info)
      if (refused !== undefined) return Stream.fail(refused)
      const completion = completionOf(step, info)
      return Stream.concat(
        started(completion.usage, completion.content.flatMap(blockDeltas), step.latency, step.deltaLatency),
        Stream.make(
          { _tag: "Usage", usage: completion.usage, final: true } as const,
          { _tag: "Done", completion } as const
        )
      )
    }
    case "Cut": {
      const deltas = Array.from({ length: step.afterDeltas }, (_, i) => ({
        _tag: "TextDelta" as const,
        text: i === 0 ? "word" : " word"
      }))
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
