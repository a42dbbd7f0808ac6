/**
 * FakeAnthropic's streamed replies: the frames before the first delta, the text deltas
 * `deltaInterval` apart on the Effect Clock, then the tail, or whatever a fault puts in its place.
 */
import { Duration, Effect, Stream } from "effect"
import * as Protocol from "./fakeAnthropicProtocol.js"

/** A wait on the Effect Clock; none at all when zero. */
export const pause = (duration: Duration.Duration) => (Duration.isZero(duration) ? Effect.void : Effect.sleep(duration))

/** One streamed reply to `request`. */
export interface Source {
  readonly messageId: string
  readonly request: Protocol.ParsedRequest
  readonly reply: Protocol.Reply
  readonly deltaInterval: Duration.Duration
}

const deltas = (source: Source, n: number) =>
  Stream.fromIterable(source.reply.deltas.slice(0, n)).pipe(
    Stream.zipWithIndex,
    Stream.mapEffect(([text, i]) =>
      Effect.as(i === 0 ? Effect.void : pause(source.deltaInterval), Protocol.deltaFrame(text))
    )
  )

/** The head and the first `afterDeltas` deltas, then `ending` instead of the tail. */
export const cut = (
  source: Source,
  afterDeltas: number,
  ending: Stream.Stream<Uint8Array>
): Stream.Stream<Uint8Array> =>
  Stream.fromIterable(Protocol.streamHead(source.messageId, source.request)).pipe(
    Stream.concat(deltas(source, afterDeltas)),
    Stream.concat(ending)
  )

/** The whole reply: every delta, then message_delta (the usage) and message_stop. */
export const whole = (source: Source): Stream.Stream<Uint8Array> =>
  cut(source, source.reply.deltas.length, Stream.fromIterable(Protocol.streamTail(source.request, source.reply)))

/** A stream whose one message is `message` (not a Message at all: BadShape's). */
export const only = (message: unknown): Stream.Stream<Uint8Array> =>
  Stream.make(
    Protocol.frame("message_start", { type: "message_start", message }),
    Protocol.frame("message_stop", { type: "message_stop" })
  )
