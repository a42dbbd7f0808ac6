import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import { fromMessage } from "../src/internal/answer.js"
import { redacted, sdkMessage, sdkUsage, serverToolUse, text, thinking, toolUse } from "./support/sdk.js"

const errorOf = (message: unknown): string => {
  const result = fromMessage(message)
  return Either.isLeft(result) ? result.left : "no error"
}

describe("an answer decoded", () => {
  it("every block in order, text blocks joined, a server tool's blocks left out, null cache counts as 0", () => {
    const message = sdkMessage(
      [
        text("a"),
        thinking("…", "sig"),
        redacted("EmwK"),
        serverToolUse("srvtoolu_1", {}),
        toolUse("toolu_1", "search", { q: "oslo" }),
        text("b")
      ],
      "tool_use",
      { ...sdkUsage(12, 7), cache_creation: { ephemeral_1h_input_tokens: 3, ephemeral_5m_input_tokens: 0 } }
    )
    expect(fromMessage(message)).toEqual(
      Either.right({
        text: "ab",
        content: [
          { type: "text", text: "a" },
          { type: "thinking", thinking: "…", signature: "sig" },
          { type: "redacted_thinking", data: "EmwK" },
          { type: "tool_use", id: "toolu_1", name: "search", input: { q: "oslo" } },
          { type: "text", text: "b" }
        ],
        model: "claude-haiku-4-5",
        stopReason: "tool_use",
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

  it("a tool's input is the object the answer holds, not a copy that could lose a key", () => {
    const input = JSON.parse('{"__proto__": {"x": 1}, "y": 2}')
    const completion = Either.getOrThrow(fromMessage(sdkMessage([toolUse("toolu_1", "set", input)], "tool_use")))
    expect(completion.content).toEqual([{ type: "tool_use", id: "toolu_1", name: "set", input }])
    expect(completion.content[0]?.type === "tool_use" && completion.content[0].input).toBe(input)
  })

  it("a body that is not a Message is refused, saying where", () => {
    expect(errorOf(sdkMessage([], null, { ...sdkUsage(1, 1), output_tokens: Number.NaN }))).toBe(
      "usage.output_tokens Expected a finite number, actual NaN"
    )
    expect(errorOf({ ...sdkMessage([]), content: "hi" })).toContain("content Expected")
    expect(errorOf('{"type":"mess')).toBe('Expected a Message, actual "{\\"type\\":\\"mess"')
  })

  it("a malformed text, tool_use or thinking block is a malformed answer (it was billed), naming the block", () => {
    const bad: ReadonlyArray<readonly [unknown, string]> = [
      [{ type: "text" }, "content[1].text is required"],
      [{ type: "text", text: 5 }, "content[1].text Expected string, actual 5"],
      [{ type: "tool_use", name: "search", input: {} }, "content[1].id is required"],
      [{ type: "tool_use", id: "toolu_1", input: {} }, "content[1].name is required"],
      [{ type: "tool_use", id: "toolu_1", name: "search" }, "content[1].input is required"],
      [{ type: "tool_use", id: "toolu_1", name: "search", input: [1] }, "content[1].input must be a JSON object"],
      [{ type: "tool_use", id: "toolu_1", name: "search", input: "q=oslo" }, "content[1].input Expected"],
      [{ type: "thinking", thinking: "…" }, "content[1].signature is required"],
      [{ type: "redacted_thinking" }, "content[1].data is required"],
      // Not even a block: not taken for a server tool's.
      [null, "content[1] Expected a content block, actual null"],
      ["text", "content[1] Expected a content block"],
      [{ text: "a" }, "content[1].type is required"],
      [{ type: 7 }, "content[1].type Expected string, actual 7"]
    ]
    for (const [block, why] of bad) {
      expect(errorOf({ ...sdkMessage([text("ok")]), content: [text("ok"), block] })).toContain(why)
    }
  })
})
