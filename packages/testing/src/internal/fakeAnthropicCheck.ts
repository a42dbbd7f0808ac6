/**
 * FakeAnthropic's checks of a request's shape, as the API makes them: every field known and of its
 * type (`temperature`, `top_p` and `top_k` are gone from SDK 1.x's API, so refused like any unknown
 * field), every block of a kind the API takes with the fields it needs and in a turn that may hold
 * it, tools well formed, the tool choice naming a tool given, the thinking budget within its
 * bounds. A failure is the API's 400 message, naming the field the way the API does
 * (`messages.1.content.0.text: Field required`). Pure.
 */

import { type Fields, isRecord } from "./countTokens.js"

export type Endpoint = "messages" | "count_tokens"

type Check = (u: unknown, path: string) => string | undefined

/** The first failure of several checks, each run only if those before it passed. */
const first = (...checks: ReadonlyArray<() => string | undefined>): string | undefined => {
  for (const check of checks) {
    const failure = check()
    if (failure !== undefined) return failure
  }
  return undefined
}

/** A field's path under `path` (the body's own fields under ""). */
const at = (path: string, key: string | number) => (path === "" ? String(key) : `${path}.${key}`)

const required = (u: unknown, path: string, why: string) => `${path}: ${u === undefined ? "Field required" : why}`
const record: Check = (u, path) => (isRecord(u) ? undefined : required(u, path, "Input should be a valid dictionary"))
const string: Check = (u, path) =>
  typeof u === "string" ? undefined : required(u, path, "Input should be a valid string")
const nonEmpty: Check = (u, path) =>
  string(u, path) ?? ((u as string).length > 0 ? undefined : `${path}: String should have at least 1 character`)
const boolean: Check = (u, path) =>
  typeof u === "boolean" ? undefined : required(u, path, "Input should be a valid boolean")
const positiveInteger: Check = (u, path) =>
  typeof u === "number" && Number.isSafeInteger(u) && u > 0
    ? undefined
    : required(u, path, "Input should be a positive integer")
const optional =
  (check: Check): Check =>
  (u, path) =>
    u === undefined ? undefined : check(u, path)
/** For the fields the API types `| null`. */
const nullable =
  (check: Check): Check =>
  (u, path) =>
    u === undefined || u === null ? undefined : check(u, path)
const literal =
  (...allowed: ReadonlyArray<string>): Check =>
  (u, path) =>
    typeof u === "string" && allowed.includes(u)
      ? undefined
      : required(u, path, `Input should be ${allowed.map((a) => `'${a}'`).join(" or ")}`)
const anything: Check = () => undefined
const array =
  (check: Check, least = 0): Check =>
  (u, path) => {
    if (!Array.isArray(u)) return required(u, path, "Input should be a valid list")
    if (u.length < least) return `${path}: List should have at least ${least} item`
    return first(...u.map((item, i) => () => check(item, at(path, i))))
  }
const either =
  (...checks: ReadonlyArray<Check>): Check =>
  (u, path) => {
    const failures = checks.map((check) => check(u, path))
    return failures.includes(undefined) ? undefined : failures[failures.length - 1]
  }

type Shape = Readonly<Record<string, Check>>

/** `u` has only the fields of `shape`, each as it says. */
const struct =
  (shape: Shape): Check =>
  (u, path) =>
    first(
      () => record(u, path),
      () => {
        const extra = Object.keys(u as Fields).find((key) => !Object.hasOwn(shape, key))
        return extra === undefined ? undefined : `${at(path, extra)}: Extra inputs are not permitted`
      },
      () =>
        first(
          ...Object.entries(shape).map(
            ([key, check]) =>
              () =>
                check((u as Fields)[key], at(path, key))
          )
        )
    )

/** Told apart by `type`, each kind with its own shape; `open` kinds pass with any fields. */
const tagged =
  (kinds: Readonly<Record<string, Shape>>, open: ReadonlyArray<string> = []): Check =>
  (u, path) => {
    if (!isRecord(u)) return record(u, path)
    const type = u.type
    if (typeof type === "string" && open.includes(type)) return undefined
    if (typeof type === "string" && Object.hasOwn(kinds, type))
      return struct({ type: anything, ...kinds[type] })(u, path)
    const expected = [...Object.keys(kinds), ...open].map((k) => `'${k}'`).join(", ")
    return `${path}: Input tag '${String(type)}' found using 'type' does not match any of the expected tags: ${expected}`
  }

const cache = { cache_control: anything }
const textShape: Shape = { text: string, citations: anything, ...cache }
const imageShape: Shape = {
  source: tagged({
    base64: { media_type: literal("image/jpeg", "image/png", "image/gif", "image/webp"), data: string },
    url: { url: string },
    file: { file_id: string }
  }),
  ...cache
}
const documentShape: Shape = {
  source: tagged({
    base64: { media_type: literal("application/pdf"), data: string },
    text: { media_type: literal("text/plain"), data: string },
    content: { content: either(string, array(tagged({ text: textShape }))) },
    url: { url: string },
    file: { file_id: string }
  }),
  title: nullable(string),
  context: nullable(string),
  citations: anything,
  ...cache
}

/** Blocks of server tools sent back as the API wrote them: the fake passes them as they are. */
const serverBlocks = [
  "search_result",
  "server_tool_use",
  "web_search_tool_result",
  "web_fetch_tool_result",
  "code_execution_tool_result",
  "bash_code_execution_tool_result",
  "text_editor_code_execution_tool_result",
  "tool_search_tool_result",
  "container_upload"
]

