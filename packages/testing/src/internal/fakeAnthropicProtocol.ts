/**
 * The Messages API wire format as FakeAnthropic speaks it: request checks, deterministic token
 * counts and replies, SSE frames and error bodies. Pure functions; fakeAnthropicServer.ts does I/O.
 */
import { Pricing, statusOfErrorType } from "@fleetguard/core"
import { Either } from "effect"

export interface ParsedRequest {
  readonly model: string
  /** 0 for count_tokens, which does not take it. */
  readonly maxTokens: number
  readonly stream: boolean
  readonly inputTokens: number
  /** The tool `tool_choice: { type: "tool", name }` forces, as @effect/ai's generateObject sends it. */
  readonly forcedTool: string | undefined
}

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/** The text of a `string | [{ type: "text", text }]` field; other block kinds (images, tools) count nothing. */
const texts = (content: unknown): ReadonlyArray<string> =>
  typeof content === "string"
    ? [content]
    : Array.isArray(content)
      ? content.flatMap((block) =>
          isRecord(block) && block.type === "text" && typeof block.text === "string" ? [block.text] : []
        )
      : []

/**
 * ~4 UTF-8 bytes a token, rounded up: never more tokens than bytes, which is what fleetguard's
 * pricing relies on when it bounds input tokens by bytes.
 */
export const inputTokens = (system: unknown, messages: ReadonlyArray<unknown>): number => {
  const all = [...texts(system), ...messages.flatMap((m) => (isRecord(m) ? texts(m.content) : []))]
  return Math.ceil(all.reduce((n, text) => n + Pricing.byteLength(text), 0) / 4)
}

const forcedTool = (choice: unknown): string | undefined =>
  isRecord(choice) && choice.type === "tool" && typeof choice.name === "string" ? choice.name : undefined

/** Minimal validation, enough to catch a malformed client; the message names the field like the API does. */
export const parse = (body: unknown, endpoint: "messages" | "count_tokens"): Either.Either<ParsedRequest, string> => {
  if (!isRecord(body)) return Either.left("body: must be a JSON object")
  if (typeof body.model !== "string" || body.model.length === 0) return Either.left("model: Field required")
  if (!Array.isArray(body.messages) || body.messages.length === 0) {
    return Either.left("messages: must be a non-empty array")
  }
  const bad = body.messages.findIndex(
    (m) => !isRecord(m) || typeof m.role !== "string" || (typeof m.content !== "string" && !Array.isArray(m.content))
  )
  if (bad >= 0) return Either.left(`messages.${bad}: must have a role and a string or array content`)
  const maxTokens = body.max_tokens
  if (endpoint === "messages" && !(typeof maxTokens === "number" && Number.isInteger(maxTokens) && maxTokens > 0)) {
    return Either.left("max_tokens: must be a positive integer")
  }
  return Either.right({
    model: body.model,
    maxTokens: typeof maxTokens === "number" ? maxTokens : 0,
    stream: body.stream === true,
    inputTokens: inputTokens(body.system, body.messages),
    forcedTool: forcedTool(body.tool_choice)
  })
}

const lorem = ["lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing", "elit", "sed", "do", "eiusmod"]

export interface Reply {
  /** One per output token; joined they are the reply text (each after the first carries its space). */
  readonly deltas: ReadonlyArray<string>
  readonly text: string
  readonly stopReason: "end_turn" | "max_tokens"
}

/** `outputTokens` words, one token each, cut at the request's max_tokens. */
export const reply = (outputTokens: number, maxTokens: number): Reply => {
  const n = Math.min(outputTokens, maxTokens)
  const deltas = Array.from({ length: n }, (_, i) => (i === 0 ? "" : " ") + lorem[i % lorem.length])
  return { deltas, text: deltas.join(""), stopReason: outputTokens > maxTokens ? "max_tokens" : "end_turn" }
}

/** Tokens a request takes from a rate-limit window, known before the reply is generated. */
export const cost = (request: ParsedRequest, outputTokens: number): number =>
  request.inputTokens + Math.min(outputTokens, request.maxTokens)

