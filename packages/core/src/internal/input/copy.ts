/**
 * The request's fields, each read once, into fresh objects all the way down (messages, blocks,
 * sources, tools, JSON values): what is checked, priced and sent is this copy, whatever the caller
 * does to its own object while the call waits. A field no part of a request takes is refused
 * naming it (never dropped); anything else not shaped as expected is kept for the schema to say
 * what is wrong (see `leaf`); a read that throws is a `Refusal` naming where.
 */
import {
  arrayOf,
  byType,
  type Copy,
  copyFields,
  type Kind,
  kind,
  leaf,
  ofType,
  record,
  unknownField
} from "./fields.js"
import { copyJson } from "./json.js"
import { copyArray, define, field, isRecord, nested, Refusal, under } from "./read.js"
import { isServerTool } from "./rules.js"

/** Fields the Messages API of SDK 1.x no longer takes, which a caller may still pass. */
const removed: ReadonlySet<string> = new Set(["temperature", "top_p", "top_k", "topP", "topK"])

const url = kind('a "url" source', { type: leaf, url: leaf })

const imageSource = byType({
  base64: kind('a "base64" image source', { type: leaf, mediaType: leaf, data: leaf }),
  url
})

const documentSource = byType({
  base64: kind('a "base64" document source', { type: leaf, mediaType: leaf, data: leaf }),
  text: kind('a "text" document source', { type: leaf, data: leaf }),
  url
})

const blocks: Readonly<Record<string, Kind>> = {
  image: kind("an image block", { type: leaf, source: imageSource }),
  document: kind("a document block", { type: leaf, source: documentSource, title: leaf, context: leaf }),
  tool_use: kind("a tool_use block", { type: leaf, id: leaf, name: leaf, input: copyJson }),
  tool_result: kind("a tool_result block", {
    type: leaf,
    toolUseId: leaf,
    content: (u) => (Array.isArray(u) ? copyArray(u, block) : leaf(u)),
    isError: leaf
  }),
  thinking: kind("a thinking block", { type: leaf, thinking: leaf, signature: leaf }),
  redacted_thinking: kind("a redacted_thinking block", { type: leaf, data: leaf })
}

const textFields = ["type", "text"]

/**
 * A block: a text block, the kind every call may carry, written out (as `copyFields` would copy
 * it, at a fraction of the cost); the others by their kind.
 */
const block: Copy = (u) => {
  if (!isRecord(u)) return leaf(u)
  let type: unknown
  try {
    type = u.type
  } catch (error) {
    throw under("type", error)
  }
  if (type !== "text") return ofType(blocks, u, type)
  for (const key in u) if (key !== "type" && key !== "text") unknownField(u, key, "a text block", textFields)
  let text: unknown
  try {
    text = leaf(u.text)
  } catch (error) {
    throw under("text", error)
  }
  return text === undefined ? { type } : { type, text }
}

const content: Copy = (u) => (Array.isArray(u) ? copyArray(u, block) : leaf(u))

const messageFields = ["role", "content"]

/** A message, written out as `block` is. */
const message: Copy = (u) => {
  if (!isRecord(u)) return leaf(u)
  for (const key in u) if (key !== "role" && key !== "content") unknownField(u, key, "a message", messageFields)
  let at = "role"
  try {
    const role = leaf(u.role)
    at = "content"
    return { role, content: content(u.content) }
  } catch (error) {
    throw under(at, error)
  }
}

const clientTool = kind("a client tool", { name: leaf, description: leaf, inputSchema: copyJson, type: leaf })

/**
 * A tool's fields, each read once, before its kind is known: a client tool's known fields (its
 * input schema as JSON), or a server tool's every field as JSON, passed through as written.
 */
const tool: Copy = (u) => {
  if (!isRecord(u)) return leaf(u)
  const given: Record<string, unknown> = {}
  for (const key in u) define(given, key, field(u, key))
  if (!isServerTool(given)) return copyFields(given, clientTool, {})
  const copy: Record<string, unknown> = {}
  for (const key in given) if (given[key] !== undefined) define(copy, key, nested(key, copyJson, given[key]))
  return copy
}

const parallel = { disableParallelToolUse: leaf }

const copyToolChoice = byType({
  auto: kind('a toolChoice of type "auto"', { type: leaf, ...parallel }),
  any: kind('a toolChoice of type "any"', { type: leaf, ...parallel }),
  none: kind('a toolChoice of type "none"', { type: leaf }),
  tool: kind('a toolChoice of type "tool"', { type: leaf, name: leaf, ...parallel })
})

const copyThinking = byType({
  enabled: kind('a thinking of type "enabled"', { type: leaf, budgetTokens: leaf }),
  adaptive: kind('a thinking of type "adaptive"', { type: leaf }),
  disabled: kind('a thinking of type "disabled"', { type: leaf })
})

const copyMetadata = record(kind("metadata", { userId: leaf }))
const copyMessages = arrayOf(message)
const copyTools = arrayOf(tool)
const copyStrings = arrayOf(leaf)

const requestFields = [
  ...["model", "maxTokens", "messages", "system", "tools", "toolChoice"],
  ...["stopSequences", "thinking", "metadata", "cache"]
]

const isRequestField = (key: string): boolean => {
  switch (key) {
    case "model":
    case "maxTokens":
    case "messages":
    case "system":
    case "tools":
    case "toolChoice":
    case "stopSequences":
    case "thinking":
    case "metadata":
    case "cache":
      return true
    default:
      return false
  }
}

/** `copy` without the required fields it was not given: the schema says they are required, not of the wrong type. */
const withRequired = (copy: Record<string, unknown>): Record<string, unknown> => {
  if (copy.model === undefined) delete copy.model
  if (copy.maxTokens === undefined) delete copy.maxTokens
  if (copy.messages === undefined) delete copy.messages
  return copy
}

/**
 * The request as a fresh copy (see the module's note), written out as `block` is: every call
 * copies one. Throws a `Refusal`, or whatever reading the root threw.
 */
export const copyRequest: Copy = (u) => {
  if (!isRecord(u)) return leaf(u)
  for (const key in u) {
    if (isRequestField(key)) continue
    if (removed.has(key) && field(u, key) !== undefined) {
      throw new Refusal([key], "is refused: the Messages API of SDK 1.x does not take it")
    }
    unknownField(u, key, "a request", requestFields)
  }
  let at = "model"
  let copy: Record<string, unknown>
  try {
    const model = leaf(u.model)
    at = "maxTokens"
    const maxTokens = leaf(u.maxTokens)
    at = "messages"
    const messages = copyMessages(u.messages)
    at = "system"
    const system = content(u.system)
    at = "tools"
    const tools = copyTools(u.tools)
    at = "toolChoice"
    const toolChoice = copyToolChoice(u.toolChoice)
    at = "stopSequences"
    const stopSequences = copyStrings(u.stopSequences)
    at = "thinking"
    const thinking = copyThinking(u.thinking)
    at = "metadata"
    const metadata = copyMetadata(u.metadata)
    at = "cache"
    const cache = leaf(u.cache)
    // One shape for every request (what is not given is undefined): what reads it next stays fast.
    copy = { model, maxTokens, messages, system, tools, toolChoice, stopSequences, thinking, metadata, cache }
  } catch (error) {
    throw under(at, error)
  }
  return withRequired(copy)
}
