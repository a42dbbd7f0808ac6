/**
 * Answers with tool calls and thinking, from FakeAnthropic's scripted answers through the SDK and
 * AnthropicProvider: as JSON and streamed, and sent back on the next turn.
 */
import { describe, expect, it } from "@effect/vitest"
import type { AnswerBlock, CompletionRequest, ProviderStreamEvent } from "@fleetguard/core"
import { FakeAnthropic } from "@fleetguard/testing"
import { Chunk, Effect, Stream } from "effect"
import { bodiesTo, withProvider } from "./support/provider.js"

const request: CompletionRequest = {
  model: "claude-haiku-4-5",
  maxTokens: 1000,
  messages: [{ role: "user", content: "Weather in Oslo and Bergen?" }],
  tools: [{ name: "weather", inputSchema: { type: "object", properties: { city: { type: "string" } } } }]
}

const answer: FakeAnthropic.FakeAnswer = [
  FakeAnthropic.thinking("Two cities, so two calls."),
  FakeAnthropic.redactedThinking("EmwKAhgBEgy3va3pzix/LafPsn4a"),
  FakeAnthropic.text("Checking both."),
  FakeAnthropic.toolUse("weather", { city: "Oslo", days: [1, 2] }),
  FakeAnthropic.toolUse("weather", { city: "Bergen", units: { temperature: "C" } })
]

/** The blocks with their ids and signatures left out: those the server makes up per call. */
const shape = (content: ReadonlyArray<AnswerBlock>) =>
  content.map((block) =>
    block.type === "tool_use"
      ? { type: block.type, name: block.name, input: block.input }
      : block.type === "thinking"
        ? { type: block.type, thinking: block.thinking }
        : block
  )

const expected = [
  { type: "thinking", thinking: "Two cities, so two calls." },
  { type: "redacted_thinking", data: "EmwKAhgBEgy3va3pzix/LafPsn4a" },
  { type: "text", text: "Checking both." },
  { type: "tool_use", name: "weather", input: { city: "Oslo", days: [1, 2] } },
  { type: "tool_use", name: "weather", input: { city: "Bergen", units: { temperature: "C" } } }
]

describe("answers with tool calls and thinking", () => {
  it.effect(
    "as JSON: every block in order, tool inputs parsed, a signature on the thinking, stop_reason tool_use",
    () =>
      withProvider({ answer: () => answer }, (provider) =>
        Effect.gen(function* () {
          const completion = yield* provider.complete(request)
          expect(shape(completion.content)).toEqual(expected)
          expect(completion.text).toBe("Checking both.")
          expect(completion.stopReason).toBe("tool_use")
          const [thinking, , , first, second] = completion.content
          expect(thinking?.type === "thinking" && thinking.signature).toMatch(/./)
          expect(first?.type === "tool_use" && second?.type === "tool_use" && first.id !== second.id).toBe(true)
        })
      )
  )

  it.effect("streamed: ToolInputDelta and ThinkingDelta as they come, then the same completion as JSON", () =>
    withProvider({ answer: () => answer }, (provider) =>
      Effect.gen(function* () {
        const json = yield* provider.complete(request)
        const events = Chunk.toReadonlyArray(yield* Stream.runCollect(provider.stream(request)))
        const last = events.at(-1)
        const streamed = last?._tag === "Done" ? last.completion : undefined
        expect(streamed && shape(streamed.content)).toEqual(expected)
        expect(streamed).toMatchObject({ text: json.text, stopReason: "tool_use", usage: json.usage })
        const of = <T extends ProviderStreamEvent["_tag"]>(tag: T) =>
          events.filter((e): e is Extract<ProviderStreamEvent, { _tag: T }> => e._tag === tag)
        expect(
          of("ThinkingDelta")
            .map((e) => e.thinking)
            .join("")
        ).toBe("Two cities, so two calls.")
        expect(
          of("TextDelta")
            .map((e) => e.text)
            .join("")
        ).toBe("Checking both.")
        // Each tool's pieces name its block, id and tool; joined they are its input's JSON.
        for (const [index, block] of (streamed?.content ?? []).entries()) {
          if (block.type !== "tool_use") continue
          const pieces = of("ToolInputDelta").filter((e) => e.index === index)
          expect(pieces.length).toBeGreaterThan(1)
          expect(pieces.every((e) => e.id === block.id && e.name === block.name)).toBe(true)
          expect(JSON.parse(pieces.map((e) => e.partialJson).join(""))).toEqual(block.input)
        }
        expect(new Set(of("ToolInputDelta").map((e) => e.index))).toEqual(new Set([3, 4]))
      })
    )
  )

  it.effect("the next turn sends the answer back unchanged, with a tool_result for each tool_use", () =>
    withProvider(
      { answer: ({ index }) => (index === 0 ? answer : [FakeAnthropic.text("Sunny in both.")]) },
      (provider, fake) =>
        Effect.gen(function* () {
          const first = yield* provider.complete(request)
          const results = first.content.flatMap((block) =>
            block.type === "tool_use"
              ? [
                  {
                    type: "tool_result" as const,
                    toolUseId: block.id,
                    content: `sunny in ${JSON.stringify(block.input)}`
                  }
                ]
              : []
          )
          const next = yield* provider.complete({
            ...request,
            messages: [
              ...request.messages,
              { role: "assistant", content: first.content },
              { role: "user", content: results }
            ]
          })
          expect(next).toMatchObject({ text: "Sunny in both.", stopReason: "end_turn" })
          const [, sent] = yield* bodiesTo(fake, "/v1/messages")
          // Thinking (signature and all), redacted thinking and tool calls go back as they came.
          expect(sent).toMatchObject({
            messages: [
              { role: "user", content: "Weather in Oslo and Bergen?" },
              { role: "assistant", content: first.content },
              {
                role: "user",
                content: results.map((r) => ({ type: "tool_result", tool_use_id: r.toolUseId, content: r.content }))
              }
            ]
          })
        })
    )
  )

  it.effect("a streamed answer cut before its end is refused as the stream it is, not a short answer", () =>
    withProvider({ answer: () => answer, script: () => FakeAnthropic.dropMidStream(6) }, (provider) =>
      Effect.gen(function* () {
        const parts: Array<ProviderStreamEvent> = []
        const error = yield* Effect.flip(provider.streamTo(request, (events) => parts.push(...events)))
        expect(error._tag).toBe("ProviderUnavailable")
        expect(parts.some((e) => e._tag === "ThinkingDelta" || e._tag === "ToolInputDelta")).toBe(true)
      })
    )
  )
})