const block = tagged(
  {
    text: textShape,
    image: imageShape,
    document: documentShape,
    tool_use: { id: nonEmpty, name: nonEmpty, input: record, caller: anything, toolset_name: anything, ...cache },
    tool_result: {
      tool_use_id: nonEmpty,
      content: optional(
        either(
          string,
          array(tagged({ text: textShape, image: imageShape, document: documentShape }, ["search_result"]))
        )
      ),
      is_error: optional(boolean),
      toolset_name: anything,
      ...cache
    },
    thinking: { thinking: string, signature: string },
    redacted_thinking: { data: string }
  },
  serverBlocks
)

const modelBlocks: ReadonlySet<unknown> = new Set(["tool_use", "thinking", "redacted_thinking"])
const userBlocks: ReadonlySet<unknown> = new Set(["tool_result", "image", "document"])

/** The model's blocks in its own turns, tool results and media in the user's. */
const placed = (role: unknown, type: unknown, path: string) =>
  (role === "user" ? modelBlocks : userBlocks).has(type)
    ? `${path}.type: '${String(type)}' blocks are not allowed in ${String(role)} messages`
    : undefined

const message: Check = (m, path) =>
  first(
    () => struct({ role: literal("user", "assistant"), content: either(string, array(block)) })(m, path),
    () => {
      const { role, content } = m as Fields
      if (!Array.isArray(content)) return undefined
      return first(...content.map((b, i) => () => placed(role, (b as Fields).type, `${path}.content.${i}`)))
    }
  )

const toolName: Check = (u, path) =>
  string(u, path) ??
  (/^[a-zA-Z0-9_-]{1,128}$/.test(u as string)
    ? undefined
    : `${path}: String should match pattern '^[a-zA-Z0-9_-]{1,128}$'`)

const customTool = struct({
  name: toolName,
  input_schema: (u, path) =>
    record(u, path) ?? ((u as Fields).type === "object" ? undefined : `${path}.type: Input should be 'object'`),
  description: optional(string),
  type: optional(literal("custom")),
  strict: optional(boolean),
  defer_loading: optional(boolean),
  eager_input_streaming: anything,
  input_examples: anything,
  allowed_callers: anything,
  ...cache
})

/** A client tool (`tools.0.custom.name`, as the API names it), or a server tool by its type and name. */
const tool: Check = (u, path) => {
  if (!isRecord(u)) return record(u, path)
  if (u.type === undefined || u.type === null || u.type === "custom") return customTool(u, `${path}.custom`)
  return string(u.type, `${path}.type`) ?? nonEmpty(u.name, `${path}.name`)
}

const toolChoice = tagged({
  auto: { disable_parallel_tool_use: optional(boolean) },
  any: { disable_parallel_tool_use: optional(boolean) },
  tool: { name: string, disable_parallel_tool_use: optional(boolean) },
  none: {}
})

const thinking = tagged({
  enabled: { budget_tokens: positiveInteger, display: anything },
  adaptive: { display: anything },
  disabled: {},
  between_tools: {}
})

const system = either(string, array(tagged({ text: textShape })))

/** The fields both endpoints take. */
const common: Shape = {
  model: nonEmpty,
  messages: array(message, 1),
  system: optional(system),
  tools: optional(array(tool)),
  tool_choice: optional(toolChoice),
  thinking: optional(thinking),
  cache_control: anything,
  output_config: anything,
  speed: anything,
  user_profile_id: optional(string),
  workspace_id: optional(string),
  mcp_servers: anything,
  context_management: anything
}

const messagesShape = struct({
  ...common,
  max_tokens: positiveInteger,
  stop_sequences: optional(array(string)),
  stream: optional(boolean),
  metadata: optional(struct({ user_id: nullable(string) })),
  container: anything,
  diagnostics: anything,
  inference_geo: anything,
  service_tier: optional(literal("auto", "standard_only"))
})
const countShape = struct(common)

/** What the fields say together: tool names unique, tools given for tool blocks and for the choice, the thinking budget in bounds. */
const consistent = (body: Fields, endpoint: Endpoint): string | undefined => {
  const tools = Array.isArray(body.tools) ? (body.tools as ReadonlyArray<Fields>) : []
  const names = tools.map((t) => t.name)
  const choice = isRecord(body.tool_choice) ? body.tool_choice : undefined
  const budget = isRecord(body.thinking) && body.thinking.type === "enabled" ? body.thinking.budget_tokens : undefined
  const toolBlocks = (body.messages as ReadonlyArray<Fields>).some(
    (m) => Array.isArray(m.content) && m.content.some((b: Fields) => b.type === "tool_use" || b.type === "tool_result")
  )
  return first(
    () => (new Set(names).size === names.length ? undefined : "tools: Tool names must be unique."),
    () =>
      toolBlocks && tools.length === 0
        ? "tools: Requests which include `tool_use` or `tool_result` blocks must define tools."
        : undefined,
    () =>
      choice?.type === "tool" && !names.includes(choice.name)
        ? `tool_choice.name: Tool '${String(choice.name)}' not found in tools`
        : undefined,
    () =>
      typeof budget !== "number"
        ? undefined
        : budget < 1024
          ? "thinking.budget_tokens: Input should be greater than or equal to 1024"
          : endpoint === "messages" && budget >= (body.max_tokens as number)
            ? "thinking.budget_tokens: `max_tokens` must be greater than `thinking.budget_tokens`"
            : choice?.type === "any" || choice?.type === "tool"
              ? "tool_choice: Thinking may not be enabled when tool_choice forces tool use."
              : undefined
  )
}

/** The first thing wrong with `body` for `endpoint`, as the API says it; undefined when nothing is. */
export const check = (body: unknown, endpoint: Endpoint): string | undefined =>
  isRecord(body)
    ? ((endpoint === "messages" ? messagesShape : countShape)(body, "") ?? consistent(body, endpoint))
    : "body: Input should be a valid dictionary"
