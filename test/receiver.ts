/**
 * A real HTTP receiver on 127.0.0.1 for webhook tests: it records every request and answers with
 * the status `answer` gives for it (its index among all requests received).
 */
import { createServer } from "node:http"
import { HttpMiddleware, HttpRouter, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { Effect, TestServices } from "effect"

export interface Received {
  readonly path: string
  readonly body: unknown
  /** Requests this one overlapped with, itself included. */
  readonly concurrent: number
}

export const receiver = (answer: (index: number) => number = () => 200) =>
  Effect.gen(function* () {
    const received: Array<Received> = []
    let inFlight = 0
    const handle = Effect.gen(function* () {
      const request = yield* HttpServerRequest.HttpServerRequest
      inFlight++
      const body = yield* Effect.orElseSucceed(request.json, () => null)
      received.push({ path: new URL(request.originalUrl, "http://x").pathname, body, concurrent: inFlight })
      return HttpServerResponse.text("ok", { status: answer(received.length - 1) })
    }).pipe(Effect.ensuring(Effect.sync(() => inFlight--)))
    const server = yield* NodeHttpServer.make(() => createServer(), { port: 0, host: "127.0.0.1" })
    // Untraced: the receiver stands for Slack's or PagerDuty's servers, whose spans a test must not read as ours.
    yield* Effect.locally(
      server.serve(HttpRouter.empty.pipe(HttpRouter.all("*", handle))),
      HttpMiddleware.currentTracerDisabledWhen,
      () => true
    )
    const port = server.address._tag === "TcpAddress" ? server.address.port : 0
    return { url: `http://127.0.0.1:${port}`, received: Effect.sync(() => received.slice()) }
  })

/**
 * Polls `self` on the real clock, every few milliseconds, until `done` holds (a test's wait for I/O
 * it started: the tests' clock is the TestClock).
 */
export const eventually = <A, E, R>(self: Effect.Effect<A, E, R>, done: (a: A) => boolean, what: string) =>
  Effect.gen(function* () {
    // A minute at most: a child process can take seconds to start on a loaded machine.
    for (let tries = 0; tries < 12_000; tries++) {
      const a = yield* self
      if (done(a)) return a
      yield* TestServices.provideLive(Effect.sleep("5 millis"))
    }
    return yield* Effect.dieMessage(`timed out waiting for ${what}`)
  })
