/**
 * The provider's calls over a connection: one request (`complete`), and the same request streamed
 * (`streamTo`, pushing its events to a sink, and `stream`, a `Stream` of them).
 */
import type Anthropic from "@anthropic-ai/sdk"
import {
  type CompletionRequest,
  type LlmProviderService,
  type ProviderCompletion,
  type ProviderError,
  ProviderHttp,
  type ProviderStreamEvent,
  ProviderUnavailable
} from "@fleetguard/core"
import { Clock, Context, Duration, Effect, Either, Exit, Stream } from "effect"
import { fromMessage } from "./answer.js"
import { toProviderError } from "./errors.js"
import { carrying, type FetchOptions, FetchTrace } from "./fetchTrace.js"
import { toParams, unsendable } from "./request.js"
import { initialState, onEvent } from "./stream.js"

/** The SDK client and how its failures are reported (what `connect` builds from the options). */
export interface Connection {
  readonly client: Anthropic
  /** Removes the key from any text that is kept. */
  readonly scrub: (text: string) => string
  /** One request, aborted if the fiber is interrupted; its failure settled by how far it got. */
  readonly send: <A>(
    call: (signal: AbortSignal, fetchOptions: FetchOptions) => Promise<A>
  ) => Effect.Effect<A, ProviderError>
  readonly timeoutMillis: number
}

const malformed = (scrub: Connection["scrub"], why: string) =>
  new ProviderUnavailable({ message: scrub(`malformed response: ${why}`), billed: true })

const resetIn = (until: number | undefined) =>
  until === undefined ? Effect.succeed(undefined) : Effect.map(Clock.currentTimeMillis, (now) => until - now)

const completer =
  ({ client, scrub, send, timeoutMillis }: Connection) =>
  (request: CompletionRequest): Effect.Effect<ProviderCompletion, ProviderError> =>
    Effect.flatMap(
      Either.match(toParams(request), {
        onLeft: (refused) => Effect.fail(unsendable(refused)),
        onRight: Effect.succeed
      }),
      (params) =>
        send((signal, fetchOptions) => client.messages.create(params, { signal, fetchOptions }).withResponse())
    ).pipe(
      Effect.flatMap(({ data, response }) =>
        Either.match(fromMessage(data), {
          onLeft: (why) => Effect.fail(malformed(scrub, why)),
          onRight: (completion) =>
            Effect.map(
              resetIn(ProviderHttp.exhaustedUntil(response.headers)),
              (rateLimitResetMillis): ProviderCompletion => ({ ...completion, rateLimitResetMillis })
            )
        })
      ),
      // The SDK's timeout stops at the headers; a body that stalls would hold the call for ever.
      Effect.timeoutFail({
        duration: Duration.millis(timeoutMillis),
        onTimeout: () => new ProviderUnavailable({ message: `the request timed out after ${timeoutMillis} ms` })
      })
    )

/** When the stream last brought an event, for the watchdog. */
interface Progress {
  lastEvent: number
}

/**
 * The streamed request, its events pushed to `sink` as the SDK parses them: read in a plain loop
 * (per-event Effect machinery cost more than the SDK's own parsing) and handed over a network read
 * at a time, flushed on the next turn of the event loop once the SDK has parsed all it has.
 * Interruption aborts the request.
 */
const streamed = (
  { client, scrub }: Connection,
  request: CompletionRequest,
  sink: (events: ReadonlyArray<ProviderStreamEvent>) => void,
  clock: Clock.Clock,
  progress: Progress
) =>
  Effect.async<ProviderCompletion, ProviderError>((resume) => {
    const controller = new AbortController()
    const trace = new FetchTrace()
    let pending: Array<ProviderStreamEvent> = []
    const flush = () => {
      if (pending.length > 0) sink(pending)
      pending = []
    }
    // What was parsed before a failure is handed over first: its usage is what gets charged.
    const fail = (error: ProviderError) => {
      flush()
      resume(Effect.fail(error))
    }
    const read = async () => {
      const params = toParams(request)
      if (Either.isLeft(params)) return fail(unsendable(params.left))
      const { data, response } = await client.messages
        .create({ ...params.right, stream: true }, { signal: controller.signal, fetchOptions: carrying(trace) })
        .withResponse()
      const until = ProviderHttp.exhaustedUntil(response.headers)
      const state = initialState(request)
      let completion: ProviderCompletion | undefined
      // Read to the end even after message_stop: leaving the loop early has the SDK abort the
      // request, which costs more than the read of the end of the body.
      for await (const event of data) {
        progress.lastEvent = clock.unsafeCurrentTimeMillis()
        const result = onEvent(state, event)
        if (Either.isLeft(result)) return fail(malformed(scrub, result.left))
        const out = result.right
        if (out === undefined) continue
        if (out._tag === "Done") completion = out.completion
        else {
          if (pending.length === 0) setImmediate(flush)
          pending.push(out)
        }
      }
      if (completion === undefined) {
        return fail(new ProviderUnavailable({ message: "the stream ended without message_stop" }))
      }
      flush()
      const rateLimitResetMillis = until === undefined ? undefined : until - clock.unsafeCurrentTimeMillis()
      resume(Effect.succeed({ ...completion, rateLimitResetMillis }))
    }
    read().catch((error: unknown) => fail(toProviderError(error, trace, clock.unsafeCurrentTimeMillis(), scrub)))
    return Effect.sync(() => controller.abort())
  })

/** Fails the stream when no event came for `timeoutMillis`; looks again only when the last one is that old. */
const watchdog = (clock: Clock.Clock, progress: Progress, timeoutMillis: number) => {
  const look: Effect.Effect<never, ProviderError> = Effect.suspend(() => {
    const quiet = clock.unsafeCurrentTimeMillis() - progress.lastEvent
    return quiet >= timeoutMillis
      ? Effect.fail(new ProviderUnavailable({ message: `the stream stalled: no event for ${timeoutMillis} ms` }))
      : Effect.zipRight(Effect.sleep(Duration.millis(timeoutMillis - quiet)), look)
  })
  return look
}

// A stall aborts the request too: the SDK's own timeout stops at the headers. One timer per
// stream, not one per event.
const streamer =
  (connection: Connection) =>
  (
    request: CompletionRequest,
    sink: (events: ReadonlyArray<ProviderStreamEvent>) => void
  ): Effect.Effect<ProviderCompletion, ProviderError> =>
    Effect.withFiberRuntime((fiber) => {
      const clock = Context.get(fiber.currentDefaultServices, Clock.Clock)
      const progress: Progress = { lastEvent: clock.unsafeCurrentTimeMillis() }
      return Effect.raceFirst(
        streamed(connection, request, sink, clock, progress),
        watchdog(clock, progress, connection.timeoutMillis)
      )
    })

/** The provider's calls over `connection`. */
export const calls = (connection: Connection): LlmProviderService => {
  const streamTo = streamer(connection)
  // The same call as a Stream of its events, ending with `Done`.
  const stream = (request: CompletionRequest) =>
    Stream.asyncPush<ProviderStreamEvent, ProviderError>(
      (emit) =>
        Effect.forkScoped(
          Effect.map(Effect.exit(streamTo(request, (events) => void emit.array(events))), (exit) => {
            if (Exit.isFailure(exit)) return emit.halt(exit.cause)
            emit.single({ _tag: "Done", completion: exit.value })
            emit.end()
          })
        ),
      { bufferSize: "unbounded" }
    )
  return { complete: completer(connection), stream, streamTo }
}
