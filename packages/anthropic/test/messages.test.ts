import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import { fromMessage, initialState, onEvent, toParams } from "../src/internal/messages.js"

const request = { model: "claude-haiku-4-5", maxTokens: 64, messages: [{ role: "user" as const, content: "hi" }] }
const usage = {
  input_tokens: 12,
  output_tokens: 7,
  cache_creation_input_tokens: null,
  cache_read_input_tokens: null,
  cache_creation: null
}

describe("Messages API ↔ fleetguard", () => {
  it("a request becomes the API's body, with caching asked for at the top level", () => {
    expect(toParams({ ...request, system: "be brief", cache: "1h" })).toEqual(
      Either.right({
        model: "claude-haiku-4-5",
        max_tokens: 64,
        messages: [{ role: "user", content: "hi" }],
        system: "be brief",
        cache_control: { type: "ephemeral", ttl: "1h" }
      })
    )
  })

  it("a Message becomes a completion: every block in order, text blocks joined, null cache counts as 0", () => {
    const message = {
      model: "claude-haiku-4-5",
      stop_reason: "end_turn",
      content: [
        { type: "text", text: "a" },
        { type: "thinking", thinking: "…", signature: "sig" },
        { type: "server_tool_use", id: "srvtoolu_1", name: "web_search", input: {} },
        { type: "text", text: "b" }
      ],
      usage: { ...usage, cache_creation: { ephemeral_1h_input_tokens: 3, ephemeral_5m_input_tokens: 0 } }
    }
    expect(fromMessage(message)).toEqual(
      Either.right({
        text: "ab",
        content: [
          { type: "text", text: "a" },
          { type: "thinking", thinking: "…", signature: "sig" },
          { type: "text", text: "b" }
        ],
        model: "claude-haiku-4-5",
        stopReason: "end_turn",
        usage: {
          inputTokens: 12,
          outputTokens: 7,
          cacheCreationInputTokens: 0,
          cacheReadInputTokens: 0,
          cacheCreation1hInputTokens: 3
        }
      })
    )
  })

  it("a body that is not a Message is refused, saying where", () => {
    const result = fromMessage({ model: "m", stop_reason: null, content: [], usage: { ...usage, output_tokens: "7" } })
    expect(Either.isLeft(result) && result.left).toContain("output_tokens")
    expect(Either.isLeft(fromMessage('{"type":"mess'))).toBe(true)
  })

  it("stream events fold into usage, deltas and the completion; unpriced events are skipped", () => {
    const state = initialState(request)
    const emitted = [
      { type: "message_start", message: { model: "claude-haiku-4-5", usage: { ...usage, output_tokens: 1 } } },
      { type: "ping" },
      { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
      { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Hel" } },
      { type: "content_block_delta", index: 0, delta: { type: "input_json_delta", partial_json: "{" } },
      { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "lo" } },
      { type: "content_block_stop", index: 0 },
      { type: "message_delta", delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: 5 } },
      { type: "message_stop" }
    ].flatMap((event) => Either.getOrThrow(onEvent(state, event)))
    expect(emitted.map((e) => e._tag)).toEqual(["Usage", "TextDelta", "TextDelta", "Usage", "Done"])
    expect(emitted.at(-1)).toEqual({
      _tag: "Done",
      completion: {
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
      }
    })
  })

  it("a priced event with a bad shape, or out of order, is an error", () => {
    expect(Either.isLeft(onEvent(initialState(request), { type: "message_start", message: {} }))).toBe(true)
    expect(Either.isLeft(onEvent(initialState(request), { type: "message_stop" }))).toBe(true)
    expect(
      Either.isLeft(onEvent(initialState(request), { type: "content_block_delta", delta: { type: "text_delta" } }))
    ).toBe(true)
  })
})
