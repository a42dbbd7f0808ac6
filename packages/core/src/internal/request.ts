/**
 * A `CompletionRequest` decoded at the boundary: whatever a caller passes (from JavaScript, from
 * JSON, from a cast), a malformed request fails `InvalidRequest` naming the field and saying what
 * it must be — before anything is priced, reserved or sent.
 */
import { Either, Schema } from "effect"
import { describeValue, InvalidAmount, InvalidRequest } from "../Errors.js"
import type { CompletionRequest } from "../Llm.js"
import { firstIssue, isPositiveInteger, option } from "../Options.js"

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

/** `messages[0].content` for the path ["messages", 0, "content"]. */
const fieldName = (path: ReadonlyArray<PropertyKey>): string =>
  path.reduce<string>(
    (name, key) => (typeof key === "number" ? `${name}[${key}]` : name === "" ? String(key) : `${name}.${String(key)}`),
    ""
  )

/**
 * The request, checked: the value itself when it is well formed (the common case costs one check
 * and no copy), else the field at fault — `InvalidAmount` for `maxTokens` (an amount of tokens),
 * `InvalidRequest` with `errorType: "client_error"` for anything else.
 */
export const validate = (input: unknown): Either.Either<CompletionRequest, InvalidRequest | InvalidAmount> => {
  if (isWellFormed(input)) return Either.right(input)
  return Either.mapLeft(decodeRequest(input), (error) => {
    const { path, value, reason } = firstIssue(error, input)
    const field = path.length === 0 ? "request" : fieldName(path)
    if (field === "maxTokens") return new InvalidAmount({ field, value, reason })
    return new InvalidRequest({
      errorType: "client_error",
      field,
      message: `${field} ${reason} (got ${describeValue(value)})`
    })
  })
}
