/**
 * The request's fields, each read once, into fresh objects all the way down (messages, blocks,
 * sources, tools, JSON values): what is checked, priced and sent is this copy, whatever the caller
 * does to its own object while the call waits. A field no part of a request takes is refused
 * naming it (never dropped); anything else not shaped as expected is kept for the schema to say
 * what is wrong (see `leaf`); a read that throws is a `Refusal` naming where.
 */
import { copyJson } from "./json.js"
import { copyArray, define, field, isRecord, nested, Refusal, under } from "./read.js"
import { isServerTool } from "./rules.js"

type Copy = (u: unknown) => unknown

const anObject = Object.freeze({})
const anArray = Object.freeze([])
const aFunction = () => undefined

/**
 * A value the schema checks (a string, a number, a literal): a primitive as it is; an object or a
 * function, which no such place may hold, by a stand-in of its kind — the copy holds nothing of
 * the caller's, so the schema can print what it refuses (a Proxy it printed could throw there).
 */
const leaf: Copy = (u) =>
  typeof u === "function" ? aFunction : typeof u !== "object" || u === null ? u : Array.isArray(u) ? anArray : anObject

/** An object of known fields: what it is called in a message, and how each field is copied. */
interface Kind {
  readonly what: string
  readonly fields: Readonly<Record<string, Copy>>
  // The same, as arrays: walked on every call, faster than the object's keys.
  readonly keys: ReadonlyArray<string>
  readonly copies: ReadonlyArray<Copy>
}

const kind = (what: string, fields: Readonly<Record<string, Copy>>): Kind => ({
  what,
  fields,
  keys: Object.keys(fields),
  copies: Object.values(fields)
})

/** Fields the Messages API of SDK 1.x no longer takes, which a caller may still pass. */
const removed: ReadonlySet<string> = new Set(["temperature", "top_p", "top_k", "topP", "topK"])

/**
 * Refuses `key` of `u`, a field no object of `what` (whose fields are `names`) takes — unless it is
 * undefined, which is no field, as for the known ones. An API name in snake_case is told the name
 * to use.
 */
const unknownField = (u: object, key: string, what: string, names: ReadonlyArray<string>): void => {
  if (field(u, key) === undefined) return
  const camel = key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase())
  throw new Refusal(
    [key],
    camel !== key && names.includes(camel)
      ? `is not a field of ${what}: use ${camel}`
      : `is not a field of ${what} (it takes ${names.join(", ")})`
  )
}

/** `u`'s fields of `kind` (from the `from`th: those before are in `copy` already) copied into `copy`. */
const copyFields = (u: object, of: Kind, copy: Record<string, unknown>, from = 0): Record<string, unknown> => {
  for (const key in u) if (!Object.hasOwn(of.fields, key)) unknownField(u, key, of.what, of.keys)
  const { keys, copies } = of
  for (let i = from; i < keys.length; i++) {
    const key = keys[i] as string
    const value = field(u, key)
    if (value !== undefined) copy[key] = nested(key, copies[i] as Copy, value)
  }
  return copy
}

const record =
  (of: Kind): Copy =>
  (u) =>
    isRecord(u) ? copyFields(u, of, {}) : leaf(u)

const arrayOf =
  (copy: Copy): Copy =>
  (u) =>
    Array.isArray(u) ? copyArray(u, copy) : leaf(u)

/** `u` (of type `type`) as the kind of `kinds` its type says; of an unknown type, only the type is kept (the schema refuses it). */
const ofType = (kinds: Readonly<Record<string, Kind>>, u: object, type: unknown): unknown => {
  const of = typeof type === "string" && Object.hasOwn(kinds, type) ? kinds[type] : undefined
  if (of === undefined) return type === undefined ? {} : { type: nested("type", leaf, type) }
  return copyFields(u, of, { type }, 1)
}

/** An object whose `type` says its kind. */
const byType =
  (kinds: Readonly<Record<string, Kind>>): Copy =>
  (u) =>
    isRecord(u) ? ofType(kinds, u, field(u, "type")) : leaf(u)

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
  const type = field(u, "type")
  if (type !== "text") return ofType(blocks, u, type)
  for (const key in u) if (key !== "type" && key !== "text") unknownField(u, key, "a text block", textFields)
  const text = field(u, "text")
  return text === undefined ? { type } : { type, text: nested("text", leaf, text) }
}

const content: Copy = (u) => (Array.isArray(u) ? copyArray(u, block) : leaf(u))

const messageFields = ["role", "content"]

/** A message, written out as `block` is. */
const message: Copy = (u) => {
  if (!isRecord(u)) return leaf(u)
  for (const key in u) if (key !== "role" && key !== "content") unknownField(u, key, "a message", messageFields)
  return { role: nested("role", leaf, field(u, "role")), content: nested("content", content, field(u, "content")) }
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

const toolChoice = byType({
  auto: kind('a toolChoice of type "auto"', { type: leaf, ...parallel }),
  any: kind('a toolChoice of type "any"', { type: leaf, ...parallel }),
  none: kind('a toolChoice of type "none"', { type: leaf }),
  tool: kind('a toolChoice of type "tool"', { type: leaf, name: leaf, ...parallel })
})

const thinking = byType({
  enabled: kind('a thinking of type "enabled"', { type: leaf, budgetTokens: leaf }),
  adaptive: kind('a thinking of type "adaptive"', { type: leaf }),
  disabled: kind('a thinking of type "disabled"', { type: leaf })
})

const metadata = record(kind("metadata", { userId: leaf }))
const messages = arrayOf(message)
const tools = arrayOf(tool)
const strings = arrayOf(leaf)

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

/** Sets `copy[key]` unless `value` is undefined: an absent field stays absent, for the schema to say it is required. */
const put = (copy: Record<string, unknown>, key: string, value: unknown): void => {
  if (value !== undefined) copy[key] = value
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
  const copy: Record<string, unknown> = {}
  let at = "model"
  try {
    put(copy, at, leaf(u.model))
    at = "maxTokens"
    put(copy, at, leaf(u.maxTokens))
    at = "messages"
    put(copy, at, messages(u.messages))
    at = "system"
    put(copy, at, content(u.system))
    at = "tools"
    put(copy, at, tools(u.tools))
    at = "toolChoice"
    put(copy, at, toolChoice(u.toolChoice))
    at = "stopSequences"
    put(copy, at, strings(u.stopSequences))
    at = "thinking"
    put(copy, at, thinking(u.thinking))
    at = "metadata"
    put(copy, at, metadata(u.metadata))
    at = "cache"
    put(copy, at, leaf(u.cache))
  } catch (error) {
    throw under(at, error)
  }
  return copy
}
