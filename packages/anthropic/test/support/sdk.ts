/**
 * Answers and streams shaped by the SDK's own types (every field the SDK's `Message` and
 * `RawMessageStreamEvent` require), so that what the decoders are tested on is what the SDK hands
 * them.
 */
import type Anthropic from "@anthropic-ai/sdk"

export const sdkUsage = (input: number, output: number): Anthropic.Usage => ({
  input_tokens: input,
  output_tokens: output,
  cache_creation_input_tokens: null,
  cache_read_input_tokens: null,
  cache_creation: null,
  inference_geo: null,
  output_tokens_details: null,
  server_tool_use: null,
  service_tier: "standard",
  speed: null
})

export const sdkMessage = (
  content: Array<Anthropic.ContentBlock>,
  stopReason: Anthropic.StopReason | null = "end_turn",
  usage: Anthropic.Usage = sdkUsage(12, 7)
): Anthropic.Message => ({
  id: "msg_1",
  type: "message",
  role: "assistant",
  model: "claude-haiku-4-5",
  container: null,
  diagnostics: null,
  stop_details: null,
  stop_reason: stopReason,
  stop_sequence: null,
  content,
  usage
})

export const text = (t: string): Anthropic.TextBlock => ({ type: "text", text: t, citations: null })
export const toolUse = (id: string, name: string, input: unknown): Anthropic.ToolUseBlock => ({
  type: "tool_use",
  id,
  name,
  input,
  caller: { type: "direct" }
})
export const thinking = (t: string, signature: string): Anthropic.ThinkingBlock => ({
  type: "thinking",
  thinking: t,
  signature
})
export const redacted = (data: string): Anthropic.RedactedThinkingBlock => ({ type: "redacted_thinking", data })
export const serverToolUse = (id: string, input: unknown): Anthropic.ServerToolUseBlock => ({
  type: "server_tool_use",
  id,
  name: "web_search",
  input,
  caller: { type: "direct" }
})

/** How a block's streamed text is cut into deltas: by default, not at all. */
export type Cut = (whole: string) => ReadonlyArray<string>
const whole: Cut = (s) => (s === "" ? [] : [s])

const delta = (index: number, d: Anthropic.RawContentBlockDelta): Anthropic.RawContentBlockDeltaEvent => ({
  type: "content_block_delta",
  index,
  delta: d
})

/** The start and the deltas of one block, as the API streams it (a start holds none of what the deltas bring). */
const blockEvents = (
  block: Anthropic.ContentBlock,
  index: number,
  cut: Cut
): Array<Anthropic.RawMessageStreamEvent> => {
  switch (block.type) {
    case "text":
      return [
        { type: "content_block_start", index, content_block: text("") },
        ...cut(block.text).map((t) => delta(index, { type: "text_delta", text: t }))
      ]
    case "tool_use":
    case "server_tool_use":
      return [
        { type: "content_block_start", index, content_block: { ...block, input: {} } },
        ...cut(JSON.stringify(block.input)).map((json) =>
          delta(index, { type: "input_json_delta", partial_json: json })
        )
      ]
    case "thinking":
      return [
        { type: "content_block_start", index, content_block: thinking("", "") },
        ...cut(block.thinking).map((t) => delta(index, { type: "thinking_delta", thinking: t })),
        delta(index, { type: "signature_delta", signature: block.signature })
      ]
    default:
      return [{ type: "content_block_start", index, content_block: block }]
  }
}

/** The SSE events the API sends for `message`, each block's text, JSON and thinking cut by `cut`. */
export const streamOf = (message: Anthropic.Message, cut: Cut = whole): Array<Anthropic.RawMessageStreamEvent> => [
  { type: "message_start", message: { ...message, content: [], stop_reason: null, usage: sdkUsage(12, 1) } },
  ...message.content.flatMap(
    (block, index): Array<Anthropic.RawMessageStreamEvent> => [
      ...blockEvents(block, index, cut),
      { type: "content_block_stop", index }
    ]
  ),
  {
    type: "message_delta",
    delta: { stop_reason: message.stop_reason, stop_sequence: null, stop_details: null, container: null },
    usage: {
      output_tokens: message.usage.output_tokens,
      input_tokens: null,
      cache_creation_input_tokens: null,
      cache_read_input_tokens: null,
      output_tokens_details: null,
      server_tool_use: null
    }
  },
  { type: "message_stop" }
]
