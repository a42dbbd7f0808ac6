/**
 * LlmClient.stream with tool input and thinking: the parts reach the caller in order, a stream cut
 * short is charged an upper bound of what it received, and a provider that cannot stream still
 * shows its tools.
 */
import { describe, expect, it } from "@effect/vitest"
import {
  Agent,
  Budget,
  Concurrency,
  LlmClient,
  LlmProvider,
  type ProviderCompletion,
  type ProviderStreamEvent,
  type StreamPart
} from "@fleetguard/core"
import { Chunk, Duration, Effect, Fiber, Stream, TestClock } from "effect"
import { paths, request } from "../support/client.js"

const haiku = (input: number, output: number) => (input * 1 + output * 5) / 1e6

/** A provider that streams `events` (one every `latency`), through `stream` or by pushing them (`streamTo`). */
const streaming = (events: ReadonlyArray<ProviderStreamEvent>, via: "stream" | "streamTo", latency = Duration.zero) => {
  const paced = Stream.mapEffect(Stream.fromIterable(events), (event) => Effect.as(Effect.sleep(latency), event))
  const done = events.flatMap((e) => (e._tag === "Done" ? [e.completion] : []))[0]
  return LlmProvider.layer(
    via === "stream"
      ? { complete: () => Effect.die("not called"), stream: () => paced }
      : {
          complete: () => Effect.die("not called"),
          streamTo: (_, sink) =>
            Effect.flatMap(
              Stream.runForEach(paced, (event) => Effect.sync(() => sink([event]))),
              () => (done === undefined ? Effect.die("no completion") : Effect.succeed(done))
            )
        }
  )
}

const usage = (inputTokens: number, outputTokens: number) => ({
  inputTokens,
  outputTokens,
  cacheCreationInputTokens: 0,
  cacheReadInputTokens: 0
})

/** A planner's answer: it thinks, says what it will do, and asks for a tool, whose input comes in pieces. */
const toolAnswer: ProviderCompletion = {
  text: "Searching.",
  content: [
    { type: "thinking", thinking: "The user wants süß facts.", signature: "sig-1" },
    { type: "text", text: "Searching." },
    { type: "tool_use", id: "toolu_1", name: "search", input: { query: "süß", limit: 3 } }
  ],
  model: "claude-haiku-4-5",
  stopReason: "tool_use",
  usage: usage(5, 40)
}
const toolEvents: ReadonlyArray<ProviderStreamEvent> = [
  { _tag: "Usage", usage: usage(5, 1), final: false },
  { _tag: "ThinkingDelta", thinking: "The user wants " },
  { _tag: "ThinkingDelta", thinking: "süß facts." },
  { _tag: "TextDelta", text: "Searching." },
  { _tag: "ToolInputDelta", index: 2, id: "toolu_1", name: "search", partialJson: '{"query": ' },
  { _tag: "ToolInputDelta", index: 2, id: "toolu_1", name: "search", partialJson: '"süß", "limit": 3}' },
  { _tag: "Usage", usage: usage(5, 40), final: true },
  { _tag: "Done", completion: toolAnswer }
]
const deltas = toolEvents.filter((e) => e._tag !== "Usage" && e._tag !== "Done")
/** UTF-8 bytes of the deltas' text, tool input and thinking. */
const bytesOf = (parts: ReadonlyArray<StreamPart>) =>
  parts.reduce(
    (n, p) =>
      n +
      Buffer.byteLength(
        p._tag === "TextDelta"
          ? p.text
          : p._tag === "ToolInputDelta"
            ? p.partialJson
            : p._tag === "ThinkingDelta"
              ? p.thinking
              : ""
      ),
    0
  )

describe.each(paths)("LlmClient.stream, tools and thinking ($name)", ({ clientOver }) => {
  describe.each(["stream", "streamTo"] as const)("a provider with %s", (via) => {
    it.effect("tool input and thinking reach the caller in order, then the completion with the parsed input", () =>
      Effect.gen(function* () {
        const parts = Chunk.toReadonlyArray(yield* Agent.run("planner", Stream.runCollect(LlmClient.stream(request()))))
        expect(parts.slice(0, -1)).toEqual(deltas)
        const last = parts.at(-1)
        if (last?._tag !== "Completion") return expect.fail("no completion")
        expect(last.completion.content).toEqual(toolAnswer.content)
        expect(last.completion.stopReason).toBe("tool_use")
        expect(last.completion.costUsd).toBeCloseTo(haiku(5, 40), 12)
        expect((yield* Budget.snapshot).agents.planner).toEqual({ spentUsd: last.completion.costUsd, reservedUsd: 0 })
      }).pipe(Effect.provide(clientOver(streaming(toolEvents, via))))
    )

    it.effect("a stream stopped after tool input is charged at least the bytes it received", () =>
      Effect.gen(function* () {
        // The thinking, the text and the first piece of tool input (4 parts), then the consumer stops.
        const fiber = yield* Effect.fork(Stream.runCollect(Stream.take(LlmClient.stream(request()), 4)))
        yield* TestClock.adjust(Duration.seconds(10))
        const parts = Chunk.toReadonlyArray(yield* Fiber.join(fiber))
        expect(parts.map((p) => p._tag)).toEqual(["ThinkingDelta", "ThinkingDelta", "TextDelta", "ToolInputDelta"])
        const received = bytesOf(parts)
        expect(received).toBe(15 + 12 + 10 + 10)
        const budget = yield* Budget.snapshot
        expect(budget.spentUsd).toBeGreaterThanOrEqual(haiku(5, received))
        expect(budget.spentUsd).toBeCloseTo(haiku(5, received), 12)
        expect(budget.reservedUsd).toBe(0)
        expect((yield* Concurrency.snapshot).inFlight).toBe(0)
      }).pipe(Effect.provide(clientOver(streaming(toolEvents, via, Duration.seconds(1)))))
    )
  })

  it.effect("a provider without stream: its tool_use comes as one ToolInputDelta after the text", () =>
    Effect.gen(function* () {
      const parts = Chunk.toReadonlyArray(yield* Stream.runCollect(LlmClient.stream(request())))
      expect(parts.map((p) => p._tag)).toEqual(["TextDelta", "ToolInputDelta", "Completion"])
      expect(parts[0]).toEqual({ _tag: "TextDelta", text: "Searching." })
      const tool = parts[1]
      if (tool?._tag !== "ToolInputDelta") return expect.fail("no tool input")
      expect(tool).toMatchObject({ index: 2, id: "toolu_1", name: "search" })
      expect(JSON.parse(tool.partialJson)).toEqual({ query: "süß", limit: 3 })
      const last = parts[2]
      expect(last?._tag === "Completion" && last.completion.content).toEqual(toolAnswer.content)
    }).pipe(Effect.provide(clientOver(LlmProvider.layer({ complete: () => Effect.succeed(toolAnswer) }))))
  )
})
