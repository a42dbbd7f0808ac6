/**
 * What a `CompletionRequest` must be, as a Schema: each part's failure names its path and says
 * what it must be (the messages here replace Schema's own, which would echo the value). A choice
 * between kinds (a block by its `type`, a client or a server tool) is made by looking, not by
 * trying each: the failure is that of the kind chosen, at its own path. Fields no part takes are
 * refused by the copy, which alone sees them (see copy.ts).
 */
import { Array as Arr, Effect, ParseResult, Schema, type SchemaAST } from "effect"
import type * as Llm from "../../Llm.js"
import { isPositiveInteger, option } from "../../Options.js"
import { jsonIssue } from "./json.js"
import { isRecord } from "./read.js"
import * as Rules from "./rules.js"

/** Says what a value must be, in place of Schema's own text (which would echo the value). */
const says = (reason: string) => ({ message: () => ({ message: reason, override: true }) })

/** The issue at `path` in `u` (the decoder reads the value there itself, to describe it). */
const failAt = (ast: SchemaAST.AST, u: unknown, { path, reason }: Rules.Issue) => {
  const issue = new ParseResult.Type(ast, u, reason)
  return Effect.fail(Arr.isNonEmptyReadonlyArray(path) ? new ParseResult.Pointer(path, u, issue) : issue)
}

const isIssue = (picked: Schema.Schema.AnyNoContext | Rules.Issue): picked is Rules.Issue => !Schema.isSchema(picked)

/**
 * A value checked by looking at it: `pick` gives the schema to decode it with, or the issue (its
 * path from the value) that makes it wrong as a whole.
 */
const choose = <A>(pick: (u: unknown) => Schema.Schema.AnyNoContext | Rules.Issue): Schema.Schema<A> =>
  Schema.declare<A, A, readonly []>([], {
    decode: () => (u, options, ast) => {
      const picked = pick(u)
      return isIssue(picked) ? failAt(ast, u, picked) : ParseResult.decodeUnknown(picked)(u, options)
    },
    encode: () => (u) => ParseResult.succeed(u as A)
  })

/** An object whose `type` says which of `kinds` it is; `what` names it when it is not an object. */
const oneOf = <A>(what: string, kinds: Readonly<Record<string, Schema.Schema.AnyNoContext>>): Schema.Schema<A> => {
  const types = Object.keys(kinds).map((type) => `"${type}"`)
  const list = types.length === 1 ? types.join("") : `${types.slice(0, -1).join(", ")} or ${types.at(-1)}`
  return choose((u) => {
    if (!isRecord(u)) return { path: [], reason: `must be ${what} (an object { type: ${list}, … })` }
    const kind = typeof u.type === "string" && Object.hasOwn(kinds, u.type) ? kinds[u.type] : undefined
    return kind ?? { path: ["type"], reason: `must be ${list}` }
  })
}

/** A JSON value, as the copy takes it (json.ts): where it is not JSON is its path. */
const Json = choose<unknown>((u) => jsonIssue(u) ?? Schema.Unknown)

const Str = Schema.String.annotations(says("must be a string"))
const NonEmpty = option(Rules.isNonEmptyString, "must be a non-empty string")
const Bool = Schema.Boolean.annotations(says("must be true or false"))
const Url = option(Rules.isHttpUrl, "must be an http(s) URL")
const Base64 = option(Rules.isNonEmptyString, "must be base64 data (a non-empty string)")
const ToolName = option(Rules.isToolName, Rules.toolNameReason)

const UrlSource = Schema.Struct({ type: Schema.Literal("url"), url: Url })

const TextBlock: Schema.Schema<Llm.TextBlock> = Schema.Struct({ type: Schema.Literal("text"), text: Str })

const ImageBlock: Schema.Schema<Llm.ImageBlock> = Schema.Struct({
  type: Schema.Literal("image"),
  source: oneOf<Llm.ImageBlock["source"]>("an image source", {
    base64: Schema.Struct({
      type: Schema.Literal("base64"),
      mediaType: option(
        Rules.isImageMediaType,
        `must be one of ${Rules.imageMediaTypes.map((t) => `"${t}"`).join(", ")}`
      ),
      data: Base64
    }),
    url: UrlSource
  })
})

const DocumentBlock = Schema.Struct({
  type: Schema.Literal("document"),
  source: oneOf("a document source", {
    base64: Schema.Struct({
      type: Schema.Literal("base64"),
      mediaType: Schema.Literal("application/pdf").annotations(says('must be "application/pdf"')),
      data: Base64
    }),
    text: Schema.Struct({ type: Schema.Literal("text"), data: Str }),
    url: UrlSource
  }),
  title: Schema.optional(Str),
  context: Schema.optional(Str)
})

/** A string, or an array of `block`s. */
const textOr = <A>(block: Schema.Schema<A>, reason: string) => {
  const blocks = Schema.Array(block)
  return choose<string | ReadonlyArray<A>>((u) =>
    typeof u === "string" ? Str : Array.isArray(u) ? blocks : { path: [], reason }
  )
}

const ToolResultBlock = Schema.Struct({
  type: Schema.Literal("tool_result"),
  toolUseId: NonEmpty,
  content: textOr(
    oneOf<Llm.TextBlock | Llm.ImageBlock>("a text or image block", { text: TextBlock, image: ImageBlock }),
    "must be a string or an array of text and image blocks"
  ),
  isError: Schema.optional(Bool)
})

