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
  /** `stop_sequences`, which cut a scripted answer's text. */
  readonly stopSequences: ReadonlyArray<string>
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
    forcedTool: forcedTool(body.tool_choice),
    stopSequences: Array.isArray(body.stop_sequences)
      ? body.stop_sequences.filter((s): s is string => typeof s === "string")
      : []
  })
}

export const usage = (input: number, output: number) => ({
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

export const envelope = (id: string, model: string) => ({
  id,
  type: "message",
  role: "assistant",
  model,
  stop_sequence: null,
  stop_details: null,
  container: null,
  diagnostics: null
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

/** message_start (the input usage, one output token so far) and a ping: everything before the first block. */
export const streamHead = (id: string, request: ParsedRequest): ReadonlyArray<Uint8Array> => [
  frame("message_start", {
    type: "message_start",
    message: { ...envelope(id, request.model), content: [], stop_reason: null, usage: usage(request.inputTokens, 1) }
  }),
  frame("ping", { type: "ping" })
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
