/**
 * Closing a FakeAnthropic ends at once, whatever its clients hold open: a request it never answers,
 * a stream stalled between deltas, an idle keep-alive connection, a request whose body never
 * comes, a connection that never sends anything.
 */
import { Agent, request } from "node:http"
import { connect } from "node:net"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Scope, TestClock } from "effect"
import { FakeAnthropic } from "../src/index.js"

const body = JSON.stringify({
  model: "claude-haiku-4-5",
  max_tokens: 100,
  messages: [{ role: "user", content: "hello" }]
})

/** A client's view of one connection: whether the server has closed it. */
interface Held {
  readonly closed: () => boolean
}

/** POSTs to /v1/messages, keeping the connection alive; with `complete: false` the body is never finished. */
const post = (baseURL: string, options: { readonly stream?: boolean; readonly complete?: boolean } = {}): Held => {
  let closed = false
  const payload = options.stream === true ? body.replace("{", '{"stream":true,') : body
  const req = request(`${baseURL}/v1/messages`, {
    method: "POST",
    agent: new Agent({ keepAlive: true }),
    headers: {
      "content-type": "application/json",
      "content-length": String(Buffer.byteLength(payload) + (options.complete === false ? 1 : 0)),
      "x-api-key": FakeAnthropic.defaultApiKey,
      "anthropic-version": "2023-06-01"
    }
  })
  req.on("error", () => {
    closed = true
  })
  req.on("close", () => {
    closed = true
  })
  req.on("response", (response) => response.resume())
  req.write(payload)
  if (options.complete !== false) req.end()
  return { closed: () => closed }
}

/** A TCP connection that sends nothing. */
const silent = (baseURL: string): Held => {
  let closed = false
  const url = new URL(baseURL)
  const socket = connect(Number(url.port), url.hostname)
  socket.on("close", () => {
    closed = true
  })
  socket.on("error", () => undefined)
  return { closed: () => closed }
}

/** Polls on the real clock (the test's is the TestClock) until `done` holds, for 5 s at most. */
const until = (done: () => boolean, what: string) =>
  Effect.gen(function* () {
    for (let tries = 0; tries < 1_000; tries++) {
      if (done()) return
      yield* Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, 5)))
    }
    return yield* Effect.dieMessage(`timed out waiting for ${what}`)
  })

const cases: ReadonlyArray<
  readonly [
    string,
    FakeAnthropic.Options,
    (baseURL: string) => Held,
    (fake: FakeAnthropic.FakeAnthropicService) => Effect.Effect<boolean>
  ]
> = [
  ["a request it never answers", { script: () => FakeAnthropic.hang }, (url) => post(url), (fake) => inFlight(fake)],
  [
    "a stream stalled between deltas",
    { deltaInterval: "1 hour" },
    (url) => post(url, { stream: true }),
    () => Effect.map(TestClock.sleeps(), (sleeps) => sleeps.length === 1)
  ],
  ["an idle keep-alive connection", {}, (url) => post(url), (fake) => answered(fake)],
  ["a request whose body never comes", {}, (url) => post(url, { complete: false }), () => Effect.succeed(true)],
  ["a connection that never sends anything", {}, silent, () => Effect.succeed(true)]
]

const inFlight = (fake: FakeAnthropic.FakeAnthropicService) =>
  Effect.map(fake.requests, (requests) => requests[0]?.outcome === "in-flight")
const answered = (fake: FakeAnthropic.FakeAnthropicService) =>
  Effect.map(fake.requests, (requests) => requests[0]?.outcome === "answered")

describe("closing FakeAnthropic", () => {
  for (const [held, options, client, ready] of cases)
    it.effect(`with ${held}: the close ends at once and the client's connection is closed`, () =>
      Effect.gen(function* () {
        const scope = yield* Scope.make()
        const fake = yield* Scope.extend(FakeAnthropic.make(options), scope)
        const connection = client(fake.baseURL)
        for (let tries = 0; tries < 1_000 && !(yield* ready(fake)); tries++)
          yield* Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, 5)))
        // Give a connection that sends nothing time to be accepted.
        yield* Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, 20)))
        const start = Date.now()
        // A daemon: a close that hangs must fail the test, not hold it.
        const closing = yield* Effect.forkDaemon(Scope.close(scope, Exit.void))
        yield* until(() => closing.unsafePoll() !== null, "the close")
        // Bounded with room for a loaded machine (without the bound: no end at all).
        expect(Date.now() - start).toBeLessThan(3_000)
        yield* until(connection.closed, "the client's connection to close")
      })
    )
})
