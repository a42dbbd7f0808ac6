/**
 * TestProvider's replies with blocks: tool calls and thinking with their stop reason, streamed as
 * ToolInputDelta and ThinkingDelta events on the TestClock, counted as FakeAnthropic counts them
 * (the same request, sent to FakeAnthropic with the SDK, has the same input tokens).
 */
import { describe, expect, it } from "@effect/vitest"
import type { CompletionRequest, ProviderStreamEvent } from "@fleetguard/core"
import { Chunk, Effect, Fiber, Stream, TestClock } from "effect"
import { FakeAnthropic, TestProvider } from "../src/index.js"
import { png } from "./media.js"
import { attempt, client } from "./sdk.js"

const request: CompletionRequest = {
  model: "claude-haiku-4-5",
  maxTokens: 100,
  system: "Be brief.",
  tools: [{ name: "weather", description: "The forecast.", inputSchema: { type: "object" } }],
  messages: [
    {
      role: "user",
      content: [
        { type: "text", text: "What is this city's weather?" },
        { type: "image", source: { type: "base64", mediaType: "image/png", data: png(640, 480) } }
      ]
    }
  ]
}

/** The provider's stream, which TestProvider always has. */
const streamOf = (provider: TestProvider.TestProviderService, r: CompletionRequest) =>
  provider.stream === undefined ? Stream.die("TestProvider streams") : provider.stream(r)

const content = [
  FakeAnthropic.thinking("Oslo, by the fjord."),
  FakeAnthropic.text("Looking it up."),
  FakeAnthropic.toolUse("weather", { city: "Oslo" })
]

describe("TestProvider", () => {
  it.effect("replies with blocks: ids and signatures given, the text joined, stop reason tool_use", () =>
    Effect.gen(function* () {
      const provider = yield* TestProvider.make(TestProvider.always(TestProvider.reply({ content })))
      const completion = yield* provider.complete(request)
      expect(completion.content).toEqual([
        { type: "thinking", thinking: "Oslo, by the fjord.", signature: "sig_test_0_0" },
        { type: "text", text: "Looking it up." },
        { type: "tool_use", id: "toolu_test_0_2", name: "weather", input: { city: "Oslo" } }
      ])
      expect(completion.text).toBe("Looking it up.")
      expect(completion.stopReason).toBe("tool_use")
      // 19 + 14 + {"city":"Oslo"} 15 bytes: 12 tokens, as FakeAnthropic counts a scripted answer.
      expect(completion.usage.outputTokens).toBe(12)

      const told = yield* TestProvider.make(
        TestProvider.always(
          TestProvider.reply({ content: [FakeAnthropic.text("Stopped.")], stopReason: "refusal", outputTokens: 500 })
        )
      )
      const stopped = yield* told.complete(request)
      expect(stopped).toMatchObject({ stopReason: "refusal", text: "Stopped." })
      expect(stopped.usage.outputTokens).toBe(100)
    })
  )

  it.effect("streams thinking, text and tool input as they come, deltaLatency apart, then Done", () =>
    Effect.gen(function* () {
      const provider = yield* TestProvider.make(
        TestProvider.always(TestProvider.reply({ content, latency: "1 second", deltaLatency: "100 millis" }))
      )
      const fiber = yield* Effect.fork(Stream.runCollect(streamOf(provider, request)))
      while (Chunk.isEmpty(yield* TestClock.sleeps())) yield* Effect.yieldNow()
      yield* TestClock.adjust("1 second")
      const deltas = 4 + 3 + 2 // four words of thinking, three of text, {"city":"Oslo"} in two pieces
      yield* TestClock.adjust(`${100 * deltas - 1} millis`)
      expect(fiber.unsafePoll()).toBeNull()
      yield* TestClock.adjust("1 millis")
      const events = Chunk.toReadonlyArray(yield* Fiber.join(fiber))
      const brief = (e: ProviderStreamEvent) =>
        e._tag === "TextDelta"
          ? `text ${e.text}`
          : e._tag === "ThinkingDelta"
            ? `thinking ${e.thinking}`
            : e._tag === "ToolInputDelta"
              ? `tool ${e.index} ${e.id} ${e.name}`
              : e._tag === "Usage"
                ? `usage ${e.final}`
                : e._tag
      expect(events.map(brief)).toEqual([
        "usage false",
        "thinking Oslo,",
        "thinking  by",
        "thinking  the",
        "thinking  fjord.",
        "text Looking",
        "text  it",
        "text  up.",
        "tool 2 toolu_test_0_2 weather",
        "tool 2 toolu_test_0_2 weather",
        "usage true",
        "Done"
      ])
      const json = events.flatMap((e) => (e._tag === "ToolInputDelta" ? [e.partialJson] : []))
      expect(json.join("")).toBe('{"city":"Oslo"}')
      const done = events.at(-1)
      expect(done?._tag === "Done" && done.completion.content.map((b) => b.type)).toEqual([
        "thinking",
        "text",
        "tool_use"
      ])
      expect(done?._tag === "Done" && done.completion.content[2]).toMatchObject({ input: { city: "Oslo" } })
    })
  )

  it.scoped("counts the input as FakeAnthropic does: the same request there has the same input tokens", () =>
    Effect.gen(function* () {
      const provider = yield* TestProvider.make()
      const { usage } = yield* provider.complete(request)
      const fake = yield* FakeAnthropic.make()
      const image = request.messages[0]?.content[1]
      const data =
        typeof image === "object" && image.type === "image" && image.source.type === "base64" ? image.source.data : ""
      const count = yield* attempt(() =>
        client(fake).messages.countTokens({
          model: request.model,
          system: "Be brief.",
          tools: [{ name: "weather", description: "The forecast.", input_schema: { type: "object" } }],
          messages: [
            {
              role: "user",
              content: [
                { type: "text", text: "What is this city's weather?" },
                { type: "image", source: { type: "base64", media_type: "image/png", data } }
              ]
            }
          ]
        })
      )
      // 9 + 28 + "weather" 7 + 13 + {"type":"object"} 17 bytes: 19 tokens; 640×480 / 750: 410; the tool prompt 346.
      expect(usage.inputTokens).toBe(19 + 410 + 346)
      expect(count.input_tokens).toBe(usage.inputTokens)
    })
  )

  it.effect("fails InvalidRequest where FakeAnthropic would answer 400: an image it cannot read, a PDF by URL", () =>
    Effect.gen(function* () {
      const provider = yield* TestProvider.make()
      const unreadable: CompletionRequest = {
        ...request,
        messages: [
          {
            role: "user",
            content: [{ type: "image", source: { type: "base64", mediaType: "image/png", data: "AAAA" } }]
          }
        ]
      }
      const error = yield* Effect.flip(provider.complete(unreadable))
      expect(error).toMatchObject({
        _tag: "InvalidRequest",
        status: 400,
        message: "messages.0.content.0.source.data: Could not process image"
      })
      const byUrl: CompletionRequest = {
        ...request,
        messages: [
          { role: "user", content: [{ type: "document", source: { type: "url", url: "https://x.test/a.pdf" } }] }
        ]
      }
      const streamed = yield* Effect.flip(Stream.runDrain(streamOf(provider, byUrl)))
      expect(streamed).toMatchObject({ _tag: "InvalidRequest", status: 400 })
      expect((yield* provider.calls).map((c) => c.outcome)).toEqual(["failed", "failed"])
    })
  )
})
