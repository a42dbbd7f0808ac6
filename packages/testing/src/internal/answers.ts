/**
 * What FakeAnthropic and TestProvider share about the answers they make up: how a block is cut into
 * deltas the way the API streams it, and the output tokens it is billed (~4 UTF-8 bytes a token).
 */
import { type AnswerBlock, Pricing } from "@fleetguard/core"
import type { FakeBlock as Block } from "./fakeAnthropicModel.js"

/** Text as deltas that concatenate back to it: each word with the whitespace before it. */
export const words = (text: string): ReadonlyArray<string> => (text.length === 0 ? [] : text.split(/(?=\s+\S)/))

/** A tool's input as JSON (what its input_json_delta pieces join into). */
export const inputJson = (input: unknown): string => JSON.stringify(input ?? {})

/** The code points of a piece of input JSON per delta: small, as the API sends them, so clients join several. */
const jsonChunkLength = 8

/** `json` in pieces of a few code points (never splitting a surrogate pair), at least one. */
export const jsonChunks = (json: string): ReadonlyArray<string> => {
  const points = Array.from(json)
  const chunks: Array<string> = []
  for (let i = 0; i < points.length; i += jsonChunkLength) chunks.push(points.slice(i, i + jsonChunkLength).join(""))
  return chunks.length === 0 ? [""] : chunks
}

/** The bytes of what the model generates for a block: text, tool input JSON, thinking (redacted: its data). */
export const generatedBytes = (block: Block): number => {
  switch (block.type) {
    case "text":
      return Pricing.byteLength(block.text)
    case "tool_use":
      return Pricing.byteLength(inputJson(block.input))
    case "thinking":
      return Pricing.byteLength(block.thinking)
    case "redacted_thinking":
      return Pricing.byteLength(block.data)
  }
}

/** One delta of a block, as the API streams it: a word of text or thinking, a piece of tool input JSON, a signature. */
export type Piece =
  | { readonly kind: "text" | "thinking" | "signature"; readonly value: string }
  | { readonly kind: "input"; readonly value: string; readonly id: string; readonly name: string }

/** A block's deltas, in order: text and thinking by word, tool input in pieces of its JSON, then a thinking's signature. */
export const pieces = (block: AnswerBlock): ReadonlyArray<Piece> => {
  switch (block.type) {
    case "text":
      return words(block.text).map((value) => ({ kind: "text", value }))
    case "tool_use":
      return jsonChunks(inputJson(block.input)).map((value) => ({
        kind: "input",
        value,
        id: block.id,
        name: block.name
      }))
    case "thinking":
      return [
        ...words(block.thinking).map((value) => ({ kind: "thinking" as const, value })),
        { kind: "signature", value: block.signature }
      ]
    case "redacted_thinking":
      return []
  }
}

/** Bytes as tokens: ~4 UTF-8 bytes a token, rounded up. */
export const bytesToTokens = (bytes: number): number => Math.ceil(bytes / 4)

/** The output tokens of `blocks`: ceil(bytes / 4) of everything generated. */
export const outputTokens = (blocks: ReadonlyArray<Block>): number =>
  bytesToTokens(blocks.reduce((n, block) => n + generatedBytes(block), 0))

/** Why an answer of `blocks` stopped when nothing cut it: `tool_use` when it asks for a tool. */
export const stopReasonOf = (blocks: ReadonlyArray<Block>): "tool_use" | "end_turn" =>
  blocks.some((block) => block.type === "tool_use") ? "tool_use" : "end_turn"

/**
 * The blocks of answer `name` as sent: a tool_use without an id gets `toolu_<name>` (`_<index>`
 * after it, past the first block), a thinking block without a signature `sig_<name>_<index>`.
 */
export const withIds = (blocks: ReadonlyArray<Block>, name: string): ReadonlyArray<AnswerBlock> =>
  blocks.map((block, i): AnswerBlock => {
    switch (block.type) {
      case "tool_use":
        return {
          type: "tool_use",
          id: block.id ?? `toolu_${name}${i === 0 ? "" : `_${i}`}`,
          name: block.name,
          input: block.input
        }
      case "thinking":
        return { type: "thinking", thinking: block.thinking, signature: block.signature ?? `sig_${name}_${i}` }
      default:
        return block
    }
  })
