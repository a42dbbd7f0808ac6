import type Anthropic from "@anthropic-ai/sdk"
import { describe, expect, it } from "@effect/vitest"
import type { ProviderStreamEvent } from "@fleetguard/core"
import { Either, FastCheck as fc } from "effect"
import { fromMessage } from "../src/internal/answer.js"
import { initialState, onEvent } from "../src/internal/stream.js"
import {
  type Cut,
  redacted,
  sdkMessage,
  sdkUsage,
  serverToolUse,
  streamOf,
  text,
  thinking,
  toolUse
} from "./support/sdk.js"

const request = { model: "claude-haiku-4-5", maxTokens: 64, messages: [{ role: "user" as const, content: "hi" }] }

/** Every event folded: what was emitted, or the first error. */
const fold = (events: ReadonlyArray<unknown>): Either.Either<Array<ProviderStreamEvent>, string> => {
  const state = initialState(request)
  const out: Array<ProviderStreamEvent> = []
  for (const event of events) {
    const result = onEvent(state, event)
    if (Either.isLeft(result)) return Either.left(result.left)
    if (result.right !== undefined) out.push(result.right)
  }
  return Either.right(out)
}

const done = (events: ReadonlyArray<ProviderStreamEvent>) => {
  const last = events.at(-1)
  return last?._tag === "Done" ? last.completion : undefined
}

const errorOf = (events: ReadonlyArray<unknown>): string => {
  const result = fold(events)
  return Either.isLeft(result) ? result.left : "no error"
}

const start = (index: number, content_block: Anthropic.RawContentBlockStartEvent["content_block"]) => ({
  type: "content_block_start",
  index,
  content_block
})
const delta = (index: number, d: Anthropic.RawContentBlockDelta) => ({ type: "content_block_delta", index, delta: d })
const stop = (index: number) => ({ type: "content_block_stop", index })
const [head] = streamOf(sdkMessage([]))
const tail = streamOf(sdkMessage([], "tool_use")).slice(-2)