const Block = oneOf<Llm.ContentBlock>("a content block", {
  text: TextBlock,
  image: ImageBlock,
  document: DocumentBlock,
  tool_use: Schema.Struct({ type: Schema.Literal("tool_use"), id: NonEmpty, name: ToolName, input: Json }),
  tool_result: ToolResultBlock,
  thinking: Schema.Struct({ type: Schema.Literal("thinking"), thinking: Str, signature: Str }),
  redacted_thinking: Schema.Struct({ type: Schema.Literal("redacted_thinking"), data: Str })
})

const Content = textOr(Block, "must be a string or an array of content blocks")

const System = textOr(
  oneOf<Llm.TextBlock>("a text block", { text: TextBlock }),
  'must be a string or an array of text blocks ({ type: "text", text: string })'
)

/** Where a block of the message's content cannot be, for its role. */
const placed = (message: Llm.Message): Rules.Issue | undefined => {
  if (typeof message.content === "string") return undefined
  for (let i = 0; i < message.content.length; i++) {
    const reason = Rules.misplaced(message.role, message.content[i]?.type)
    if (reason !== undefined) return { path: ["content", i], reason }
  }
  return undefined
}

const filterIssue = (issue: Rules.Issue | undefined) =>
  issue === undefined ? undefined : { path: issue.path, message: issue.reason }

const Message: Schema.Schema<Llm.Message> = Schema.Struct({
  role: Schema.Literal("user", "assistant").annotations(says('must be "user" or "assistant"')),
  content: Content
})
  .annotations({ message: () => "must be an object { role, content }" })
  .pipe(Schema.filter((m) => filterIssue(placed(m))))

const ClientTool = Schema.Struct({
  name: ToolName,
  description: Schema.optional(Str),
  inputSchema: choose<Llm.Tool["inputSchema"]>((u) => {
    const issue = jsonIssue(u)
    if (issue !== undefined) return issue
    if (!isRecord(u)) return { path: [], reason: 'must be a JSON Schema of an object ({ type: "object", … })' }
    return u.type === "object" ? Schema.Unknown : { path: ["type"], reason: 'must be "object": a tool takes an object' }
  }),
  type: Schema.optional(Schema.Literal("custom").annotations(says('must be "custom" for a client tool')))
})

const ServerTool = Schema.Struct(
  { type: NonEmpty, name: ToolName },
  Schema.Record({ key: Schema.String, value: choose<unknown>((u) => (u === undefined ? Schema.Unknown : Json)) })
)

const Tool = choose<Llm.Tool | Llm.ServerTool>((u) =>
  !isRecord(u)
    ? { path: [], reason: "must be a tool (an object { name, description, inputSchema } or a server tool)" }
    : Rules.isServerTool(u)
      ? ServerTool
      : ClientTool
)

const parallel = { disableParallelToolUse: Schema.optional(Bool) }

const arrayOf = <A>(item: Schema.Schema<A>, reason: string) => Schema.Array(item).annotations({ message: () => reason })

const messagesReason = "must be a non-empty array of messages"

const RequestSchema = Schema.Struct({
  model: option(
    (u): u is string => typeof u === "string" && u.trim() !== "",
    "must be a model id (a non-empty string)"
  ),
  maxTokens: option(isPositiveInteger, "must be a whole number ≥ 1"),
  messages: arrayOf(Message, messagesReason).pipe(Schema.minItems(1, { message: () => messagesReason })),
  system: Schema.optional(System),
  tools: Schema.optional(arrayOf(Tool, "must be an array of tools")),
  toolChoice: Schema.optional(
    oneOf<Llm.ToolChoice>("a tool choice", {
      auto: Schema.Struct({ type: Schema.Literal("auto"), ...parallel }),
      any: Schema.Struct({ type: Schema.Literal("any"), ...parallel }),
      none: Schema.Struct({ type: Schema.Literal("none") }),
      tool: Schema.Struct({ type: Schema.Literal("tool"), name: ToolName, ...parallel })
    })
  ),
  stopSequences: Schema.optional(arrayOf(NonEmpty, "must be an array of non-empty strings")),
  thinking: Schema.optional(
    oneOf<Llm.Thinking>("a thinking setting", {
      enabled: Schema.Struct({
        type: Schema.Literal("enabled"),
        budgetTokens: option(Rules.isBudgetTokens, `must be a whole number ≥ ${Rules.minBudgetTokens}`)
      }),
      adaptive: Schema.Struct({ type: Schema.Literal("adaptive") }),
      disabled: Schema.Struct({ type: Schema.Literal("disabled") })
    })
  ),
  metadata: Schema.optional(
    choose<Llm.CompletionRequest["metadata"]>((u) =>
      isRecord(u)
        ? Schema.Struct({ userId: Schema.optional(NonEmpty) })
        : { path: [], reason: "must be an object { userId }" }
    )
  ),
  cache: Schema.optional(Schema.Literal("5m", "1h").annotations(says('must be "5m" or "1h"')))
})
  .annotations({ message: () => "must be an object { model, maxTokens, messages }" })
  .pipe(Schema.filter((request) => filterIssue(Rules.crossIssue(request as Llm.CompletionRequest))))

/** The schema's own check; `isWellFormed` must agree with it (a property test holds them together). */
export const isRequest = Schema.is(RequestSchema)

/** The first thing wrong with a request, as Schema says it. */
export const decodeRequest = Schema.decodeUnknownEither(RequestSchema, { errors: "first" })
