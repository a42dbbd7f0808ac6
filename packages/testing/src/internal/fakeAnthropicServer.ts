/**
 * FakeAnthropic's server: routing, the auth check, the rate-limit window, the script's faults and
 * the record of every request. How a request ended comes from the Node response's own events
 * ("finish", "close"): the server interrupts a handler when its connection closes early, but a
 * response body is written after the handler returns, so only the response knows it was delivered.
 */

import { createServer, type ServerResponse } from "node:http"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Duration, Effect, Either, Stream } from "effect"
import type { FakeAnthropicService, Fault, Options, RecordedRequest, RetryAfter } from "../FakeAnthropic.js"
import * as Protocol from "./fakeAnthropicProtocol.js"
import * as Window from "./fakeAnthropicWindow.js"
import * as NodeHttpServer from "./nodeHttpServer.js"

export const defaultApiKey = "sk-ant-fake-key-for-tests"

type Endpoint = "messages" | "count_tokens" | "other"

type Plan =
  | {
      readonly _tag: "Error"
      readonly status: number
      readonly errorType: string
      readonly message: string | undefined
      readonly headers: Readonly<Record<string, string>> | undefined
    }
  | { readonly _tag: "Count"; readonly inputTokens: number }
  | { readonly _tag: "Reply"; readonly request: Protocol.ParsedRequest; readonly fault: Fault | undefined }

interface Decision {
  readonly plan: Plan
  readonly fault: RecordedRequest["fault"]
  readonly rate: Window.Status
}

type Ending = Exclude<RecordedRequest["outcome"], "in-flight">

const isPositiveInteger = (n: number) => Number.isSafeInteger(n) && n > 0

const pause = (duration: Duration.Duration) => (Duration.isZero(duration) ? Effect.void : Effect.sleep(duration))

const parseBody = (raw: string): unknown => {
  try {
    return JSON.parse(raw)
  } catch {
    return raw
  }
}

const secretHeaders = new Set(["authorization", "x-api-key"])

const recordedHeaders = (headers: Readonly<Record<string, string | ReadonlyArray<string> | undefined>>) =>
  Object.fromEntries(
    Object.entries(headers).map(([name, value]) => {
      const key = name.toLowerCase()
      return [key, secretHeaders.has(key) ? "[redacted]" : typeof value === "string" ? value : (value ?? []).join(", ")]
    })
  )

const retryAfterHeaders = (retryAfter: RetryAfter | undefined): Record<string, string> =>
  retryAfter === undefined
    ? {}
    : "millis" in retryAfter
      ? { "retry-after-ms": String(retryAfter.millis) }
      : "seconds" in retryAfter
        ? { "retry-after": String(retryAfter.seconds) }
        : { "retry-after": retryAfter.date.toUTCString() }

const error = (
  status: number,
  errorType: string,
  message?: string,
  headers?: Readonly<Record<string, string>>
): Plan => ({ _tag: "Error", status, errorType, message, headers })

