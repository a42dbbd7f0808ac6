import { AiError, Response } from "@effect/ai"
import { describe, expect, it } from "@effect/vitest"
import { type CompletionRequest, Overloaded, Pricing, ProviderUnavailable, RateLimited } from "@fleetguard/core"
import { Effect, Either, Option, Stream } from "effect"
import { generated, streamed } from "../src/internal/calls.js"
import { boundedUsage, noUsage } from "../src/internal/usage.js"

const request: CompletionRequest = {
  model: "claude-haiku-4-5",
  maxTokens: 100,
  messages: [{ role: "user", content: "hi" }]
}

const metadata = Response.responseMetadataPart({
  id: Option.none(),
  modelId: Option.some("claude-haiku-4-5-20251001"),
  timestamp: Option.none()
})
const delta = (text: string) => Response.makePart("text-delta", { id: "0", delta: text })
const finish = Response.finishPart({
  reason: "stop",
  usage: new Response.Usage({ inputTokens: 3, outputTokens: 2, totalTokens: 5 })
})
const reported = { inputTokens: 3, outputTokens: 2, cacheCreationInputTokens: 0, cacheReadInputTokens: 0 }
const rateLimited = new AiError.HttpResponseError({
  module: "AnthropicClient",
  method: "streamRequest",
  request: { method: "POST", url: "http://127.0.0.1/v1/messages", urlParams: [], hash: Option.none(), headers: {} },
  response: { status: 429, headers: { "retry-after": "2" } },
  reason: "StatusCode"
})

/** A streamed call over `parts`, and what it delivered. */
const streamOf = <E>(parts: Stream.Stream<Response.StreamPart<Record<string, never>>, E>) => {
  const delivered: Array<string> = []
  const call = streamed(parts, request, (chunk) =>
    Effect.sync(() => delivered.push(...chunk.map((p) => (p.type === "text-delta" ? p.delta : p.type))))
  )
  return { call, delivered }
}

describe("a streamed call, as one attempt of a guarded call", () => {
  it.effect("delivers every part; settles at the finish part's usage, as the model the stream reports", () =>
    Effect.gen(function* () {
      const { call, delivered } = streamOf(Stream.make(metadata, delta("hello"), finish))
      const outcome = yield* call.send
      expect(outcome).toMatchObject({ usage: reported, reportedModel: "claude-haiku-4-5-20251001" })
      expect(Either.isRight(outcome.result)).toBe(true)
      expect(delivered).toEqual(["response-metadata", "hello", "finish"])
      // Cut short from here on, it would be charged what the finish part reported.
      expect(call.progress).toMatchObject({ received: true, usage: reported, final: true, bytes: 5 })
    })
  )

  it.effect("before the finish part, a cut is charged the input's bound and the bytes received", () =>
    Effect.gen(function* () {
      const { call } = streamOf(Stream.concat(Stream.make(metadata, delta("héllo")), Stream.never))
      yield* Effect.fork(call.send)
      while (call.progress?.received !== true) yield* Effect.yieldNow()
      expect(call.progress).toMatchObject({ received: true, usage: boundedUsage(request, 0), final: false, bytes: 6 })
    })
  )

  it.effect("an error part fails the call as the error it names, once the parts before it are delivered", () =>
    Effect.gen(function* () {
      const error = Response.makePart("error", { error: { type: "overloaded_error", message: "Overloaded" } })
      const { call, delivered } = streamOf(Stream.make(metadata, delta("a"), error, delta("never")))
      expect(yield* Effect.flip(call.send)).toBeInstanceOf(Overloaded)
      expect(delivered).toEqual(["response-metadata", "a"])
    })
  )

  it.effect("the provider's failure fails the call as fleetguard's error; an end with no finish part too", () =>
    Effect.gen(function* () {
      expect(yield* Effect.flip(streamOf(Stream.fail(rateLimited)).call.send)).toMatchObject({
        _tag: "RateLimited",
        retryAfterMillis: 2000
      })
      expect(yield* Effect.flip(streamOf(Stream.make(metadata, delta("a"))).call.send)).toBeInstanceOf(
        ProviderUnavailable
      )
    })
  )

  it.effect("a failure that is not the provider's is handed back, charged what was received", () =>
    Effect.gen(function* () {
      const toolFailed = new Error("the tool failed")
      const { call } = streamOf(Stream.concat(Stream.make(metadata, delta("abc")), Stream.fail(toolFailed)))
      const outcome = yield* call.send
      expect(outcome.result).toEqual(Either.left(toolFailed))
      expect(outcome.usage).toEqual(boundedUsage(request, 3))
    })
  )
})

describe("a generated call, as one attempt of a guarded call", () => {
  it.effect(
    "a response settles at its usage; a failure after the answer at the bound; one before sending at nothing",
    () =>
      Effect.gen(function* () {
        const response = { content: [metadata, Response.makePart("text", { text: "hi" }), finish] }
        expect(yield* generated(Effect.succeed(response), request).send).toMatchObject({
          usage: reported,
          reportedModel: "claude-haiku-4-5-20251001",
          result: Either.right(response)
        })
        const object = new AiError.MalformedOutput({ module: "LanguageModel", method: "generateObject" })
        expect(yield* generated(Effect.fail(object), request).send).toMatchObject({
          usage: boundedUsage(request, 100),
          result: Either.left(object)
        })
        expect(boundedUsage(request, 100).inputTokens).toBe(Pricing.maxInputTokens(request))
        const input = new AiError.MalformedInput({ module: "AnthropicLanguageModel", method: "prepareMessages" })
        expect(yield* generated(Effect.fail(input), request).send).toMatchObject({ usage: noUsage })
        expect(yield* Effect.flip(generated(Effect.fail(rateLimited), request).send)).toBeInstanceOf(RateLimited)
      })
  )
})
