/**
 * FakeAnthropic's answers: a plan (fakeAnthropicDecide.ts) made into a response, after the
 * server's latency. Every response carries its `request-id` and the rate-limit headers.
 */
import type { ServerResponse } from "node:http"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { type Duration, Effect, Stream } from "effect"
import * as Answers from "./answers.js"
import * as Answer from "./fakeAnthropicAnswer.js"
import type { Plan } from "./fakeAnthropicDecide.js"
import type * as History from "./fakeAnthropicHistory.js"
import type { Fault, RetryAfter } from "./fakeAnthropicModel.js"
import * as Protocol from "./fakeAnthropicProtocol.js"
import type { Ending } from "./fakeAnthropicRecord.js"
import * as Sse from "./fakeAnthropicSse.js"
import * as Window from "./fakeAnthropicWindow.js"

/** How replies are paced, and where what they send is remembered. */
export interface Replies {
  readonly latency: Duration.Duration
  readonly deltaInterval: Duration.Duration
  readonly history: History.History
}

const retryAfterHeaders = (retryAfter: RetryAfter | undefined): Record<string, string> =>
  retryAfter === undefined
    ? {}
    : "millis" in retryAfter
      ? { "retry-after-ms": String(retryAfter.millis) }
      : "seconds" in retryAfter
        ? { "retry-after": String(retryAfter.seconds) }
        : { "retry-after": retryAfter.date.toUTCString() }

/** The kinds of response body, each with the request's headers, and the API's error body for it. */
const writers = (requestId: string, rate: Window.Status) => {
  const headers = { "request-id": requestId, ...Window.headers(rate) }
  const errorBody = (errorType: string, message = Protocol.defaultMessage(errorType)) =>
    Protocol.errorBody(errorType, message, requestId)
  return {
    errorBody,
    json: (body: string) => HttpServerResponse.text(body, { contentType: "application/json", headers }),
    sse: (frames: Stream.Stream<Uint8Array>) =>
      HttpServerResponse.stream(frames, {
        contentType: "text/event-stream",
        headers: { ...headers, "cache-control": "no-cache" }
      }),
    failure: (status: number, errorType: string, message?: string, extra?: Readonly<Record<string, string>>) =>
      HttpServerResponse.text(JSON.stringify(errorBody(errorType, message)), {
        status,
        contentType: "application/json",
        headers: { ...headers, ...extra }
      })
  }
}

type Writers = ReturnType<typeof writers>

// Frames handed to Node may still wait in the socket's cork buffer: flush them, then destroy.
// The "close" that follows interrupts the handler, so the effect never resumes.
const drop = (response: ServerResponse, end: (outcome: Ending) => void) =>
  Effect.async<never>(() => {
    const destroy = () => {
      end("dropped")
      response.destroy()
    }
    if (response.socket === null) destroy()
    else response.socket.write(new Uint8Array(0), destroy)
  })

/** An admitted call: answered normally, or as its fault says. */
const answer = (
  source: Sse.Source,
  fault: Fault | undefined,
  write: Writers,
  dropped: Effect.Effect<never>
): Effect.Effect<HttpServerResponse.HttpServerResponse> => {
  const { messageId, request, reply, blocks } = source
  switch (fault?._tag) {
    case undefined:
      return Effect.succeed(
        request.stream
          ? write.sse(Sse.whole(source))
          : write.json(JSON.stringify(Answer.message(messageId, request, reply, blocks)))
      )
    case "RateLimited":
      return Effect.succeed(
        write.failure(429, "rate_limit_error", undefined, { ...retryAfterHeaders(fault.retryAfter), ...fault.headers })
      )
    case "Overloaded":
      return Effect.succeed(write.failure(529, "overloaded_error"))
    case "Status":
      return Effect.succeed(write.failure(fault.status, fault.errorType, fault.message))
    case "Hang":
      return Effect.never
    case "DropMidStream":
      return request.stream
        ? Effect.succeed(write.sse(Sse.cut(source, fault.afterDeltas, Stream.execute(dropped))))
        : dropped
    case "ErrorEvent": {
      const errorType = fault.errorType ?? "overloaded_error"
      return Effect.succeed(
        request.stream
          ? write.sse(
              Sse.cut(source, fault.afterDeltas, Stream.make(Protocol.frame("error", write.errorBody(errorType))))
            )
          : write.failure(Protocol.statusOf(errorType), errorType)
      )
    }
    case "Malformed":
      return Effect.succeed(
        request.stream ? write.sse(Stream.make(Protocol.malformedFrame)) : write.json(Protocol.malformedJson(messageId))
      )
    case "BadShape": {
      const bad = Protocol.badShape(messageId, request.model)
      return Effect.succeed(request.stream ? write.sse(Sse.only(bad)) : write.json(JSON.stringify(bad)))
    }
  }
}

/**
 * The reply of message `messageId`, its blocks given their ids and signatures, remembered as sent
 * (even when a fault answers instead: a client cannot tell them apart).
 */
const source = (replies: Replies, plan: Extract<Plan, { _tag: "Reply" }>, messageId: string): Sse.Source => {
  const blocks = Answers.withIds(plan.reply.content, messageId)
  replies.history.remember(blocks)
  return { messageId, request: plan.request, reply: plan.reply, blocks, deltaInterval: replies.deltaInterval }
}

/** The response to request `index` as `plan` says, after the latency; `end` records a drop. */
export const respond = (
  replies: Replies,
  plan: Plan,
  index: number,
  rate: Window.Status,
  response: ServerResponse,
  end: (outcome: Ending) => void
): Effect.Effect<HttpServerResponse.HttpServerResponse> => {
  const write = writers(`req_fake_${index}`, rate)
  const answered =
    plan._tag === "Error"
      ? Effect.succeed(write.failure(plan.status, plan.errorType, plan.message, plan.headers))
      : plan._tag === "Count"
        ? Effect.succeed(write.json(JSON.stringify({ input_tokens: plan.inputTokens })))
        : answer(source(replies, plan, `msg_fake_${index}`), plan.fault, write, drop(response, end))
  return Effect.zipRight(Sse.pause(replies.latency), answered)
}