const usage = (input: number, output: number) => ({
  input_tokens: input,
  output_tokens: output,
  cache_creation_input_tokens: 0,
  cache_read_input_tokens: 0,
  cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
  server_tool_use: null,
  service_tier: "standard",
  inference_geo: null,
  output_tokens_details: null,
  speed: null
})

const envelope = (id: string, model: string) => ({
  id,
  type: "message",
  role: "assistant",
  model,
  stop_sequence: null,
  stop_details: null,
  container: null,
  diagnostics: null
})

/**
 * The Message for `request`: its text; or, when the request forces a tool, one `tool_use` block of
 * that tool with `toolInput` (the same output tokens are reported either way).
 */
export const message = (id: string, request: ParsedRequest, r: Reply, toolInput: unknown) => ({
  ...envelope(id, request.model),
  ...(request.forcedTool === undefined
    ? { content: [{ type: "text", text: r.text, citations: null }], stop_reason: r.stopReason }
    : {
        content: [{ type: "tool_use", id: `toolu_${id}`, name: request.forcedTool, input: toolInput }],
        stop_reason: "tool_use"
      }),
  usage: usage(request.inputTokens, r.deltas.length)
})

/** Valid JSON that is not a Message: no content, usage a string. */
export const badShape = (id: string, model: string) => ({
  id,
  type: "message",
  role: "assistant",
  model,
  stop_reason: "end_turn",
  usage: "lots"
})

const encoder = new TextEncoder()

/** The SDK drops frames without an `event:` line, so every frame names its event. */
export const frame = (event: string, data: unknown): Uint8Array =>
  encoder.encode(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`)

/** A frame whose data is not JSON: the SDK's JSON.parse throws on it. */
export const malformedFrame: Uint8Array = encoder.encode(`event: message_start\ndata: {"type":"message_start","mes\n\n`)

/** message_start, ping, content_block_start: everything before the first delta. */
export const streamHead = (id: string, request: ParsedRequest): ReadonlyArray<Uint8Array> => [
  frame("message_start", {
    type: "message_start",
    message: {
      ...envelope(id, request.model),
      content: [],
      stop_reason: null,
      usage: usage(request.inputTokens, 1)
    }
  }),
  frame("ping", { type: "ping" }),
  frame("content_block_start", {
    type: "content_block_start",
    index: 0,
    content_block: { type: "text", text: "", citations: null }
  })
]

export const deltaFrame = (text: string): Uint8Array =>
  frame("content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "text_delta", text } })

/** content_block_stop, message_delta (cumulative usage), message_stop. */
export const streamTail = (request: ParsedRequest, r: Reply): ReadonlyArray<Uint8Array> => [
  frame("content_block_stop", { type: "content_block_stop", index: 0 }),
  frame("message_delta", {
    type: "message_delta",
    delta: { stop_reason: r.stopReason, stop_sequence: null },
    usage: {
      input_tokens: request.inputTokens,
      output_tokens: r.deltas.length,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0
    }
  }),
  frame("message_stop", { type: "message_stop" })
]

/** A truncated Message: `content-type` says JSON, the body does not parse. */
export const malformedJson = (id: string): string => `{"id":"${id}","type":"message","role":"assistant","cont`

export const errorBody = (errorType: string, message: string, requestId: string) => ({
  type: "error",
  error: { type: errorType, message },
  request_id: requestId
})

// Own keys only: "constructor" is not an error type.
const own = <A>(table: Readonly<Record<string, A>>, key: string): A | undefined =>
  Object.hasOwn(table, key) ? table[key] : undefined

/** The status the API answers an error type with (for an error type sent outside a stream). */
export const statusOf = (errorType: string): number => statusOfErrorType(errorType) ?? 500

const messages: Readonly<Record<string, string>> = {
  rate_limit_error: "This request would exceed the rate limit for your organization (FakeAnthropic).",
  overloaded_error: "Overloaded",
  api_error: "Internal server error",
  authentication_error: "invalid x-api-key"
}

export const defaultMessage = (errorType: string): string => own(messages, errorType) ?? `FakeAnthropic: ${errorType}`
