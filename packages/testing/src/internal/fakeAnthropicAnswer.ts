/**
 * FakeAnthropic's answers: the default one or a scripted one, cut where the API would cut it
 * (max_tokens, a stop sequence), then, once given ids and signatures (answers.ts), written as a
 * Message or as the frames of a stream. Pure; the server remembers what it sent
 * (fakeAnthropicHistory.ts).
 */
import { type AnswerBlock, Pricing } from "@fleetguard/core"
import * as Answers from "./answers.js"
import type { FakeAnswer, FakeBlock } from "./fakeAnthropicModel.js"
import * as Protocol from "./fakeAnthropicProtocol.js"

export type StopReason = "end_turn" | "max_tokens" | "tool_use" | "stop_sequence"

/** What a call is answered with, before ids and signatures are given. */
export interface Reply {
  readonly content: ReadonlyArray<FakeBlock>
  readonly stopReason: StopReason
  readonly stopSequence: string | null
  readonly outputTokens: number
}

const lorem = ["lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing", "elit", "sed", "do", "eiusmod"]

/**
 * `outputTokens` words of lorem ipsum, a token each, cut at max_tokens; or, when the request forces
 * a tool and does not stream, one tool_use of that tool with `toolInput` (the same tokens reported).
 */
export const defaultReply = (request: Protocol.ParsedRequest, outputTokens: number, toolInput: unknown): Reply => {
  const n = Math.min(outputTokens, request.maxTokens)
  if (request.forcedTool !== undefined && !request.stream) {
    const content = [{ type: "tool_use" as const, name: request.forcedTool, input: toolInput }]
    return { content, stopReason: "tool_use", stopSequence: null, outputTokens: n }
  }
  const text = Array.from({ length: n }, (_, i) => lorem[i % lorem.length]).join(" ")
  const stopReason = outputTokens > request.maxTokens ? "max_tokens" : "end_turn"
  return { content: [{ type: "text", text }], stopReason, stopSequence: null, outputTokens: n }
}

/** The longest prefix of `text` within `bytes` UTF-8 bytes, whole code points only. */
const prefixWithin = (text: string, bytes: number): string => {
  let prefix = ""
  let used = 0
  for (const point of text) {
    used += Pricing.byteLength(point)
    if (used > bytes) break
    prefix += point
  }
  return prefix
}

/** Where the first of `sequences` starts in `text`, and which one. */
const firstStop = (text: string, sequences: ReadonlyArray<string>) => {
  let found: { readonly at: number; readonly sequence: string } | undefined
  for (const sequence of sequences) {
    const at = sequence.length === 0 ? -1 : text.indexOf(sequence)
    if (at >= 0 && (found === undefined || at < found.at)) found = { at, sequence }
  }
  return found
}

/** A scripted answer as generated for `request`: cut at max_tokens or at a stop sequence, like the API. */
export const scriptedReply = (answer: FakeAnswer, request: Protocol.ParsedRequest): Reply => {
  const content: Array<FakeBlock> = []
  let left = request.maxTokens * 4
  const cut = (): Reply => ({ content, stopReason: "max_tokens", stopSequence: null, outputTokens: request.maxTokens })
  for (const block of answer) {
    const stop = block.type === "text" ? firstStop(block.text, request.stopSequences) : undefined
    const kept = block.type === "text" && stop !== undefined ? { ...block, text: block.text.slice(0, stop.at) } : block
    const bytes = Answers.generatedBytes(kept)
    if (bytes > left) {
      // Text and thinking are cut where the tokens run out; a tool call or redacted thinking is left out whole.
      const partial =
        kept.type === "text"
          ? { ...kept, text: prefixWithin(kept.text, left) }
          : kept.type === "thinking"
            ? { ...kept, thinking: prefixWithin(kept.thinking, left) }
            : undefined
      if (partial !== undefined && Answers.generatedBytes(partial) > 0) content.push(partial)
      return cut()
    }
    content.push(kept)
    left -= bytes
    if (stop !== undefined) {
      return {
        content,
        stopReason: "stop_sequence",
        stopSequence: stop.sequence,
        outputTokens: Answers.outputTokens(content)
      }
    }
  }
  return {
    content,
    stopReason: Answers.stopReasonOf(content),
    stopSequence: null,
    outputTokens: Answers.outputTokens(content)
  }
}

const direct = { type: "direct" } as const

/** A block as the Message holds it (the fields the SDK's types give every block). */
const messageBlock = (block: AnswerBlock) =>
  block.type === "text"
    ? { type: "text", text: block.text, citations: null }
    : block.type === "tool_use"
      ? { type: "tool_use", id: block.id, name: block.name, input: block.input, caller: direct }
      : block

/** The Message answering `request`. */
export const message = (
  messageId: string,
  request: Protocol.ParsedRequest,
  reply: Reply,
  blocks: ReadonlyArray<AnswerBlock>
) => ({
  ...Protocol.envelope(messageId, request.model),
  content: blocks.map(messageBlock),
  stop_reason: reply.stopReason,
  stop_sequence: reply.stopSequence,
  usage: Protocol.usage(request.inputTokens, reply.outputTokens)
})

/** A frame of a stream, and whether it is a delta (which a fault counts, and `deltaInterval` paces). */
export interface Item {
  readonly frame: Uint8Array
  readonly delta: boolean
}

/** How a block starts in a stream: empty, as the API starts it (redacted thinking whole). */
const startBlock = (block: AnswerBlock) =>
  block.type === "text"
    ? { type: "text", text: "", citations: null }
    : block.type === "tool_use"
      ? { type: "tool_use", id: block.id, name: block.name, input: {}, caller: direct }
      : block.type === "thinking"
        ? { type: "thinking", thinking: "", signature: "" }
        : block

/** A delta as the API writes it. */
const delta = (piece: Answers.Piece) =>
  piece.kind === "text"
    ? { type: "text_delta", text: piece.value }
    : piece.kind === "input"
      ? { type: "input_json_delta", partial_json: piece.value }
      : piece.kind === "thinking"
        ? { type: "thinking_delta", thinking: piece.value }
        : { type: "signature_delta", signature: piece.value }

/** The frames of every block: content_block_start, its deltas, content_block_stop. */
export const streamBody = (blocks: ReadonlyArray<AnswerBlock>): ReadonlyArray<Item> =>
  blocks.flatMap((block, index) => [
    {
      delta: false,
      frame: Protocol.frame("content_block_start", {
        type: "content_block_start",
        index,
        content_block: startBlock(block)
      })
    },
    ...Answers.pieces(block).map((piece) => ({
      delta: true,
      frame: Protocol.frame("content_block_delta", { type: "content_block_delta", index, delta: delta(piece) })
    })),
    { delta: false, frame: Protocol.frame("content_block_stop", { type: "content_block_stop", index }) }
  ])

/** message_delta (the stop reason, the cumulative usage) and message_stop. */
export const streamTail = (request: Protocol.ParsedRequest, reply: Reply): ReadonlyArray<Uint8Array> => [
  Protocol.frame("message_delta", {
    type: "message_delta",
    delta: { stop_reason: reply.stopReason, stop_sequence: reply.stopSequence },
    usage: {
      input_tokens: request.inputTokens,
      output_tokens: reply.outputTokens,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0
    }
  }),
  Protocol.frame("message_stop", { type: "message_stop" })
]
