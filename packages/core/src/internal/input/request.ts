/**
 * A `CompletionRequest` decoded at the boundary into a copy of its own: whatever a caller passes
 * (from JavaScript, from JSON, from a cast, an object it goes on changing), a malformed request
 * fails `InvalidRequest` naming the field and saying what it must be — before anything is priced,
 * reserved or sent — and a well-formed one is priced and sent as it was when the call began.
 *
 * Three parts: the copy (copy.ts), which reads each field once and refuses fields no part of a
 * request takes; the hand-written check (wellFormed.ts), which every call runs; and the schema
 * (schema.ts), which says what is wrong when the check says no.
 */
import { Either } from "effect"
import { describeValue, InvalidAmount, InvalidRequest } from "../../Errors.js"
import type { CompletionRequest } from "../../Llm.js"
import { firstIssue } from "../../Options.js"
import { copyRequest } from "./copy.js"
import { nameOf, Refusal, unreadable } from "./read.js"
import { decodeRequest } from "./schema.js"
import { isWellFormed } from "./wellFormed.js"

export { isRequest } from "./schema.js"
export { isWellFormed }

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

/** What the schema says is wrong with the copy (which holds nothing of the caller's that could throw). */
const explain = (request: unknown): InvalidRequest | InvalidAmount =>
  Either.match(decodeRequest(request), {
    // Only a disagreement between the check and the schema could get here: a property test says there is none.
    onRight: () => refusal("request", "is not a valid request", undefined, true),
    onLeft: (error) => {
      const { path, value, reason } = firstIssue(error, request)
      return refusal(nameOf(path), reason, value)
    }
  })

/**
 * The request, checked, as a fresh copy (see copy.ts), else the field at fault — `InvalidAmount`
 * for `maxTokens`, `InvalidRequest` for anything else. Never throws, whatever the value: a getter
 * or a Proxy that throws is refused naming the field it guards, an unknown field naming it.
 */
export const validate = (input: unknown): Either.Either<CompletionRequest, InvalidRequest | InvalidAmount> => {
  let request: unknown
  try {
    request = copyRequest(input)
  } catch (error) {
    return error instanceof Refusal
      ? Either.left(refusal(nameOf(error.path), error.reason, undefined, true))
      : Either.left(refusal("request", unreadable, undefined, true))
  }
  return isWellFormed(request) ? Either.right(request) : Either.left(explain(request))
}