export const make = (options: Options = {}) =>
  Effect.gen(function* () {
    const apiKey = options.apiKey ?? defaultApiKey
    const outputTokens = options.outputTokens ?? 24
    const { requestsPerMinute, tokensPerMinute } = options.limits ?? {}
    const windowMillis = Duration.toMillis(options.limits?.window ?? Duration.minutes(1))
    if (!isPositiveInteger(outputTokens)) return yield* Effect.dieMessage("FakeAnthropic: outputTokens must be > 0")
    for (const limit of [requestsPerMinute, tokensPerMinute]) {
      if (limit !== undefined && !isPositiveInteger(limit)) {
        return yield* Effect.dieMessage("FakeAnthropic: limits must be positive integers")
      }
    }
    if (!(windowMillis > 0)) return yield* Effect.dieMessage("FakeAnthropic: limits.window must be > 0")
    const latency = Duration.decode(options.latency ?? Duration.zero)
    const deltaInterval = Duration.decode(options.deltaInterval ?? Duration.zero)
    const script = options.script ?? (() => undefined)

    // The server runs each handler with the services of the fiber that called `serve` (this one),
    // so handlers sleep on this Clock too: the TestClock when built inside `it.effect`.
    const clock = yield* Effect.clock
    const startedAt = clock.unsafeCurrentTimeMillis()
    const limits: Window.Settings = {
      startMillis: startedAt,
      windowMillis,
      requests: { limit: requestsPerMinute ?? 4000, enforced: requestsPerMinute !== undefined },
      tokens: { limit: tokensPerMinute ?? 400_000, enforced: tokensPerMinute !== undefined }
    }
    let window = Window.empty
    let messagesCalls = 0
    const records: Array<RecordedRequest> = []
    let inFlight = 0
    let peakInFlight = 0
    const idle = yield* Effect.makeLatch(true)

    const authorized = (headers: Readonly<Record<string, string | undefined>>) =>
      headers.authorization === `Bearer ${apiKey}` || headers["x-api-key"] === apiKey

    // Runs without yielding once a body is in, so window admissions and records share one order.
    const decide = (
      endpoint: Endpoint,
      headers: Readonly<Record<string, string>>,
      body: unknown,
      now: number
    ): Decision => {
      const call = endpoint === "messages" ? messagesCalls++ : -1
      const peek = () => Window.peek(limits, window, now)
      if (!authorized(headers)) {
        return { plan: error(401, "authentication_error"), fault: "Unauthorized", rate: peek() }
      }
      if (endpoint === "other") return { plan: error(404, "not_found_error", "Not found"), fault: null, rate: peek() }
      const parsed = Protocol.parse(body, endpoint)
      if (Either.isLeft(parsed)) {
        return { plan: error(400, "invalid_request_error", parsed.left), fault: null, rate: peek() }
      }
      const request = parsed.right
      if (endpoint === "count_tokens") {
        return { plan: { _tag: "Count", inputTokens: request.inputTokens }, fault: null, rate: peek() }
      }
      const admission = Window.admit(limits, window, now, Protocol.cost(request, outputTokens))
      window = admission.window
      if (admission._tag === "Rejected") {
        return {
          plan: error(429, "rate_limit_error", undefined, { "retry-after": String(admission.retryAfterSeconds) }),
          fault: "RateLimitWindow",
          rate: admission.status
        }
      }
      const fault = script({ index: call, elapsedMillis: now - startedAt, body, stream: request.stream })
      return { plan: { _tag: "Reply", request, fault }, fault: fault?._tag ?? null, rate: admission.status }
    }

    /** Follows the response to its end; returns how to end it early (a drop). */
    const track = (record: RecordedRequest, response: ServerResponse) => {
      peakInFlight = Math.max(peakInFlight, ++inFlight)
      idle.unsafeClose()
      const end = (outcome: Ending) => {
        if (record.outcome !== "in-flight") return
        record.outcome = outcome
        record.status = response.headersSent ? response.statusCode : null
        record.endedAt = clock.unsafeCurrentTimeMillis()
        if (--inFlight === 0) idle.unsafeOpen()
      }
      response.once("finish", () => end("answered"))
      // "close" follows "finish" on every response; before it, only when the connection went first.
      response.once("close", () => end("client-closed"))
      return end
    }

    // Frames handed to Node may still wait in the socket's cork buffer: flush them, then destroy.
    // The "close" that follows interrupts this handler, so the effect never resumes.
    const drop = (response: ServerResponse, end: (outcome: Ending) => void) =>
      Effect.async<never>(() => {
        const destroy = () => {
          end("dropped")
          response.destroy()
        }
        if (response.socket === null) destroy()
        else response.socket.write(new Uint8Array(0), destroy)
      })

    const respond = (
      plan: Plan,
      index: number,
      rate: Window.Status,
      response: ServerResponse,
      end: (outcome: Ending) => void
    ): Effect.Effect<HttpServerResponse.HttpServerResponse> => {
      const requestId = `req_fake_${index}`
      const messageId = `msg_fake_${index}`
      const headers = { "request-id": requestId, ...Window.headers(rate) }
      const json = (body: string) => HttpServerResponse.text(body, { contentType: "application/json", headers })
      const sse = (frames: Stream.Stream<Uint8Array>) =>
        HttpServerResponse.stream(frames, {
          contentType: "text/event-stream",
          headers: { ...headers, "cache-control": "no-cache" }
        })
      const failure = (status: number, errorType: string, message?: string, extra?: Readonly<Record<string, string>>) =>
        HttpServerResponse.text(
          JSON.stringify(Protocol.errorBody(errorType, message ?? Protocol.defaultMessage(errorType), requestId)),
          { status, contentType: "application/json", headers: { ...headers, ...extra } }
        )

      if (plan._tag === "Error") return Effect.succeed(failure(plan.status, plan.errorType, plan.message, plan.headers))
      if (plan._tag === "Count") return Effect.succeed(json(JSON.stringify({ input_tokens: plan.inputTokens })))
      const { request, fault } = plan
      const reply = Protocol.reply(outputTokens, request.maxTokens)
      const head = Stream.fromIterable(Protocol.streamHead(messageId, request))
      const deltas = (n: number) =>
        Stream.fromIterable(reply.deltas.slice(0, n)).pipe(
          Stream.zipWithIndex,
          Stream.mapEffect(([text, i]) =>
            Effect.as(i === 0 ? Effect.void : pause(deltaInterval), Protocol.deltaFrame(text))
          )
        )

      switch (fault?._tag) {
        case undefined:
          return Effect.succeed(
            request.stream
              ? sse(
                  head.pipe(
                    Stream.concat(deltas(reply.deltas.length)),
                    Stream.concat(Stream.fromIterable(Protocol.streamTail(request, reply)))
                  )
                )
              : json(JSON.stringify(Protocol.message(messageId, request, reply, options.toolInput ?? {})))
          )
        case "RateLimited":
          return Effect.succeed(
            failure(429, "rate_limit_error", undefined, { ...retryAfterHeaders(fault.retryAfter), ...fault.headers })
          )
        case "Overloaded":
          return Effect.succeed(failure(529, "overloaded_error"))
        case "Status":
          return Effect.succeed(failure(fault.status, fault.errorType, fault.message))
        case "Hang":
          return Effect.never
        case "DropMidStream":
          return request.stream
            ? Effect.succeed(
                sse(
                  head.pipe(
                    Stream.concat(deltas(fault.afterDeltas)),
                    Stream.concat(Stream.execute(drop(response, end)))
                  )
                )
              )
            : drop(response, end)
        case "ErrorEvent": {
          const errorType = fault.errorType ?? "overloaded_error"
          const body = Protocol.errorBody(errorType, Protocol.defaultMessage(errorType), requestId)
          return Effect.succeed(
            request.stream
              ? sse(
                  head.pipe(
                    Stream.concat(deltas(fault.afterDeltas)),
                    Stream.concat(Stream.make(Protocol.frame("error", body)))
                  )
                )
              : failure(Protocol.statusOf(errorType), errorType)
          )
        }
        case "Malformed":
          return Effect.succeed(
            request.stream ? sse(Stream.make(Protocol.malformedFrame)) : json(Protocol.malformedJson(messageId))
          )
        case "BadShape": {
          const bad = Protocol.badShape(messageId, request.model)
          return Effect.succeed(
            request.stream
              ? sse(
                  Stream.make(
                    Protocol.frame("message_start", { type: "message_start", message: bad }),
                    Protocol.frame("message_stop", { type: "message_stop" })
                  )
                )
              : json(JSON.stringify(bad))
          )
        }
      }
    }

    const handle = (endpoint: Endpoint) =>
      Effect.gen(function* () {
        const request = yield* HttpServerRequest.HttpServerRequest
        const at = clock.unsafeCurrentTimeMillis()
        const body = parseBody(yield* Effect.orElseSucceed(request.text, () => ""))
        const headers = recordedHeaders(request.headers)
        const { plan, fault, rate } = decide(endpoint, request.headers, body, clock.unsafeCurrentTimeMillis())
        const record: RecordedRequest = {
          index: records.length,
          at,
          method: request.method,
          path: new URL(request.originalUrl, "http://fake").pathname,
          headers,
          body,
          fault,
          status: null,
          outcome: "in-flight",
          endedAt: null
        }
        records.push(record)
        const response = yield* NodeHttpServer.toServerResponse(request)
        const end = track(record, response)
        yield* pause(latency)
        const answer = yield* respond(plan, record.index, rate, response, end)
        // Node writes the head as soon as the handler returns; `end` corrects it if it never went out.
        record.status = answer.status
        return answer
      })

    const router = HttpRouter.empty.pipe(
      HttpRouter.post("/v1/messages", handle("messages")),
      HttpRouter.post("/v1/messages/count_tokens", handle("count_tokens")),
      HttpRouter.all("*", handle("other"))
    )

    const node = createServer()
    const server = yield* NodeHttpServer.make(() => node, { port: options.port ?? 0, host: "127.0.0.1" })
    // A hanging request keeps its connection open, and `server.close` would wait for it forever.
    yield* Effect.addFinalizer(() => Effect.sync(() => node.closeAllConnections()))
    yield* server.serve(router)
    if (server.address._tag !== "TcpAddress") return yield* Effect.dieMessage("FakeAnthropic: not a TCP server")

    return {
      baseURL: `http://127.0.0.1:${server.address.port}`,
      apiKey,
      requests: Effect.sync(() => records.slice()),
      awaitIdle: idle.await,
      peakInFlight: Effect.sync(() => peakInFlight)
    } satisfies FakeAnthropicService
  })
