/**
 * The request a guarded call is estimated from: the prompt as @effect/ai-anthropic will send it
 * (each part as the block it becomes: text, image, document, tool_use, tool_result, thinking) and
 * the tools sent with it, so that `Pricing.estimate` bounds it as it bounds an LlmClient request.
 */
import type { Prompt as AiPrompt } from "@effect/ai"
import { Tool as AiTool, Prompt } from "@effect/ai"
import type { CompletionRequest, ContentBlock, ImageMediaType, Message, TextBlock, Tool } from "@fleetguard/core"
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

/** Data as @effect/ai-anthropic sends it: a string as it is, bytes as base64. */
const sent = (data: string | Uint8Array): string => (typeof data === "string" ? data : Encoding.encodeBase64(data))

const imageTypes: ReadonlySet<string> = new Set(["image/jpeg", "image/png", "image/gif", "image/webp"])

/** A string option of Anthropic's for a part (`documentTitle`, `documentContext`), if set. */
const anthropicOption = (part: AiPrompt.Part, key: string): string | undefined => {
  const value: unknown = (part.options.anthropic as Record<string, unknown> | undefined)?.[key]
  return typeof value === "string" ? value : undefined
}

/**
 * A file as the block @effect/ai-anthropic sends: an image (base64, or by URL), a PDF or a text
 * document with its title and context; any other kind (which it refuses to send) as its data's text.
 */
const fileBlock = (part: AiPrompt.FilePart): ContentBlock => {
  const { data, mediaType } = part
  if (mediaType.startsWith("image/")) {
    return {
      type: "image",
      source:
        data instanceof URL
          ? { type: "url", url: data.href }
          : {
              type: "base64",
              mediaType: (imageTypes.has(mediaType) ? mediaType : "image/jpeg") as ImageMediaType,
              data: sent(data)
            }
    }
  }
  if (mediaType !== "application/pdf" && mediaType !== "text/plain")
    return { type: "text", text: data instanceof URL ? data.href : sent(data) }
  const title = anthropicOption(part, "documentTitle") ?? part.fileName
  const context = anthropicOption(part, "documentContext")
  return {
    type: "document",
    source:
      data instanceof URL
        ? { type: "url", url: data.href }
        : mediaType === "application/pdf"
          ? { type: "base64", mediaType, data: sent(data) }
          : { type: "text", data: sent(data) },
    ...(title === undefined ? {} : { title }),
    ...(context === undefined ? {} : { context })
  }
}

/** Reasoning sent back as Anthropic's thinking block (or redacted one); without its options, as its text. */
const reasoningBlock = (part: AiPrompt.ReasoningPart): ContentBlock => {
  const signature = anthropicOption(part, "signature")
  const redacted = anthropicOption(part, "redactedData")
  return signature !== undefined
    ? { type: "thinking", thinking: part.text, signature }
    : redacted !== undefined
      ? { type: "redacted_thinking", data: redacted }
      : { type: "text", text: part.text }
}

/**
 * A part as the block it is sent as, for the bound to read it as such: files as images and
 * documents, tool calls as tool_use, tool results as tool_result (their JSON, as sent). A tool the
 * provider ran (web search…) is sent as blocks of its own, and a result in an assistant message
 * cannot be a tool_result: their call and result are counted as their JSON text.
 */
const partBlock = (
  part: AiPrompt.Part,
  field: string,
  inAssistant: boolean
): Either.Either<ContentBlock, InvalidRequest> => {
  switch (part.type) {
    case "text":
      return Either.right({ type: "text", text: part.text })
    case "reasoning":
      return Either.right(reasoningBlock(part))
    case "file":
      return Either.right(fileBlock(part))
    case "tool-call":
      return part.providerExecuted
        ? asText(json({ id: part.id, name: part.name, input: part.params }, `${field}.params`))
        : Either.map(json(part.params, `${field}.params`), () => ({
            type: "tool_use" as const,
            id: part.id,
            name: part.name,
            input: part.params
          }))
    case "tool-result":
      return part.providerExecuted || inAssistant
        ? asText(json({ tool_use_id: part.id, content: part.result }, `${field}.result`))
        : Either.map(json(part.result, `${field}.result`), (content) => ({
            type: "tool_result" as const,
            toolUseId: part.id,
            content,
            isError: part.isFailure
          }))
  }
}

const asText = (text: Either.Either<string, InvalidRequest>): Either.Either<ContentBlock, InvalidRequest> =>
  Either.map(text, (t) => ({ type: "text", text: t }))

const blocks = (
  parts: ReadonlyArray<AiPrompt.Part>,
  field: string,
  inAssistant: boolean
): Either.Either<ReadonlyArray<ContentBlock>, InvalidRequest> =>
  Either.all(parts.map((part, i) => partBlock(part, `${field}[${i}]`, inAssistant)))

/** A tool as it is sent: its name, description and the JSON Schema of its parameters. */
export const toolDefinition = (
  name: string,
  description: string | undefined,
  parameters: SchemaAST.AST,
  field: string
): Either.Either<string, InvalidRequest> =>
  Either.flatMap(
    Either.try({
      try: () => AiTool.getJsonSchemaFromSchemaAst(parameters),
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
 * A tool as the request holds it, from the JSON `toolDefinition` wrote of it (what is sent): read
 * back, so that the bound counts it as a tool, the tool-use system prompt included.
 */
const asTool = (definition: string): Tool => {
  const { name, description, input_schema } = JSON.parse(definition) as {
    readonly name: string
    readonly description?: string
    readonly input_schema: Readonly<Record<string, unknown>>
  }
  return { name, inputSchema: input_schema, ...(description === undefined ? {} : { description }) }
}

/**
 * The request to estimate a call from: its prompt (system messages as the system text, tool
 * messages as the user's, every part as the block it is sent as), the tools sent, the config's
 * model and max tokens, and the cache lifetime the prompt asks for.
 */
export const estimateRequest = (
  prompt: AiPrompt.Prompt,
  tools: ReadonlyArray<string>,
  config: CallConfig
): Either.Either<CompletionRequest, InvalidRequest> => {
  const system: Array<TextBlock> = []
  const messages: Array<Message> = []
  for (const [i, message] of prompt.content.entries()) {
    if (message.role === "system") {
      system.push({ type: "text", text: message.content })
      continue
    }
    const content = blocks(message.content, `prompt[${i}].content`, message.role === "assistant")
    if (Either.isLeft(content)) return Either.left(content.left)
    messages.push({ role: message.role === "assistant" ? "assistant" : "user", content: content.right })
  }
  return Either.right({
    model: config.model,
    maxTokens: config.maxTokens,
    messages,
    ...(system.length > 0 ? { system } : {}),
    ...(tools.length > 0 ? { tools: tools.map(asTool) } : {}),
    cache: cacheAsked(prompt)
  })
}
