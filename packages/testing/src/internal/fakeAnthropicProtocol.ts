/**
 * The Messages API wire format as FakeAnthropic speaks it: request checks, deterministic token
 * counts and replies, SSE frames and error bodies. Pure functions; fakeAnthropicServer.ts does I/O.
 */
import { statusOfErrorType } from "@fleetguard/core"
import { Either } from "effect"
import type { Fields } from "./countTokens.js"
import * as Count from "./countTokens.js"
import * as Check from "./fakeAnthropicCheck.js"

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

/**
 * The request, checked as the API checks it (its shape, then its `conversation`, against what this
 * server sent), and counted; or the API's 400 message, naming the field.
 */
export const parse = (
  body: unknown,
  endpoint: Check.Endpoint,
  conversation: (body: Fields) => string | undefined
): Either.Either<ParsedRequest, string> => {
  const failure = Check.check(body, endpoint) ?? conversation(body as Fields)
  if (failure !== undefined) return Either.left(failure)
  const b = body as Fields
  const choice = b.tool_choice as Fields | undefined
  const tools = Array.isArray(b.tools) ? (b.tools as ReadonlyArray<unknown>) : undefined
  const counted = Count.count({
    model: b.model as string,
    system: b.system,
    messages: b.messages as ReadonlyArray<unknown>,
    tools,
    toolChoice: choice?.type as string | undefined
  })
  if (counted.refused !== undefined) return Either.left(counted.refused)
  return Either.right({
    model: b.model as string,
    maxTokens: typeof b.max_tokens === "number" ? b.max_tokens : 0,
    stream: b.stream === true,
    inputTokens: counted.inputTokens,
    forcedTool: choice?.type === "tool" ? (choice.name as string) : undefined,
    stopSequences: (b.stop_sequences as ReadonlyArray<string> | undefined) ?? []
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
