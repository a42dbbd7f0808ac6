/**
 * FakeAnthropic's streamed replies: the frames before the first block, each block's frames with
 * its deltas `deltaInterval` apart on the Effect Clock, then the tail, or whatever a fault puts in
 * place of the rest.
 */
import type { AnswerBlock } from "@fleetguard/core"
import { Duration, Effect, Stream } from "effect"
import * as Answer from "./fakeAnthropicAnswer.js"
import * as Protocol from "./fakeAnthropicProtocol.js"

/** A wait on the Effect Clock; none at all when zero. */
export const pause = (duration: Duration.Duration) => (Duration.isZero(duration) ? Effect.void : Effect.sleep(duration))

/** One streamed reply to `request`: its blocks as sent. */
export interface Source {
  readonly messageId: string
  readonly request: Protocol.ParsedRequest
  readonly reply: Answer.Reply
  readonly blocks: ReadonlyArray<AnswerBlock>
  readonly deltaInterval: Duration.Duration
}

/** The blocks' frames up to (not including) delta number `deltas + 1`, every delta after the first paced. */
const body = (source: Source, deltas: number) => {
  const frames: Array<{ readonly frame: Uint8Array; readonly paced: boolean }> = []
  let seen = 0
  for (const item of Answer.streamBody(source.blocks)) {
    if (item.delta && seen++ === deltas) break
    frames.push({ frame: item.frame, paced: item.delta && seen > 1 })
  }
  // mapEffect sends each frame as it is made: a delta is out before the wait for the next one.
  return Stream.mapEffect(Stream.fromIterable(frames), ({ frame, paced }) =>
    Effect.as(paced ? pause(source.deltaInterval) : Effect.void, frame)
  )
}

/** The head and the blocks' frames up to `afterDeltas` deltas, then `ending` instead of the tail. */
export const cut = (
  source: Source,
  afterDeltas: number,
  ending: Stream.Stream<Uint8Array>
): Stream.Stream<Uint8Array> =>
  Stream.fromIterable(Protocol.streamHead(source.messageId, source.request)).pipe(
    Stream.concat(body(source, afterDeltas)),
    Stream.concat(ending)
  )

/** The whole reply: every block, then message_delta (the usage) and message_stop. */
export const whole = (source: Source): Stream.Stream<Uint8Array> =>
  cut(source, Number.POSITIVE_INFINITY, Stream.fromIterable(Answer.streamTail(source.request, source.reply)))

/** A stream whose one message is `message` (not a Message at all: BadShape's). */
export const only = (message: unknown): Stream.Stream<Uint8Array> =>
  Stream.make(
    Protocol.frame("message_start", { type: "message_start", message }),
    Protocol.frame("message_stop", { type: "message_stop" })
  )
