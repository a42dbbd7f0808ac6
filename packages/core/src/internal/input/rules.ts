/**
 * The rules of a request that are not its shape alone, written once: the schema (which says what is
 * wrong) and the hand-written check (which only says whether) both use them.
 */
import type { CompletionRequest } from "../../Llm.js"

/** Where in the request a rule is broken (its path from the request), and what it must be. */
export interface Issue {
  readonly path: ReadonlyArray<PropertyKey>
  readonly reason: string
}

export const isNonEmptyString = (u: unknown): u is string => typeof u === "string" && u !== ""

const toolName = /^[a-zA-Z0-9_-]{1,128}$/

/** A tool's name as the Messages API takes it. */
export const isToolName = (u: unknown): u is string => typeof u === "string" && toolName.test(u)

export const toolNameReason = "must be a tool name: 1 to 128 letters, digits, _ or -"

/** The image formats the Messages API takes inline. */
export const imageMediaTypes: ReadonlyArray<string> = ["image/jpeg", "image/png", "image/gif", "image/webp"]

export const isImageMediaType = (u: unknown): u is string => typeof u === "string" && imageMediaTypes.includes(u)

/** An absolute http: or https: URL, which the provider fetches. */
export const isHttpUrl = (u: unknown): u is string => {
  if (typeof u !== "string" || !URL.canParse(u)) return false
  const { protocol } = new URL(u)
  return protocol === "http:" || protocol === "https:"
}

/** The fewest thinking tokens the Messages API lets a request budget. */
export const minBudgetTokens = 1024

export const isBudgetTokens = (u: unknown): u is number =>
  typeof u === "number" && Number.isSafeInteger(u) && u >= minBudgetTokens

/**
 * Whether a tool (an object) is a server tool: one with a type other than "custom" and no
 * `inputSchema`. Anything else is read as a client tool, which must have an `inputSchema`.
 */
export const isServerTool = (tool: Readonly<Record<string, unknown>>): boolean =>
  tool.inputSchema === undefined && tool.type !== undefined && tool.type !== "custom"

/** Why a block of type `type` cannot be in a message of `role`, as the Messages API says. */
export const misplaced = (role: unknown, type: unknown): string | undefined => {
  if (role === "assistant") {
    return type === "tool_result"
      ? "cannot be a tool_result in an assistant message: it goes in a user message"
      : undefined
  }
  if (type === "tool_use") return "cannot be a tool_use in a user message: it goes in an assistant message"
  return type === "thinking" || type === "redacted_thinking"
    ? `cannot be a ${type} block in a user message: it goes back in an assistant message`
    : undefined
}

/** The first tool named as an earlier one, if any. */
const duplicateTool = (tools: NonNullable<CompletionRequest["tools"]>): Issue | undefined => {
  const seen = new Map<string, number>()
  for (let i = 0; i < tools.length; i++) {
    const name = tools[i]?.name ?? ""
    const first = seen.get(name)
    if (first !== undefined) return { path: ["tools", i, "name"], reason: `must be unique: tools[${first}] has it` }
    seen.set(name, i)
  }
  return undefined
}

/** The rules across fields of a request whose every field is well formed; undefined if it keeps them all. */
export const crossIssue = (request: CompletionRequest): Issue | undefined => {
  const { tools, toolChoice, thinking, maxTokens } = request
  const duplicate = tools === undefined ? undefined : duplicateTool(tools)
  if (duplicate !== undefined) return duplicate
  if (toolChoice !== undefined && toolChoice.type !== "none") {
    if (tools === undefined || tools.length === 0) {
      return { path: ["toolChoice"], reason: 'needs tools to choose from (or type "none")' }
    }
    if (toolChoice.type === "tool" && !tools.some((tool) => tool.name === toolChoice.name)) {
      return { path: ["toolChoice", "name"], reason: "must be the name of one of tools" }
    }
  }
  if (thinking?.type === "enabled" && thinking.budgetTokens >= maxTokens) {
    return { path: ["thinking", "budgetTokens"], reason: "must be below maxTokens (thinking is part of the output)" }
  }
  return undefined
}
