/**
 * A `CompletionRequest` decoded at the boundary into a copy of its own: whatever a caller passes
 * (from JavaScript, from JSON, from a cast, an object it goes on changing), a malformed request
 * fails `InvalidRequest` naming the field and saying what it must be — before anything is priced,
 * reserved or sent — and a well-formed one is priced and sent as it was when the call began.
 */
import { Either, Schema } from "effect"
import { describeValue, InvalidAmount, InvalidRequest } from "../../Errors.js"
import type { CompletionRequest } from "../../Llm.js"
import { firstIssue, isPositiveInteger, option } from "../../Options.js"
import * as Values from "../policy/values.js"

const contentReason = 'must be a string or an array of text blocks ({ type: "text", text: string })'

const messagesReason = "must be a non-empty array of messages"

/** Says what a value must be, in place of Schema's own text (which would echo the value). */
const says = (reason: string) => ({ message: () => ({ message: reason, override: true }) })

const TextBlock = Schema.Struct({
  type: Schema.Literal("text").annotations(says('must be "text"')),
  text: Schema.String.annotations(says("must be a string"))
})

const Content = Schema.Union(Schema.String, Schema.Array(TextBlock)).annotations(says(contentReason))

const Message = Schema.Struct({
  role: Schema.Literal("user", "assistant").annotations(says('must be "user" or "assistant"')),
  content: Content
}).annotations({ message: () => "must be an object { role, content }" })

const RequestSchema = Schema.Struct({
  model: option(
    (u): u is string => typeof u === "string" && u.trim() !== "",
    "must be a model id (a non-empty string)"
  ),
  maxTokens: option(isPositiveInteger, "must be a whole number ≥ 1"),
  messages: Schema.Array(Message)
    .annotations({ message: () => messagesReason })
    .pipe(Schema.minItems(1, { message: () => messagesReason })),
  system: Schema.optional(Content),
  cache: Schema.optional(Schema.Literal("5m", "1h").annotations(says('must be "5m" or "1h"')))
}).annotations({ message: () => "must be an object { model, maxTokens, messages }" })

/** The schema's own check; `isWellFormed` must agree with it (a property test holds them together). */
export const isRequest = Schema.is(RequestSchema)
const decodeRequest = Schema.decodeUnknownEither(RequestSchema, { errors: "first" })

const isRecord = (u: unknown): u is Readonly<Record<string, unknown>> =>
  typeof u === "object" && u !== null && !Array.isArray(u)

const isText = (u: unknown): boolean =>
  typeof u === "string" ||
  (Array.isArray(u) && u.every((b) => isRecord(b) && b.type === "text" && typeof b.text === "string"))

/**
 * The schema's check written out by hand: every call is checked, and this costs a tenth of
 * `Schema.is` (measured); the schema still says what is wrong when this says no.
 */
export const isWellFormed = (u: unknown): u is CompletionRequest => {
  if (!isRecord(u)) return false
  const { model, maxTokens, messages, system, cache } = u
  if (typeof model !== "string" || model.trim() === "" || !isPositiveInteger(maxTokens)) return false
  if (!Array.isArray(messages) || messages.length === 0) return false
  for (const m of messages) {
    if (!isRecord(m) || (m.role !== "user" && m.role !== "assistant") || !isText(m.content)) return false
  }
  return (system === undefined || isText(system)) && (cache === undefined || cache === "5m" || cache === "1h")
}

/** `messages[0].content` for the path ["messages", 0, "content"]; `request` for the whole. */
const nameOf = (path: ReadonlyArray<PropertyKey>): string =>
  path.length === 0
    ? "request"
    : path.reduce<string>(
        (name, key) =>
          typeof key === "number" ? `${name}[${key}]` : name === "" ? String(key) : `${name}.${String(key)}`,
        ""
      )

const unreadable = "could not be read: a getter or Proxy threw"

/** A read of the request that threw (a getter, a Proxy trap), and where. */
class Unreadable {
  constructor(readonly path: Array<PropertyKey>) {}
}