describe("a stream folded", () => {
  it("text, usage, then the completion; ping and citations carry nothing", () => {
    const events = [
      head,
      { type: "ping" },
      start(0, text("")),
      delta(0, { type: "text_delta", text: "Hel" }),
      delta(0, {
        type: "citations_delta",
        citation: {
          type: "char_location",
          cited_text: "x",
          document_index: 0,
          document_title: null,
          start_char_index: 0,
          end_char_index: 1,
          file_id: null
        }
      }),
      delta(0, { type: "text_delta", text: "lo" }),
      stop(0),
      ...streamOf(sdkMessage([], "end_turn", sdkUsage(12, 5))).slice(-2)
    ]
    const emitted = Either.getOrThrow(fold(events))
    expect(emitted.map((e) => e._tag)).toEqual(["Usage", "TextDelta", "TextDelta", "Usage", "Done"])
    expect(done(emitted)).toEqual({
      text: "Hello",
      content: [{ type: "text", text: "Hello" }],
      model: "claude-haiku-4-5",
      stopReason: "end_turn",
      usage: {
        inputTokens: 12,
        outputTokens: 5,
        cacheCreationInputTokens: 0,
        cacheReadInputTokens: 0,
        cacheCreation1hInputTokens: undefined
      }
    })
  })

  it("a tool's input arrives as ToolInputDelta pieces (index, id, name) and is parsed at the block's stop", () => {
    const events = [
      head,
      start(0, text("")),
      delta(0, { type: "text_delta", text: "Looking." }),
      stop(0),
      start(1, toolUse("toolu_1", "search", {})),
      delta(1, { type: "input_json_delta", partial_json: "" }),
      delta(1, { type: "input_json_delta", partial_json: '{"q": "os' }),
      delta(1, { type: "input_json_delta", partial_json: 'lo", "n": 3}' }),
      stop(1),
      ...tail
    ]
    const emitted = Either.getOrThrow(fold(events))
    expect(emitted.filter((e) => e._tag === "ToolInputDelta")).toEqual([
      { _tag: "ToolInputDelta", index: 1, id: "toolu_1", name: "search", partialJson: "" },
      { _tag: "ToolInputDelta", index: 1, id: "toolu_1", name: "search", partialJson: '{"q": "os' },
      { _tag: "ToolInputDelta", index: 1, id: "toolu_1", name: "search", partialJson: 'lo", "n": 3}' }
    ])
    expect(done(emitted)).toMatchObject({
      text: "Looking.",
      content: [
        { type: "text", text: "Looking." },
        { type: "tool_use", id: "toolu_1", name: "search", input: { q: "oslo", n: 3 } }
      ],
      stopReason: "tool_use"
    })
  })

  it("a tool's input is kept as parsed, whatever its keys (a __proto__ key is not lost to a copy)", () => {
    const events = [
      head,
      start(0, toolUse("toolu_1", "set", {})),
      delta(0, { type: "input_json_delta", partial_json: '{"__proto__": {"x": 1}, "y": 2}' }),
      stop(0),
      ...tail
    ]
    const [block] = done(Either.getOrThrow(fold(events)))?.content ?? []
    expect(block?.type === "tool_use" && Object.keys(block.input ?? {})).toEqual(["__proto__", "y"])
  })

  it("a tool with no input JSON at all has the input {}", () => {
    const events = [head, start(0, toolUse("toolu_1", "now", {})), stop(0), ...tail]
    expect(done(Either.getOrThrow(fold(events)))?.content).toEqual([
      { type: "tool_use", id: "toolu_1", name: "now", input: {} }
    ])
  })

  it("thinking arrives as ThinkingDelta; its signature is gathered, not emitted; redacted thinking comes whole", () => {
    const events = [
      head,
      start(0, thinking("", "")),
      delta(0, { type: "thinking_delta", thinking: "Let me " }),
      delta(0, { type: "thinking_delta", thinking: "see." }),
      delta(0, { type: "signature_delta", signature: "EqQB" }),
      delta(0, { type: "signature_delta", signature: "Ckg=" }),
      stop(0),
      start(1, redacted("EmwKAhgB")),
      stop(1),
      start(2, text("")),
      delta(2, { type: "text_delta", text: "4" }),
      stop(2),
      ...tail
    ]
    const emitted = Either.getOrThrow(fold(events))
    expect(emitted.filter((e) => e._tag === "ThinkingDelta")).toEqual([
      { _tag: "ThinkingDelta", thinking: "Let me " },
      { _tag: "ThinkingDelta", thinking: "see." }
    ])
    expect(done(emitted)?.content).toEqual([
      { type: "thinking", thinking: "Let me see.", signature: "EqQBCkg=" },
      { type: "redacted_thinking", data: "EmwKAhgB" },
      { type: "text", text: "4" }
    ])
  })

  it("a server tool's blocks and their input JSON are skipped, the blocks after them kept in order", () => {
    const message = sdkMessage([
      serverToolUse("srvtoolu_1", { query: "fleetguard" }),
      {
        type: "web_search_tool_result",
        tool_use_id: "srvtoolu_1",
        content: [],
        caller: { type: "direct" }
      },
      text("Found it.")
    ])
    const emitted = Either.getOrThrow(fold(streamOf(message)))
    expect(emitted.map((e) => e._tag)).toEqual(["Usage", "TextDelta", "Usage", "Done"])
    expect(done(emitted)?.content).toEqual([{ type: "text", text: "Found it." }])
  })

  it("a tool's input that is not JSON, or not an object, makes the stream malformed", () => {
    const withInput = (json: string) => [
      head,
      start(0, toolUse("toolu_1", "search", {})),
      delta(0, { type: "input_json_delta", partial_json: json }),
      stop(0),
      ...tail
    ]
    expect(errorOf(withInput('{"q": "os'))).toBe("the input of tool_use block 0 (search) is not JSON")
    expect(errorOf(withInput("[1, 2]"))).toBe("the input of tool_use block 0 (search) is not a JSON object")
    expect(errorOf(withInput("null"))).toBe("the input of tool_use block 0 (search) is not a JSON object")
  })

  it("a used event with a bad shape, or out of order, is an error", () => {
    const bad: ReadonlyArray<readonly [ReadonlyArray<unknown>, string]> = [
      [[{ type: "message_start", message: {} }], "message_start: message.model is required"],
      [[{ type: "message_stop" }], "message_stop before message_start"],
      [
        [head, { type: "content_block_delta", index: 0, delta: { type: "text_delta" } }],
        "text_delta: delta.text is required"
      ],
      [[head, delta(0, { type: "text_delta", text: "x" })], "text_delta for block 0, which is not open"],
      [[head, start(0, text("")), delta(0, { type: "input_json_delta", partial_json: "{" })], "a text block"],
      [[head, start(0, toolUse("t", "n", {})), delta(0, { type: "text_delta", text: "x" })], "a tool_use block"],
      [[head, start(0, text("")), delta(0, { type: "thinking_delta", thinking: "x" })], "a text block"],
      [[head, start(0, text("")), delta(0, { type: "signature_delta", signature: "x" })], "a text block"],
      [[head, start(0, text("")), start(0, text(""))], "content_block_start for block 0 a second time"],
      [[head, start(0, text("")), stop(0), stop(0)], "content_block_stop for block 0, which is not open"],
      [[head, start(0, text("")), stop(0), delta(0, { type: "text_delta", text: "x" })], "which is not open"],
      [[head, start(0, text("")), ...tail], "message_stop before content_block_stop for block 0"],
      [[head, start(-1, text(""))], "content_block_start: index Expected a non-negative number, actual -1"],
      [[head, start(0.5, text(""))], "index"],
      [
        [head, { type: "content_block_start", index: 0, content_block: { type: "tool_use", id: "t" } }],
        "content_block_start: content_block.name is required"
      ],
      [[head, { type: "content_block_start", index: 0, content_block: { type: "thinking" } }], "thinking"],
      [[head, { type: "content_block_start", index: 0, content_block: { type: "redacted_thinking" } }], "data"],
      [[head, { type: "content_block_start", index: 0, content_block: {} }], "type"],
      [[head, { type: "content_block_start", index: 0 }], "content_block"],
      [[head, { type: "content_block_stop" }], "index"],
      [[{ type: "message_delta", delta: { stop_reason: null }, usage: { output_tokens: 1 } }], "before message_start"],
      [[head, { type: "message_delta", delta: { stop_reason: null }, usage: { output_tokens: -1 } }], "output_tokens"]
    ]
    for (const [events, why] of bad) expect(errorOf(events)).toContain(why)
  })

  it("events of kinds newer than this code, and deltas of kinds it does not use, carry nothing", () => {
    const events = [
      head,
      { type: "message_something_new", whatever: 1 },
      start(0, text("")),
      { type: "content_block_delta", index: 0, delta: { type: "new_delta", x: 1 } },
      stop(0),
      ...tail
    ]
    expect(Either.getOrThrow(fold(events)).map((e) => e._tag)).toEqual(["Usage", "Usage", "Done"])
  })
})

