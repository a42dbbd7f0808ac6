/**
 * The schema's check (schema.ts) written out by hand: every call is checked, and this costs a
 * tenth of `Schema.is` (measured); the schema still says what is wrong when this says no. A
 * property test holds the two together on any value.
 */
import type { CompletionRequest } from "../../Llm.js"
import { isPositiveInteger } from "../../Options.js"
import { jsonIssue } from "./json.js"
import { isRecord } from "./read.js"
import * as Rules from "./rules.js"

type Fields = Readonly<Record<string, unknown>>

const isOptional = (u: unknown, is: (u: unknown) => boolean): boolean => u === undefined || is(u)

const isString = (u: unknown): u is string => typeof u === "string"

const isBoolean = (u: unknown): boolean => typeof u === "boolean"

const isJson = (u: unknown): boolean => jsonIssue(u) === undefined

const isTextBlock = (b: unknown): boolean => isRecord(b) && b.type === "text" && isString(b.text)

const isSource = (source: unknown, isMediaType: (u: unknown) => boolean, text: boolean): boolean => {
  if (!isRecord(source)) return false
  switch (source.type) {
    case "base64":
      return isMediaType(source.mediaType) && Rules.isNonEmptyString(source.data)
    case "url":
      return Rules.isHttpUrl(source.url)
    case "text":
      return text && isString(source.data)
    default:
      return false
  }
}

const isImageBlock = (b: Fields): boolean => b.type === "image" && isSource(b.source, Rules.isImageMediaType, false)

const isResultBlock = (b: unknown): boolean => isRecord(b) && (isTextBlock(b) || isImageBlock(b))

const isBlock = (b: Fields): boolean => {
  switch (b.type) {
    case "text":
      return isString(b.text)
    case "image":
      return isImageBlock(b)
    case "document":
      return (
        isSource(b.source, (t) => t === "application/pdf", true) &&
        isOptional(b.title, isString) &&
        isOptional(b.context, isString)
      )
    case "tool_use":
      return Rules.isNonEmptyString(b.id) && Rules.isToolName(b.name) && isJson(b.input)
    case "tool_result":
      return (
        Rules.isNonEmptyString(b.toolUseId) &&
        (isString(b.content) || (Array.isArray(b.content) && b.content.every(isResultBlock))) &&
        isOptional(b.isError, isBoolean)
      )
    case "thinking":
      return isString(b.thinking) && isString(b.signature)
    case "redacted_thinking":
      return isString(b.data)
    default:
      return false
  }
}

/** A message's content: a string, or blocks of any kind that may be in a message of its role. */
const isContent = (role: unknown, content: unknown): boolean => {
  if (isString(content)) return true
  if (!Array.isArray(content)) return false
  for (const b of content) {
    if (!isRecord(b) || !isBlock(b) || Rules.misplaced(role, b.type) !== undefined) return false
  }
  return true
}

const isMessage = (m: unknown): boolean =>
  isRecord(m) && (m.role === "user" || m.role === "assistant") && isContent(m.role, m.content)

const isSystem = (u: unknown): boolean => isString(u) || (Array.isArray(u) && u.every(isTextBlock))

const isServerTool = (t: Fields): boolean =>
  Rules.isNonEmptyString(t.type) &&
  Rules.isToolName(t.name) &&
  Object.keys(t).every((key) => t[key] === undefined || isJson(t[key]))

const isClientTool = (t: Fields): boolean =>
  Rules.isToolName(t.name) &&
  isOptional(t.description, isString) &&
  isJson(t.inputSchema) &&
  isRecord(t.inputSchema) &&
  t.inputSchema.type === "object" &&
  isOptional(t.type, (type) => type === "custom")

const isTool = (t: unknown): boolean => isRecord(t) && (Rules.isServerTool(t) ? isServerTool(t) : isClientTool(t))

const isToolChoice = (u: unknown): boolean => {
  if (!isRecord(u)) return false
  const parallel = isOptional(u.disableParallelToolUse, isBoolean)
  switch (u.type) {
    case "auto":
    case "any":
      return parallel
    case "none":
      return true
    case "tool":
      return Rules.isToolName(u.name) && parallel
    default:
      return false
  }
}

const isThinking = (u: unknown): boolean =>
  isRecord(u) &&
  (u.type === "enabled" ? Rules.isBudgetTokens(u.budgetTokens) : u.type === "adaptive" || u.type === "disabled")

const isMetadata = (u: unknown): boolean => isRecord(u) && isOptional(u.userId, Rules.isNonEmptyString)

/** What a request may have besides its model, maxTokens and messages: absent, or well formed. */
const hasWellFormedOptions = (u: Fields): boolean =>
  (u.system === undefined || isSystem(u.system)) &&
  (u.tools === undefined || (Array.isArray(u.tools) && u.tools.every(isTool))) &&
  (u.toolChoice === undefined || isToolChoice(u.toolChoice)) &&
  (u.stopSequences === undefined ||
    (Array.isArray(u.stopSequences) && u.stopSequences.every(Rules.isNonEmptyString))) &&
  (u.thinking === undefined || isThinking(u.thinking)) &&
  (u.metadata === undefined || isMetadata(u.metadata)) &&
  (u.cache === undefined || u.cache === "5m" || u.cache === "1h")

export const isWellFormed = (u: unknown): u is CompletionRequest => {
  if (!isRecord(u)) return false
  const { model, maxTokens, messages } = u
  if (typeof model !== "string" || model.trim() === "" || !isPositiveInteger(maxTokens)) return false
  if (!Array.isArray(messages) || messages.length === 0) return false
  for (const m of messages) if (!isMessage(m)) return false
  return hasWellFormedOptions(u) && Rules.crossIssue(u as unknown as CompletionRequest) === undefined
}