/** What `error`, thrown while reading `key`, says about where the request could not be read. */
const under = (key: PropertyKey, error: unknown): Unreadable => {
  if (!(error instanceof Unreadable)) return new Unreadable([key])
  error.path.unshift(key)
  return error
}

const field = (u: object, key: string | number): unknown => {
  const value = Values.readField(u, key)
  if (value === Values.unreadable) throw new Unreadable([key])
  return value
}

const nested = (key: PropertyKey, copy: (u: unknown) => unknown, value: unknown): unknown => {
  try {
    return copy(value)
  } catch (error) {
    throw under(key, error)
  }
}

const copyArray = (u: ReadonlyArray<unknown>, copy: (item: unknown) => unknown): Array<unknown> => {
  const items: Array<unknown> = []
  for (let i = 0; i < u.length; i++) items.push(nested(i, copy, field(u, i)))
  return items
}

const copyBlock = (u: unknown): unknown => (isRecord(u) ? { type: field(u, "type"), text: field(u, "text") } : u)

const copyContent = (u: unknown): unknown => (Array.isArray(u) ? copyArray(u, copyBlock) : u)

const copyMessage = (u: unknown): unknown =>
  isRecord(u) ? { role: field(u, "role"), content: nested("content", copyContent, field(u, "content")) } : u

const copyMessages = (u: unknown): unknown => (Array.isArray(u) ? copyArray(u, copyMessage) : u)

/**
 * The request's fields, each read once, into fresh objects all the way down (messages, content
 * blocks, system blocks): what is checked, priced and sent is this copy, whatever the caller does
 * to its own object while the call waits. Anything not shaped as expected is kept as it is, for
 * the schema to say what is wrong; a read that throws is an `Unreadable` naming where.
 */
const copyRequest = (u: unknown): unknown => {
  if (!isRecord(u)) return u
  const copy: Record<string, unknown> = {}
  put(copy, "model", field(u, "model"))
  put(copy, "maxTokens", field(u, "maxTokens"))
  put(copy, "messages", nested("messages", copyMessages, field(u, "messages")))
  put(copy, "system", nested("system", copyContent, field(u, "system")))
  put(copy, "cache", field(u, "cache"))
  return copy
}

/** An absent field stays absent: the schema says it is required rather than of the wrong type. */
const put = (copy: Record<string, unknown>, key: string, value: unknown): void => {
  if (value !== undefined) copy[key] = value
}

/**
 * `InvalidAmount` for `maxTokens` (an amount of tokens), `InvalidRequest` with `errorType:
 * "client_error"` for the rest; the message shows what was given by its kind only.
 */
const refusal = (name: string, reason: string, value: unknown, unread = false) =>
  name === "maxTokens"
    ? new InvalidAmount({ field: name, value, reason })
    : new InvalidRequest({
        errorType: "client_error",
        field: name,
        message: unread ? `${name} ${reason}` : `${name} ${reason} (got ${describeValue(value)})`
      })

/**
 * The request, checked, as a fresh copy (see `copyRequest`), else the field at fault —
 * `InvalidAmount` for `maxTokens`, `InvalidRequest` for anything else. Never throws, whatever the
 * value: a getter or a Proxy that throws is refused naming the field it guards.
 */
export const validate = (input: unknown): Either.Either<CompletionRequest, InvalidRequest | InvalidAmount> => {
  let request: unknown
  try {
    request = copyRequest(input)
  } catch (error) {
    const path = error instanceof Unreadable ? error.path : []
    return Either.left(refusal(nameOf(path), unreadable, undefined, true))
  }
  if (isWellFormed(request)) return Either.right(request)
  // The copy kept as they were only values the schema refuses without reading them.
  return Either.mapLeft(decodeRequest(request), (error) => {
    const { path, value, reason } = firstIssue(error, request)
    return refusal(nameOf(path), reason, value)
  })
}
