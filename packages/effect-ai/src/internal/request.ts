/**
 * The request a guarded call is estimated from: the prompt as @effect/ai will send it, and the
 * tools sent with it, as text whose UTF-8 bytes bound its input tokens — the rule `Pricing.estimate`
 * applies (a token is at least a byte, plus a framing overhead per block and per request).
 */
import type { Prompt as AiPrompt } from "@effect/ai"
import { Prompt, Tool } from "@effect/ai"
import type { CompletionRequest, Message, TextBlock } from "@fleetguard/core"
import { describeValue, InvalidRequest, Options } from "@fleetguard/core"
import { Either, Encoding, Option, Predicate, Schema, type SchemaAST } from "effect"
import type { CallConfig } from "./config.js"

const invalid = (field: string, reason: string) =>
  new InvalidRequest({ errorType: "client_error", field, message: `${field} ${reason}` })

/** `prompt[0].content[1].text` for the path [0, "content", 1, "text"]. */
const fieldName = (path: ReadonlyArray<PropertyKey>): string =>
  path.reduce<string>((name, key) => (typeof key === "number" ? `${name}[${key}]` : `${name}.${String(key)}`), "prompt")

const decodeMessages = Schema.decodeUnknownEither(Schema.Array(Prompt.Message), { errors: "first" })

/**
 * The prompt @effect/ai would make of `input` (`Prompt.make`, which throws on a malformed one),
 * decoded here instead: a malformed prompt fails `InvalidRequest` naming the field, never a defect.
 * The message says what is there only by its kind: a prompt is not echoed into logs.
 */
export const decodePrompt = (input: unknown): Either.Either<AiPrompt.Prompt, InvalidRequest> => {
  if (typeof input === "string" || Prompt.isPrompt(input)) return Either.right(Prompt.make(input))
  if (!Predicate.isIterable(input)) return Either.left(invalid("prompt", "must be a string, messages or a Prompt"))
  const messages = Array.from(input)
  return Either.mapBoth(decodeMessages(messages), {
    onLeft: (error) => {
      const { path, value, reason } = Options.firstIssue(error, messages)
      const what = reason === "is required" ? reason : `is not what a Prompt takes (got ${describeValue(value)})`
      return invalid(fieldName(path), what)
    },
    onRight: Prompt.fromMessages
  })
}

/** JSON text, or a failure naming `field` for a value JSON cannot hold (a bigint, a cycle). */
const json = (value: unknown, field: string): Either.Either<string, InvalidRequest> =>
  Either.try({
    try: () => JSON.stringify(value) ?? "",
    catch: () => invalid(field, "cannot be sent as JSON")
  })

/** A part's text as it is sent: files as their data (base64, as the APIs take bytes), tool calls and results as JSON. */
const partText = (part: AiPrompt.Part, field: string): Either.Either<string, InvalidRequest> => {
  switch (part.type) {
    case "text":
    case "reasoning":
      return Either.right(part.text)
    case "file":
      // A URL is fetched by the provider: only its text is known here.
      return Either.right(
        typeof part.data === "string"
          ? part.data
          : part.data instanceof URL
            ? part.data.href
            : Encoding.encodeBase64(part.data)
      )
    case "tool-call":
      return json({ id: part.id, name: part.name, input: part.params }, `${field}.params`)
    case "tool-result":
      return json({ tool_use_id: part.id, content: part.result }, `${field}.result`)
  }
}

const blocks = (
  parts: ReadonlyArray<AiPrompt.Part>,
  field: string
): Either.Either<ReadonlyArray<TextBlock>, InvalidRequest> =>
  Either.all(
    parts.map((part, i) => Either.map(partText(part, `${field}[${i}]`), (text) => ({ type: "text" as const, text })))
  )

/**
 * Bytes that stand for the system prompt the Messages API adds when tools are sent (346 tokens at
 * most for current Claude models): `Pricing` bounds input by bytes, so this many bytes bound it.
 */
const toolUseSystemPrompt: TextBlock = { type: "text", text: " ".repeat(400) }

/** A tool as it is sent: its name, description and the JSON Schema of its parameters. */
export const toolDefinition = (
  name: string,
  description: string | undefined,
  parameters: SchemaAST.AST,
  field: string
): Either.Either<string, InvalidRequest> =>
  Either.flatMap(
    Either.try({
      try: () => Tool.getJsonSchemaFromSchemaAst(parameters),
      catch: () => invalid(field, "has no JSON Schema, so it cannot be sent")
    }),
    (schema) => json({ name, description, input_schema: schema }, field)
  )

const CacheControl = Schema.Struct({
  anthropic: Schema.Struct({ cacheControl: Schema.Struct({ ttl: Schema.optional(Schema.Unknown) }) })
})
const decodeCacheControl = Schema.decodeUnknownOption(CacheControl)

/**
 * The longest cache lifetime the prompt asks Anthropic for (`cacheControl` in a message's or a
 * part's options), if any: cache writes cost more than plain input, and the estimate must cover them.
 */
const cacheAsked = (prompt: AiPrompt.Prompt): "5m" | "1h" | undefined => {
  let asked: "5m" | "1h" | undefined
  for (const message of prompt.content) {
    const parts: ReadonlyArray<{ readonly options: unknown }> = message.role === "system" ? [] : message.content
    for (const options of [message.options, ...parts.map((part) => part.options)]) {
      const control = decodeCacheControl(options)
      if (Option.isSome(control)) asked = control.value.anthropic.cacheControl.ttl === "1h" ? "1h" : (asked ?? "5m")
    }
  }
  return asked
}

/**
 * The request to estimate a call from: its prompt (system messages as the system text, tool
 * messages as the user's), the tools sent as JSON, the config's model and max tokens, and the
 * cache lifetime the prompt asks for.
 */
export const estimateRequest = (
  prompt: AiPrompt.Prompt,
  tools: ReadonlyArray<string>,
  config: CallConfig
): Either.Either<CompletionRequest, InvalidRequest> => {
  const system: Array<TextBlock> = tools.map((text) => ({ type: "text", text }))
  if (tools.length > 0) system.push(toolUseSystemPrompt)
  const messages: Array<Message> = []
  for (const [i, message] of prompt.content.entries()) {
    if (message.role === "system") {
      system.push({ type: "text", text: message.content })
      continue
    }
    const content = blocks(message.content, `prompt[${i}].content`)
    if (Either.isLeft(content)) return Either.left(content.left)
    messages.push({ role: message.role === "assistant" ? "assistant" : "user", content: content.right })
  }
  return Either.right({
    model: config.model,
    maxTokens: config.maxTokens,
    messages,
    ...(system.length > 0 ? { system } : {}),
    cache: cacheAsked(prompt)
  })
}
