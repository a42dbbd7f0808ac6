/**
 * An @effect/ai call as one attempt of a guarded call (`LlmClient.completeWith`): it fails only with what
 * the provider answered (a `ProviderError`, which the guards act on), and otherwise succeeds with
 * its `Outcome` — the usage that settles it and its result, which may be a failure that says
 * nothing of the provider (a tool's, or an answer that did not fit the caller's schema), handed
 * back to the caller once the call is settled.
 */
import type { Response, Tool } from "@effect/ai"
import type { Answer, CompletionRequest, GuardedCall, ProviderError, StreamProgress, Usage } from "@fleetguard/core"
import { Pricing, ProviderUnavailable } from "@fleetguard/core"
import { type Chunk, Clock, Effect, Either, Stream } from "effect"
import { beforeSending, fromErrorPart, providerErrorOf } from "./errors.js"
import { answerOf, boundedUsage, modelOf, noUsage, usageOf } from "./usage.js"

/** A settled attempt's usage, and what the caller gets. */
export interface Outcome<A, E> extends Answer {
  readonly result: Either.Either<A, E>
}

/**
 * A failure of the call: the provider's, to the guards; anything else handed back to the caller,
 * charged nothing if it came before sending, else `usage` (what is known, or its upper bound).
 */
const failed = <A, E>(error: E, usage: () => Usage): Effect.Effect<Outcome<A, E>, ProviderError> =>
  Effect.flatMap(Clock.currentTimeMillis, (now) => {
    const failure = providerErrorOf(error, now)
    return failure !== undefined
      ? Effect.fail(failure)
      : Effect.succeed({ usage: beforeSending(error) ? noUsage : usage(), result: Either.left(error) })
  })

/** generateText and generateObject: the response settles the call with its usage and reported model. */
export const generated = <A extends { readonly content: ReadonlyArray<{ readonly type: string }> }, E>(
  call: Effect.Effect<A, E>,
  request: CompletionRequest
): GuardedCall<Outcome<A, E>> => ({
  send: Effect.matchEffect(call, {
    onSuccess: (response) => Effect.succeed({ ...answerOf(response.content, request), result: Either.right(response) }),
    // Answered but lost (a tool failed, the object did not decode): its usage is unknown, so bounded.
    onFailure: (error) => failed(error, () => boundedUsage(request, request.maxTokens))
  })
})

/** A failure of the stream itself, kept apart from the errors its parts name. */
class Failed<E> {
  constructor(readonly error: E) {}
}

/** Bytes of output a part carries (every token is at least a byte). */
const outputBytes = <Tools extends Record<string, Tool.Any>>(part: Response.StreamPart<Tools>): number =>
  part.type === "text-delta" || part.type === "reasoning-delta" || part.type === "tool-params-delta"
    ? Pricing.byteLength(part.delta)
    : 0

/**
 * streamText: the parts are delivered as they come, and folded into the call's progress. Until the
 * finish part, no usage is known (it comes only at the end): the call is charged, if cut short,
 * its input's upper bound and the bytes of output received, never more than its reservation; after
 * it, the usage it reported. An `error` part (an error event mid-stream) fails the call as the
 * error it names.
 */
export const streamed = <Tools extends Record<string, Tool.Any>, E>(
  parts: Stream.Stream<Response.StreamPart<Tools>, E>,
  request: CompletionRequest,
  deliver: (parts: ReadonlyArray<Response.StreamPart<Tools>>) => Effect.Effect<unknown>
): GuardedCall<Outcome<void, E>> => {
  const progress: StreamProgress = { received: false, usage: undefined, final: false, bytes: 0 }
  /** The usage the finish part reported: once it came, a stream cut short is charged it. */
  let reported: Usage | undefined
  let reportedModel: string | undefined

  const onChunk = (chunk: Chunk.Chunk<Response.StreamPart<Tools>>): Effect.Effect<unknown, ProviderError> => {
    progress.received = true
    progress.usage ??= boundedUsage(request, 0)
    const delivered: Array<Response.StreamPart<Tools>> = []
    for (const part of chunk) {
      if (part.type === "error") return Effect.zipRight(deliver(delivered), Effect.fail(fromErrorPart(part.error)))
      if (part.type === "finish") {
        reported = usageOf(part, request)
        progress.usage = reported
        progress.final = true
      } else if (part.type === "response-metadata") reportedModel = modelOf(part)
      progress.bytes += outputBytes(part)
      delivered.push(part)
    }
    return deliver(delivered)
  }

  const usageSoFar = () => reported ?? boundedUsage(request, progress.bytes)
  const ended = Effect.suspend(() =>
    reported === undefined
      ? Effect.fail(new ProviderUnavailable({ message: "the stream ended without a finish part" }))
      : Effect.succeed({ usage: reported, reportedModel, result: Either.void })
  )
  const send = Stream.runForEachChunk(
    Stream.mapError(parts, (error) => new Failed(error)),
    onChunk
  ).pipe(
    Effect.zipRight(ended),
    Effect.catchIf(
      (failure): failure is Failed<E> => failure instanceof Failed,
      (failure) => failed<void, E>(failure.error, usageSoFar)
    )
  )
  return { send, progress }
}