// Arbitrary answers mixing every carried block kind and a server tool's, streamed with arbitrary cuts.
const word = fc.string({ minLength: 0, maxLength: 12 })
const json = fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 })
const block: fc.Arbitrary<Anthropic.ContentBlock> = fc.oneof(
  word.map(text),
  fc.tuple(fc.uuid(), word, json).map(([id, name, input]) => toolUse(`toolu_${id}`, name, input)),
  fc.tuple(word, word).map(([t, signature]) => thinking(t, signature)),
  word.map(redacted),
  fc.tuple(fc.uuid(), json).map(([id, input]) => serverToolUse(`srvtoolu_${id}`, input))
)
/** Cuts a string at the given fractions of its length (UTF-16 units: a cut may split a pair, as the API's may not). */
const cutAt =
  (points: ReadonlyArray<number>): Cut =>
  (s) => {
    const at = [...new Set(points.map((p) => Math.floor(p * s.length)))].sort((a, b) => a - b)
    return [0, ...at, s.length].slice(1).map((end, i, ends) => s.slice(i === 0 ? 0 : ends[i - 1], end))
  }

describe("a stream folded, for arbitrary answers", () => {
  it.prop(
    "its completion is the one the same answer gives unstreamed; deltas joined are its text, tool inputs and thinking",
    [fc.array(block, { maxLength: 6 }), fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 4 })],
    ([content, points]) => {
      const message = sdkMessage(content, content.some((b) => b.type === "tool_use") ? "tool_use" : "end_turn")
      const emitted = Either.getOrThrow(fold(streamOf(message, cutAt(points))))
      const completion = Either.getOrThrow(fromMessage(message))
      expect(done(emitted)).toEqual(completion)
      const parts = (tag: ProviderStreamEvent["_tag"]) => emitted.filter((e) => e._tag === tag)
      expect(
        parts("TextDelta")
          .map((e) => (e._tag === "TextDelta" ? e.text : ""))
          .join("")
      ).toBe(completion.text)
      expect(
        parts("ThinkingDelta")
          .map((e) => (e._tag === "ThinkingDelta" ? e.thinking : ""))
          .join("")
      ).toBe(content.map((b) => (b.type === "thinking" ? b.thinking : "")).join(""))
      for (const [index, b] of content.entries()) {
        if (b.type !== "tool_use") continue
        const pieces = emitted.flatMap((e) => (e._tag === "ToolInputDelta" && e.index === index ? [e] : []))
        expect(pieces.every((p) => p.id === b.id && p.name === b.name)).toBe(true)
        expect(JSON.parse(pieces.map((p) => p.partialJson).join("") || "{}")).toEqual(b.input)
      }
    },
    { fastCheck: { numRuns: 200 } }
  )
})
