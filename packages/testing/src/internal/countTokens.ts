/**
 * The input tokens of a request as the test kit bills them (FakeAnthropic's usage and count_tokens,
 * TestProvider's usage: one count for both), block by block, like the API: ~4 UTF-8 bytes a token
 * for text, tool definitions, tool inputs and results, thinking; images by their size
 * (countMedia.ts); a PDF per page; the tool-use system prompt when tools are given. Independent of
 * fleetguard's estimate, which is tested against it. It reads the API's snake_case and core's
 * camelCase alike (the fields it counts are the same in both, but a tool's `input_schema`). Pure.
 */
import { Pricing } from "@fleetguard/core"
import * as Answers from "./answers.js"
import * as Media from "./countMedia.js"

/** What is counted of a request. */
export interface Counted {
  readonly model: string
  readonly system: unknown
  readonly messages: ReadonlyArray<unknown>
  readonly tools: ReadonlyArray<unknown> | undefined
  /** The `type` of its tool choice. */
  readonly toolChoice: string | undefined
}

/** The count, and the first part the API would refuse (named by its field, as the API names it). */
export interface Count {
  readonly inputTokens: number
  readonly refused: string | undefined
}

/**
 * The system prompt the API adds when a request has tools, as Anthropic documents it for current
 * models: 346 tokens with `tool_choice` auto or none, 313 with any or tool.
 */
export const toolSystemPromptTokens = (choice: string | undefined): number =>
  choice === "any" || choice === "tool" ? 313 : 346

/** A JSON object of a request, read field by field. */
export type Fields = Readonly<Record<string, unknown>>

export const isRecord = (u: unknown): u is Fields => typeof u === "object" && u !== null && !Array.isArray(u)
const str = (u: unknown): string => (typeof u === "string" ? u : "")
const json = (u: unknown): string => JSON.stringify(u) ?? ""

/** Bytes (counted ~4 a token at the end) and whole tokens (images, pages, the tool prompt) as they add up. */
class Tally {
  bytes = 0
  tokens = 0
  refused: string | undefined = undefined
  text(s: string): Tally {
    this.bytes += Pricing.byteLength(s)
    return this
  }
  add(tokens: number): Tally {
    this.tokens += tokens
    return this
  }
  refuse(path: string, why: string): Tally {
    this.refused ??= `${path}: ${why}`
    return this
  }
}

const image = (t: Tally, model: string, source: Fields, path: string): Tally => {
  if (source.type === "url") return t.add(Media.largestImageTokens(model))
  if (source.type !== "base64") return t.refuse(`${path}.type`, "FakeAnthropic reads base64 and url sources only")
  const read = Media.readImage(str(source.data))
  const declared = source.media_type ?? source.mediaType
  if (read === undefined) return t.refuse(`${path}.data`, "Could not process image")
  if (declared !== read.mediaType) {
    return t.refuse(
      path,
      `The image was specified using the ${String(declared)} media type, but the image appears to be a ${read.mediaType} image`
    )
  }
  return t.add(Media.imageTokens(model, read.width, read.height))
}

const document = (t: Tally, model: string, block: Fields, path: string): Tally => {
  t.text(str(block.title)).text(str(block.context))
  const source = isRecord(block.source) ? block.source : {}
  const at = `${path}.source`
  switch (source.type) {
    case "text":
      return t.text(str(source.data))
    case "content":
      return content(t, model, source.content, `${at}.content`)
    case "url":
      return t.refuse(`${at}.url`, "FakeAnthropic cannot fetch a document: send it as base64")
    case "base64": {
      const pdf = Media.readPdf(str(source.data))
      if (pdf === undefined) return t.refuse(`${at}.data`, "The PDF specified was not valid (no /Type /Page found)")
      t.bytes += pdf.textBytes
      return t.add(pdf.pages * Media.largestImageTokens(model))
    }
    default:
      return t.refuse(`${at}.type`, "FakeAnthropic reads base64, text, content and url sources only")
  }
}

const block = (t: Tally, model: string, b: unknown, path: string): Tally => {
  if (!isRecord(b)) return t
  switch (b.type) {
    case "text":
      return t.text(str(b.text))
    case "image":
      return image(t, model, isRecord(b.source) ? b.source : {}, `${path}.source`)
    case "document":
      return document(t, model, b, path)
    case "tool_use":
      return t.text(str(b.name)).text(Answers.inputJson(b.input))
    case "tool_result":
      return content(t, model, b.content, `${path}.content`)
    case "thinking":
      return t.text(str(b.thinking))
    case "redacted_thinking":
      return t.text(str(b.data))
    default:
      // A server tool's call or result sent back: by its JSON.
      return t.text(json(b))
  }
}

const content = (t: Tally, model: string, c: unknown, path: string): Tally => {
  if (typeof c === "string") return t.text(c)
  if (Array.isArray(c)) c.forEach((b, i) => void block(t, model, b, `${path}.${i}`))
  return t
}

/** A client tool by its name, description and input schema; a server tool by its JSON. */
const tool = (t: Tally, definition: unknown): Tally => {
  if (!isRecord(definition)) return t
  const schema = definition.input_schema ?? definition.inputSchema
  if (schema === undefined) return t.text(json(definition))
  return t.text(str(definition.name)).text(str(definition.description)).text(json(schema))
}

/** The input tokens of `request`, and what in it the API would refuse. */
export const count = (request: Counted): Count => {
  const t = new Tally()
  content(t, request.model, request.system, "system")
  request.messages.forEach((m, i) => {
    if (isRecord(m)) content(t, request.model, m.content, `messages.${i}.content`)
  })
  if (request.tools !== undefined && request.tools.length > 0) {
    t.add(toolSystemPromptTokens(request.toolChoice))
    for (const definition of request.tools) tool(t, definition)
  }
  return { inputTokens: Answers.bytesToTokens(t.bytes) + t.tokens, refused: t.refused }
}
