/**
 * The tools Anthropic runs itself (web search, code execution…), as SDK 1.14 knows them: a server
 * tool is passed through as the caller wrote it (snake_case, as the API takes it) once its type
 * and name are ones the SDK knows; the API checks the rest.
 */
import type Anthropic from "@anthropic-ai/sdk"
import type { ServerTool } from "@fleetguard/core"

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

/** Whether `tool` is a server tool the SDK knows: its type, and the name that type requires. */
export const isKnownServerTool = (tool: ServerTool): tool is ServerTool & ServerToolParam =>
  Object.hasOwn(names, tool.type) && names[tool.type] === tool.name

/** What is wrong with a server tool the SDK does not know, for the refusal naming it. */
export const unknownServerTool = (tool: ServerTool): string =>
  Object.hasOwn(names, tool.type)
    ? `must be named "${names[tool.type]}" for type "${tool.type}"`
    : `is not a server tool type @anthropic-ai/sdk 1.14 knows (${Object.keys(names).join(", ")})`
