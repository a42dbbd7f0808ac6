/**
 * A Messages API answer decoded with Schema into fleetguard's completion: its usage and every block
 * it carries (text, tool_use, thinking). A block of those kinds with a bad shape makes the whole
 * answer malformed (it was billed: it is never shortened quietly); blocks of other kinds (a server
 * tool's call and result) are left out.
 */
import { type AnswerBlock, Options, type ProviderCompletion, type Usage } from "@fleetguard/core"
import { Either, type ParseResult, Schema } from "effect"

export const Count = Schema.Number.pipe(Schema.finite(), Schema.nonNegative())
export const OptionalCount = Schema.optional(Schema.NullOr(Count))

/** The part of the API's usage fleetguard prices; nulls (no caching) are zeros. */
export const ApiUsage = Schema.Struct({
  input_tokens: Count,
  output_tokens: Count,
  cache_creation_input_tokens: OptionalCount,
  cache_read_input_tokens: OptionalCount,
  cache_creation: Schema.optional(
    Schema.NullOr(Schema.Struct({ ephemeral_1h_input_tokens: Schema.optional(Schema.NullOr(Count)) }))
  )
})
type ApiUsage = typeof ApiUsage.Type

export const toUsage = (usage: ApiUsage): Usage => ({
  inputTokens: usage.input_tokens,
  outputTokens: usage.output_tokens,
  cacheCreationInputTokens: usage.cache_creation_input_tokens ?? 0,
  cacheReadInputTokens: usage.cache_read_input_tokens ?? 0,
  cacheCreation1hInputTokens: usage.cache_creation?.ephemeral_1h_input_tokens ?? undefined
})

/** Where a path leads from `from`, as a field is written: `content[1].input`. */
const fieldPath = (path: ReadonlyArray<PropertyKey>, from: string): string =>
  path.reduce<string>(
    (at, key) => (typeof key === "number" ? `${at}[${key}]` : at === "" ? String(key) : `${at}.${String(key)}`),
    from
  )

/** What Schema found wrong first in `input` (the part of the answer at `where`), naming the field. */
export const problem = (error: ParseResult.ParseError, input: unknown, where = ""): string => {
  const { path, reason } = Options.firstIssue(error, input)
  const field = fieldPath(path, where)
  return field === "" ? reason : `${field} ${reason}`
}

/**
 * A tool's input: a JSON object, as the tool's input schema (always `type: "object"`) says. Checked,
 * not copied: a copy would drop a key such as `__proto__`, and the input is what the tool runs on.
 */
export const ToolInput = Schema.Object.pipe(
  Schema.filter((input) => !Array.isArray(input), { message: () => "must be a JSON object, not an array" })
)

const ApiTextBlock = Schema.Struct({ type: Schema.Literal("text"), text: Schema.String })
const ApiToolUseBlock = Schema.Struct({
  type: Schema.Literal("tool_use"),
  id: Schema.String,
  name: Schema.String,
  input: ToolInput
})
const ApiThinkingBlock = Schema.Struct({
  type: Schema.Literal("thinking"),
  thinking: Schema.String,
  signature: Schema.String
})
const ApiRedactedThinkingBlock = Schema.Struct({ type: Schema.Literal("redacted_thinking"), data: Schema.String })
const decodeAnswerBlock = Schema.decodeUnknownEither(
  Schema.Union(ApiTextBlock, ApiToolUseBlock, ApiThinkingBlock, ApiRedactedThinkingBlock)
)

/** The kinds of block fleetguard carries; any other is a server tool's (or one newer than this SDK). */
export const carried: ReadonlySet<string> = new Set(["text", "tool_use", "thinking", "redacted_thinking"])

/** Any block: an object with a type. */
const decodeAnyBlock = Schema.decodeUnknownEither(
  Schema.Struct({ type: Schema.String }).annotations({ identifier: "a content block" })
)

/**
 * The blocks of an answer fleetguard carries, in order, each checked, or what is wrong with the
 * first that is not. Every entry must at least be an object with a type: a broken one is not
 * taken for a server tool's block.
 */
export const answerBlocks = (content: ReadonlyArray<unknown>): Either.Either<Array<AnswerBlock>, string> => {
  const blocks: Array<AnswerBlock> = []
  for (const [i, raw] of content.entries()) {
    const any = decodeAnyBlock(raw)
    if (Either.isLeft(any)) return Either.left(problem(any.left, raw, `content[${i}]`))
    if (!carried.has(any.right.type)) continue
    const decoded = decodeAnswerBlock(raw)
    if (Either.isLeft(decoded)) return Either.left(problem(decoded.left, raw, `content[${i}]`))
    blocks.push(decoded.right)
  }
  return Either.right(blocks)
}

/** The text blocks of an answer, joined. */
export const joinText = (blocks: ReadonlyArray<AnswerBlock>): string =>
  blocks.reduce((text, block) => (block.type === "text" ? text + block.text : text), "")

const ApiMessage = Schema.Struct({
  model: Schema.String,
  stop_reason: Schema.NullOr(Schema.String),
  content: Schema.Array(Schema.Unknown),
  usage: ApiUsage
}).annotations({ identifier: "a Message" })

const decodeMessage = Schema.decodeUnknownEither(ApiMessage)

/** A Message as fleetguard's completion, or why it is not one. */
export const fromMessage = (message: unknown): Either.Either<ProviderCompletion, string> =>
  Either.flatMap(
    Either.mapLeft(decodeMessage(message), (error) => problem(error, message)),
    (m) =>
      Either.map(
        answerBlocks(m.content),
        (content): ProviderCompletion => ({
          text: joinText(content),
          content,
          model: m.model,
          stopReason: m.stop_reason,
          usage: toUsage(m.usage)
        })
      )
  )
