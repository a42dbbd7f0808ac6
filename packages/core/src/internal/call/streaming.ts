/**
 * Streaming a guarded call: the provider's stream (or a whole answer, for a provider that cannot
 * stream) becomes one `GuardedCall` whose progress the attempts read, and the guarded call runs
 * in a fiber scoped to the caller's stream, so that stopping the stream aborts the request.
 */
import { Effect, Exit, Stream } from "effect"
import type { LlmError, ProviderError } from "../../Errors.js"
import { ProviderUnavailable } from "../../Errors.js"
import type {
  AnswerBlock,
  Completion,
  CompletionRequest,
  GuardedCall,
  ProviderCompletion,
  ProviderStreamEvent,
  StreamPart,
  StreamProgress
} from "../../Llm.js"
import type { LlmProviderService } from "../../LlmProvider.js"
import { byteLength } from "../policy/pricing.js"

/** Hands parts to the caller's stream, synchronously: the consumer never holds up the call. */
export type Deliver = (parts: ReadonlyArray<StreamPart>) => void

export const emptyProgress = (): StreamProgress => ({ received: false, usage: undefined, final: false, bytes: 0 })

/**
 * A provider without `stream`: once the answer is in, its whole text as one delta, then one
 * `ToolInputDelta` per tool_use block (its whole input as JSON), so that a consumer sees the tools
 * it asked for either way.
 */
const wholeAtOnce = (
  complete: Effect.Effect<ProviderCompletion, ProviderError>,
  deliver: Deliver
): GuardedCall<ProviderCompletion> => {
  // Once the answer is handed over its usage is known: a consumer that stops right then still pays it.
  const progress = emptyProgress()
  const send = Effect.tap(complete, (c) => {
    progress.usage = c.usage
    progress.final = true
    progress.received = true
    deliver(partsOf(c))
  })
  return { send, progress }
}

/** A whole answer as stream parts: its text, then its tools' inputs. */
const partsOf = (completion: ProviderCompletion): ReadonlyArray<StreamPart> => {
  const parts: Array<StreamPart> = [{ _tag: "TextDelta", text: completion.text }]
  const { content } = completion
  // A provider written in JavaScript may leave `content` out: its text is the answer then.
  if (!Array.isArray(content)) return parts
  for (let index = 0; index < content.length; index++) {
    const block: AnswerBlock = content[index]
    if (block.type === "tool_use")
      parts.push({ _tag: "ToolInputDelta", index, id: block.id, name: block.name, partialJson: jsonOf(block.input) })
  }
  return parts
}

/** A tool's input as JSON; `null` for one that has none (undefined, a cycle, a BigInt). */
const jsonOf = (input: unknown): string => {
  try {
    return JSON.stringify(input) ?? "null"
  } catch {
    return "null"
  }
}

/**
 * Folds a chunk of the provider's events into `progress`, hands its deltas (text, tool input,
 * thinking, in order) to `deliver`, and answers the completion if the chunk held one. Every byte
 * of a delta counts into `progress.bytes`: each token is at least one, so a stream cut short is
 * charged an upper bound of what it generated.
 */
const fold = (
  progress: StreamProgress,
  chunk: Iterable<ProviderStreamEvent>,
  deliver: Deliver
): ProviderCompletion | undefined => {
  progress.received = true
  let done: ProviderCompletion | undefined
  const deltas: Array<StreamPart> = []
  for (const event of chunk) {
    switch (event._tag) {
      case "Usage":
        progress.usage = event.usage
        progress.final = event.final
        break
      case "TextDelta":
        progress.bytes += byteLength(event.text)
        deltas.push(event)
        break
      case "ToolInputDelta":
        progress.bytes += byteLength(event.partialJson)
        deltas.push(event)
        break
      case "ThinkingDelta":
        progress.bytes += byteLength(event.thinking)
        deltas.push(event)
        break
      case "Done":
        done = event.completion
    }
  }
  if (deltas.length > 0) deliver(deltas)
  return done
}

/** A provider that pushes its events: one stream in all, the caller's. */
const pushed = (
  streamTo: NonNullable<LlmProviderService["streamTo"]>,
  request: CompletionRequest,
  deliver: Deliver
): GuardedCall<ProviderCompletion> => {
  const progress = emptyProgress()
  return { send: streamTo(request, (events) => void fold(progress, events, deliver)), progress }
}

/** The provider's stream, run into progress chunk by chunk; its deltas delivered as they come. */
const streamed = (
  events: Stream.Stream<ProviderStreamEvent, ProviderError>,
  deliver: Deliver
): GuardedCall<ProviderCompletion> => {
  const progress = emptyProgress()
  let done: ProviderCompletion | undefined
  const send = Effect.suspend(() => {
    done = undefined
    return Stream.runForEachChunk(events, (chunk) => {
      done = fold(progress, chunk, deliver) ?? done
      return Effect.void
    })
  }).pipe(
    Effect.flatMap(() =>
      done === undefined
        ? Effect.fail(new ProviderUnavailable({ message: "the provider's stream ended without a completion" }))
        : Effect.succeed(done)
    )
  )
  return { send, progress }
}

/** The streamed call to `provider` for `request`. */
export const callFor = (provider: LlmProviderService, request: CompletionRequest, deliver: Deliver) => {
  const { streamTo, stream } = provider
  if (streamTo !== undefined) return pushed(streamTo, request, deliver)
  return stream === undefined ? wholeAtOnce(provider.complete(request), deliver) : streamed(stream(request), deliver)
}

/**
 * The caller's stream over a guarded call: `run` gets a `deliver` for the deltas and runs the call
 * in a fiber scoped to the stream — when the consumer stops or is interrupted, the scope closes,
 * the fiber is interrupted (aborting the request) and the call is settled.
 */
export const toStream = (
  run: (deliver: Deliver) => Effect.Effect<Completion, LlmError>
): Stream.Stream<StreamPart, LlmError> =>
  Stream.asyncPush<StreamPart, LlmError>(
    (emit) =>
      Effect.forkScoped(
        Effect.map(Effect.exit(run((parts) => void emit.array(parts))), (exit) => {
          if (Exit.isFailure(exit)) return emit.halt(exit.cause)
          emit.single({ _tag: "Completion", completion: exit.value })
          emit.end()
        })
      ),
    { bufferSize: "unbounded" }
  )
