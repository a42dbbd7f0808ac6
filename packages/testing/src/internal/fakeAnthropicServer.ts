/**
 * FakeAnthropic's server: the options checked, the routes, and each request's way through them —
 * recorded (fakeAnthropicRecord.ts), decided (fakeAnthropicDecide.ts), answered
 * (fakeAnthropicRespond.ts).
 */

import { createServer } from "node:http"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import { type Clock, Duration, Effect } from "effect"
import * as Decide from "./fakeAnthropicDecide.js"
import * as History from "./fakeAnthropicHistory.js"
import type { FakeAnthropicService, Options } from "./fakeAnthropicModel.js"
import * as Records from "./fakeAnthropicRecord.js"
import type { Replies } from "./fakeAnthropicRespond.js"
import { respond } from "./fakeAnthropicRespond.js"
import * as NodeHttpServer from "./nodeHttpServer.js"

export const defaultApiKey = "sk-ant-fake-key-for-tests"

const isPositiveInteger = (n: number) => Number.isSafeInteger(n) && n > 0

/** The options with their defaults, checked; the rate-limit windows start at `startedAt`. */
const settings = (options: Options, startedAt: number) =>
  Effect.gen(function* () {
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
    const rules: Decide.Rules = {
      apiKey: options.apiKey ?? defaultApiKey,
      outputTokens,
      limits: {
        startMillis: startedAt,
        windowMillis,
        requests: { limit: requestsPerMinute ?? 4000, enforced: requestsPerMinute !== undefined },
        tokens: { limit: tokensPerMinute ?? 400_000, enforced: tokensPerMinute !== undefined }
      },
      script: options.script ?? (() => undefined),
      answer: options.answer ?? (() => undefined),
      toolInput: options.toolInput ?? {}
    }
    const replies: Replies = {
      latency: Duration.decode(options.latency ?? Duration.zero),
      deltaInterval: Duration.decode(options.deltaInterval ?? Duration.zero),
      history: History.make(options.strictHistory ?? true)
    }
    return { rules, replies }
  })

/** The routes, each request recorded, then decided, then answered. */
const router = (clock: Clock.Clock, records: Records.Recorder, decide: Decide.Decider, replies: Replies) => {
  const handle = (endpoint: Decide.Endpoint) =>
    Effect.gen(function* () {
      const request = yield* HttpServerRequest.HttpServerRequest
      const at = clock.unsafeCurrentTimeMillis()
      const body = Records.parseBody(yield* Effect.orElseSucceed(request.text, () => ""))
      const headers = Records.recordedHeaders(request.headers)
      const { plan, fault, rate } = decide(endpoint, request.headers, body, clock.unsafeCurrentTimeMillis())
      const path = new URL(request.originalUrl, "http://fake").pathname
      const record = records.record({ at, method: request.method, path, headers, body, fault })
      const response = yield* NodeHttpServer.toServerResponse(request)
      const end = records.track(record, response)
      const answer = yield* respond(replies, plan, record.index, rate, response, end)
      // Node writes the head as soon as the handler returns; `end` corrects it if it never went out.
      record.status = answer.status
      return answer
    })

  return HttpRouter.empty.pipe(
    HttpRouter.post("/v1/messages", handle("messages")),
    HttpRouter.post("/v1/messages/count_tokens", handle("count_tokens")),
    HttpRouter.all("*", handle("other"))
  )
}

export const make = (options: Options = {}) =>
  Effect.gen(function* () {
    // The server runs each handler with the services of the fiber that called `serve` (this one),
    // so handlers sleep on this Clock too: the TestClock when built inside `it.effect`.
    const clock = yield* Effect.clock
    const { rules, replies } = yield* settings(options, clock.unsafeCurrentTimeMillis())
    const records = yield* Records.recorder(clock)

    const node = createServer()
    const server = yield* NodeHttpServer.make(() => node, { port: options.port ?? 0, host: "127.0.0.1" })
    // A hanging request keeps its connection open, and `server.close` would wait for it forever.
    yield* Effect.addFinalizer(() => Effect.sync(() => node.closeAllConnections()))
    yield* server.serve(router(clock, records, Decide.decider(rules, replies.history), replies))
    if (server.address._tag !== "TcpAddress") return yield* Effect.dieMessage("FakeAnthropic: not a TCP server")

    return {
      baseURL: `http://127.0.0.1:${server.address.port}`,
      apiKey: rules.apiKey,
      requests: records.requests,
      awaitIdle: records.awaitIdle,
      peakInFlight: records.peakInFlight
    } satisfies FakeAnthropicService
  })
