/**
 * A real HTTP receiver on 127.0.0.1 for webhook tests: it records every request and answers as
 * `answer` says for it (its index among all requests received): a status, a status with headers,
 * never (`"hang"`), or by dropping the connection (`"drop"`). And the waits of tests that mix real
 * I/O with the TestClock.
 */
import { createServer } from "node:http"
import { HttpMiddleware, HttpRouter, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import { Chunk, Effect, Fiber, TestClock, TestServices } from "effect"

export interface Received {
  readonly path: string
  readonly body: unknown
  /** Requests this one overlapped with, itself included. */
  readonly concurrent: number
}

export type Answer =
  | number
  | { readonly status: number; readonly headers: Readonly<Record<string, string>> }
  | "hang"
  | "drop"

export const receiver = (answer: (index: number) => Answer = () => 200) =>
  Effect.gen(function* () {
    const received: Array<Received> = []
    let inFlight = 0
    const handle = Effect.gen(function* () {
      const request = yield* HttpServerRequest.HttpServerRequest
      inFlight++
      const body = yield* Effect.orElseSucceed(request.json, () => null)
      received.push({ path: new URL(request.originalUrl, "http://x").pathname, body, concurrent: inFlight })
      const reply = answer(received.length - 1)
      if (reply === "hang") return yield* Effect.never
      if (reply === "drop") {
        NodeHttpServerRequest.toIncomingMessage(request).socket.destroy()
        return yield* Effect.never
      }
      return typeof reply === "number"
        ? HttpServerResponse.text("ok", { status: reply })
        : HttpServerResponse.text("slow down", reply)
    }).pipe(Effect.ensuring(Effect.sync(() => inFlight--)))
    const node = createServer()
    const server = yield* NodeHttpServer.make(() => node, { port: 0, host: "127.0.0.1" })
    // A request left hanging keeps its connection open, and closing the server would wait for it.
    yield* Effect.addFinalizer(() => Effect.sync(() => node.closeAllConnections()))
    // Untraced: the receiver stands for Slack's or PagerDuty's servers, whose spans a test must not read as ours.
    yield* Effect.locally(
      server.serve(HttpRouter.empty.pipe(HttpRouter.all("*", handle))),
      HttpMiddleware.currentTracerDisabledWhen,
      () => true
    )
    const port = server.address._tag === "TcpAddress" ? server.address.port : 0
    return {
      url: `http://127.0.0.1:${port}`,
      received: Effect.sync(() => received.slice()),
      inFlight: Effect.sync(() => inFlight)
    }
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

/** How many sleepers wake at `millis` on the TestClock. */
export const sleepersAt = (millis: number) =>
  Effect.map(TestClock.sleeps(), (sleeps) => Chunk.toReadonlyArray(sleeps).filter((s) => s === millis).length)

/**
 * Waits, on the real clock and for 5 seconds at most, for `fiber` to end, and answers its exit.
 * Fork what is awaited as a daemon: a fiber that hangs uninterruptibly would otherwise hold the test's end.
 */
export const endsSoon = <A, E>(fiber: Fiber.Fiber<A, E>, what: string) =>
  TestServices.provideLive(
    Effect.timeoutFail(Fiber.await(fiber), { duration: "5 seconds", onTimeout: () => new Error(`${what} hangs`) })
  )
