/**
 * An @effect/platform `HttpServer` on node:http alone, for FakeAnthropic. @effect/platform-node has one,
 * but it brings @effect/cluster, rpc, sql and workflow (and a native file watcher) into every install
 * of @fleetguard/testing. Each request reaches the app as a web `Request` (`HttpServerRequest.fromWeb`);
 * the app's response is written back to the Node response, which `toServerResponse` hands to the app so
 * that it can follow how the response ended. As with platform-node, a connection closed before the
 * response has ended interrupts the handler. It does what FakeAnthropic needs and no more: bodies read
 * whole, responses of bytes or of a stream, no cookies, no upgrades.
 */

import type { IncomingMessage, Server, ServerResponse } from "node:http"
import type { ListenOptions } from "node:net"
import * as HttpApp from "@effect/platform/HttpApp"
import type { HttpMiddleware } from "@effect/platform/HttpMiddleware"
import * as HttpServer from "@effect/platform/HttpServer"
import { clientAbortFiberId, ServeError } from "@effect/platform/HttpServerError"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import type * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Effect, Runtime, type Scope, Stream } from "effect"

/** The Node response of each request in flight, by the web Request the app sees as its `source`. */
const responses = new WeakMap<object, ServerResponse>()

/** The Node response a request of this server is answered on. */
export const toServerResponse = (request: HttpServerRequest.HttpServerRequest): Effect.Effect<ServerResponse> => {
  const source = request.source
  const response = typeof source === "object" && source !== null ? responses.get(source) : undefined
  return response === undefined ? Effect.dieMessage("not a request of this server") : Effect.succeed(response)
}

/** The web Request of a Node request whose body has been read (FakeAnthropic reads every body whole). */
const toWebRequest = (incoming: IncomingMessage, body: Buffer): Request => {
  const headers = new Headers()
  for (let i = 0; i + 1 < incoming.rawHeaders.length; i += 2) {
    headers.append(incoming.rawHeaders[i] ?? "", incoming.rawHeaders[i + 1] ?? "")
  }
  const method = incoming.method ?? "GET"
  const init = method === "GET" || method === "HEAD" ? { method, headers } : { method, headers, body }
  return new Request(new URL(incoming.url ?? "/", "http://127.0.0.1"), init)
}

/** Calls `f` with the whole body of `incoming`; never, when the client goes away first. */
const readBody = (incoming: IncomingMessage, f: (body: Buffer) => void) => {
  const chunks: Array<Buffer> = []
  incoming.on("data", (chunk: Buffer) => chunks.push(chunk))
  incoming.once("end", () => f(Buffer.concat(chunks)))
}

/** Resumes once a full Node response can take more. */
const drained = (outgoing: ServerResponse) =>
  Effect.async<void>((resume) => {
    const onDrain = () => resume(Effect.void)
    outgoing.once("drain", onDrain)
    return Effect.sync(() => outgoing.off("drain", onDrain))
  })

/**
 * Writes the app's response, as platform-node does. A stream is written chunk by chunk, each before the
 * next is pulled, so that what the app does between two chunks (FakeAnthropic dropping the connection)
 * follows what it has sent. A client that went away ends it, which is no error of the server's.
 */
const send = (request: HttpServerRequest.HttpServerRequest, response: HttpServerResponse.HttpServerResponse) =>
  Effect.flatMap(toServerResponse(request), (outgoing) => {
    if (outgoing.writableEnded || outgoing.destroyed) return Effect.void
    if (response.body._tag === "Stream" && request.method !== "HEAD") {
      outgoing.writeHead(response.status, response.headers)
      return Stream.runForEach(response.body.stream, (chunk) =>
        outgoing.write(chunk) ? Effect.void : drained(outgoing)
      ).pipe(
        Effect.interruptible,
        Effect.matchCause({ onSuccess: () => void outgoing.end(), onFailure: () => void outgoing.destroy() })
      )
    }
    const body = response.body
    if (body._tag === "Raw" || body._tag === "FormData") {
      return Effect.dieMessage(`FakeAnthropic's server writes no ${body._tag} body`)
    }
    outgoing.writeHead(response.status, response.headers)
    const bytes = body._tag === "Uint8Array" && request.method !== "HEAD" ? body.body : undefined
    return Effect.async<void>((resume) => void outgoing.end(bytes, () => resume(Effect.void)))
  })

const handler = (
  app: HttpApp.Default<unknown>,
  middleware: HttpMiddleware | undefined,
  runtime: Runtime.Runtime<never>
) => {
  const run = Runtime.runFork(runtime)
  const handled = HttpApp.toHandled(app, send, middleware)
  return (incoming: IncomingMessage, outgoing: ServerResponse) =>
    readBody(incoming, (body) => {
      let request: Request
      try {
        request = toWebRequest(incoming, body)
      } catch {
        // What Node's parser let through but a web Request refuses (a malformed header value, say).
        outgoing.writeHead(400).end()
        return
      }
      responses.set(request, outgoing)
      const fiber = run(
        Effect.provideService(handled, HttpServerRequest.HttpServerRequest, HttpServerRequest.fromWeb(request))
      )
      outgoing.once("close", () => {
        if (!outgoing.writableEnded) fiber.unsafeInterruptAsFork(clientAbortFiberId)
      })
    })
}

const listen = (server: Server, options: ListenOptions) =>
  Effect.async<void, ServeError>((resume) => {
    const onError = (cause: Error) => resume(Effect.fail(new ServeError({ cause })))
    server.once("error", onError)
    server.listen(options, () => {
      server.off("error", onError)
      resume(Effect.void)
    })
  })

const close = (server: Server) =>
  Effect.async<void>((resume) => {
    if (!server.listening) return resume(Effect.void)
    server.close(() => resume(Effect.void))
  })

/** Listens on `options`; the server closes with the scope. */
export const make = (
  evaluate: () => Server,
  options: ListenOptions
): Effect.Effect<HttpServer.HttpServer, ServeError, Scope.Scope> =>
  Effect.gen(function* () {
    const server = yield* Effect.acquireRelease(Effect.sync(evaluate), close)
    yield* listen(server, options)
    const address = server.address()
    return HttpServer.make({
      address:
        address === null || typeof address === "string"
          ? { _tag: "UnixAddress", path: address ?? "" }
          : { _tag: "TcpAddress", hostname: address.address, port: address.port },
      serve: (app, middleware) =>
        Effect.gen(function* () {
          const onRequest = handler(app, middleware, yield* Effect.runtime<never>())
          server.on("request", onRequest)
          yield* Effect.addFinalizer(() => Effect.sync(() => server.off("request", onRequest)))
        })
    })
  })
