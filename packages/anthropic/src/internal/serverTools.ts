/**
 * The tools Anthropic runs itself (web search, code execution…), as SDK 1.14 knows them: a server
 * tool is passed through as the caller wrote it (snake_case, as the API takes it) once its type
 * and name are ones the SDK knows; the API checks the rest of its fields.
 */
import type Anthropic from "@anthropic-ai/sdk"
import type { ServerTool } from "@fleetguard/core"
import { Either } from "effect"

type ServerToolParam = Exclude<Anthropic.ToolUnion, Anthropic.Tool>

/** Each server tool type the SDK names, with the tool name the API requires of it. */
const names: Readonly<Record<string, string>> = {
  bash_20250124: "bash",
  code_execution_20250522: "code_execution",
  code_execution_20250825: "code_execution",
  code_execution_20260120: "code_execution",
  code_execution_20260521: "code_execution",
  memory_20250818: "memory",
  text_editor_20250124: "str_replace_editor",
  text_editor_20250429: "str_replace_based_edit_tool",
  text_editor_20250728: "str_replace_based_edit_tool",
  web_search_20250305: "web_search",
  web_search_20260209: "web_search",
  web_search_20260318: "web_search",
  web_fetch_20250910: "web_fetch",
  web_fetch_20260209: "web_fetch",
  web_fetch_20260309: "web_fetch",
  web_fetch_20260318: "web_fetch",
  tool_search_tool_bm25_20251119: "tool_search_tool_bm25",
  tool_search_tool_bm25: "tool_search_tool_bm25",
  tool_search_tool_regex_20251119: "tool_search_tool_regex",
  tool_search_tool_regex: "tool_search_tool_regex"
}

// The one place a caller's object is taken for the SDK's type: its type and name are checked
// against the SDK's own list; its other fields are the API's to check.
const isKnown = (tool: ServerTool): tool is ServerTool & ServerToolParam =>
  Object.hasOwn(names, tool.type) && names[tool.type] === tool.name

/** What is wrong with a server tool, by the field at fault. */
export interface ServerToolRefusal {
  readonly field: "type" | "name"
  readonly reason: string
}

/** A server tool the SDK knows, copied as the API takes it; or the field the SDK does not know. */
export const serverTool = (tool: ServerTool): Either.Either<ServerToolParam, ServerToolRefusal> => {
  if (isKnown(tool)) return Either.right({ ...tool })
  return Object.hasOwn(names, tool.type)
    ? Either.left({ field: "name", reason: `must be "${names[tool.type]}" for type "${tool.type}"` })
    : Either.left({
        field: "type",
        reason: `is not a server tool type @anthropic-ai/sdk 1.14 knows (${Object.keys(names).join(", ")})`
      })
}
