/**
 * Each rule of a request, broken once: refused naming the field, saying what it must be, never
 * echoing the value. `validate` accepts what the hand-written check accepts, so each case here
 * holds the check to the rule as well as the schema.
 */
import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import { validate } from "../src/internal/input/request.js"

const base = { model: "claude-haiku-4-5", maxTokens: 2_000, messages: [{ role: "user", content: "hi" }] }
const schema = { type: "object", properties: { q: { type: "string" } } }
const tool = { name: "search", description: "finds", inputSchema: schema }
const webSearch = { type: "web_search_20250305", name: "web_search", max_uses: 3 }
const user = (...content: ReadonlyArray<unknown>) => ({ ...base, messages: [{ role: "user", content }] })
const assistant = (...content: ReadonlyArray<unknown>) => ({
  ...base,
  messages: [
    { role: "user", content: "hi" },
    { role: "assistant", content }
  ]
})
const image = (source: unknown) => ({ type: "image", source })
const png = { type: "base64", mediaType: "image/png", data: "iVBORw0KGgo=" }
const result = (fields: object) => ({ type: "tool_result", toolUseId: "toolu_1", content: "42", ...fields })
const use = (fields: object) => ({ type: "tool_use", id: "toolu_1", name: "search", input: { q: "x" }, ...fields })
const cyclic = (): object => {
  const node: Record<string, unknown> = { type: "object" }
  node.properties = { self: node }
  return node
}
const deep = (levels: number): object => (levels === 0 ? {} : { a: deep(levels - 1) })

/** [what, request, field, what the message says]. */
const cases: ReadonlyArray<readonly [string, unknown, string, string]> = [
  ["temperature", { ...base, temperature: 0.7 }, "temperature", "the Messages API of SDK 1.x"],
  ["top_p", { ...base, top_p: 0.9 }, "top_p", "the Messages API of SDK 1.x"],
  ["top_k", { ...base, top_k: 40 }, "top_k", "the Messages API of SDK 1.x"],
  ["topP", { ...base, topP: 0.9 }, "topP", "the Messages API of SDK 1.x"],
  ["topK", { ...base, topK: 40 }, "topK", "the Messages API of SDK 1.x"],
  ["max_tokens", { ...base, max_tokens: 10 }, "max_tokens", "use maxTokens"],
  ["stop_sequences", { ...base, stop_sequences: ["x"] }, "stop_sequences", "use stopSequences"],
  ["tool_choice", { ...base, tools: [tool], tool_choice: { type: "auto" } }, "tool_choice", "use toolChoice"],
  [
    "input_schema",
    { ...base, tools: [{ name: "x", input_schema: schema }] },
    "tools[0].input_schema",
    "use inputSchema"
  ],
  [
    "tool_use_id",
    user({ type: "tool_result", tool_use_id: "t", content: "x" }),
    "messages[0].content[0].tool_use_id",
    "use toolUseId"
  ],
  [
    "media_type",
    user(image({ type: "base64", media_type: "image/png", data: "AA" })),
    "messages[0].content[0].source.media_type",
    "use mediaType"
  ],
  ["is_error", user(result({ is_error: true })), "messages[0].content[0].is_error", "use isError"],
  [
    "budget_tokens",
    { ...base, thinking: { type: "enabled", budget_tokens: 1024 } },
    "thinking.budget_tokens",
    "use budgetTokens"
  ],
  ["user_id", { ...base, metadata: { user_id: "u" } }, "metadata.user_id", "use userId"],
  [
    "disable_parallel_tool_use",
    { ...base, tools: [tool], toolChoice: { type: "any", disable_parallel_tool_use: true } },
    "toolChoice.disable_parallel_tool_use",
    "use disableParallelToolUse"
  ],
  ["an unknown field", { ...base, stream: true }, "stream", "is not a field of a request"],
  [
    "an unknown field of a message",
    { ...base, messages: [{ role: "user", content: "hi", name: "x" }] },
    "messages[0].name",
    "is not a field of a message"
  ],
  [
    "an unknown field of a block",
    user({ type: "text", text: "hi", cache_control: {} }),
    "messages[0].content[0].cache_control",
    "is not a field of a text block"
  ],
  [
    "an unknown field of a source",
    user(image({ ...png, width: 3 })),
    "messages[0].content[0].source.width",
    'is not a field of a "base64" image source'
  ],
  [
    "an unknown field of a client tool",
    { ...base, tools: [{ ...tool, strict: true }] },
    "tools[0].strict",
    "is not a field of a client tool"
  ],
  [
    "a field of another tool choice",
    { ...base, tools: [tool], toolChoice: { type: "none", disableParallelToolUse: true } },
    "toolChoice.disableParallelToolUse",
    'is not a field of a toolChoice of type "none"'
  ],
  [
    "an unknown field of thinking",
    { ...base, thinking: { type: "adaptive", budgetTokens: 2000 } },
    "thinking.budgetTokens",
    'is not a field of a thinking of type "adaptive"'
  ],
  [
    "a tool name with a space",
    { ...base, tools: [{ ...tool, name: "web search" }] },
    "tools[0].name",
    "must be a tool name"
  ],
  [
    "a tool name too long",
    { ...base, tools: [{ ...tool, name: "x".repeat(129) }] },
    "tools[0].name",
    "must be a tool name"
  ],
  [
    "two tools of one name",
    { ...base, tools: [tool, webSearch, { ...tool, description: "again" }] },
    "tools[2].name",
    "must be unique: tools[0] has it"
  ],
  ["a client tool without a schema", { ...base, tools: [{ name: "x" }] }, "tools[0].inputSchema", "is required"],
  [
    "an input schema that is no object",
    { ...base, tools: [{ name: "x", inputSchema: "object" }] },
    "tools[0].inputSchema",
    "must be a JSON Schema of an object"
  ],
  [
    "an input schema of a string",
    { ...base, tools: [{ name: "x", inputSchema: { type: "string" } }] },
    "tools[0].inputSchema.type",
    'must be "object"'
  ],
  [
    "an input schema holding a Date",
    { ...base, tools: [{ name: "x", inputSchema: { ...schema, default: new Date(0) } }] },
    "tools[0].inputSchema.default",
    "must be JSON"
  ],
  [
    "an input schema holding NaN",
    { ...base, tools: [{ name: "x", inputSchema: { ...schema, enum: [1, Number.NaN] } }] },
    "tools[0].inputSchema.enum[1]",
    "must be JSON"
  ],
  [
    "an input schema that refers to itself",
    { ...base, tools: [{ name: "x", inputSchema: cyclic() }] },
    "tools[0].inputSchema.properties.self",
    "refers to itself"
  ],
  [
    "an input schema nested too deeply",
    { ...base, tools: [{ name: "x", inputSchema: { type: "object", a: deep(70) } }] },
    `tools[0].inputSchema${".a".repeat(64)}`,
    "nested too deeply"
  ],
  [
    "a client tool of another type",
    { ...base, tools: [{ ...tool, type: "function" }] },
    "tools[0].type",
    'must be "custom"'
  ],
  [
    "a server tool with a bad name",
    { ...base, tools: [{ ...webSearch, name: "web search" }] },
    "tools[0].name",
    "must be a tool name"
  ],
  [
    "a server tool field that is not JSON",
    { ...base, tools: [{ ...webSearch, max_uses: () => 3 }] },
    "tools[0].max_uses",
    "must be JSON"
  ],
  [
    "a server tool field holding undefined in an array",
    { ...base, tools: [{ ...webSearch, allowed_domains: [undefined] }] },
    "tools[0].allowed_domains[0]",
    "must be JSON"
  ],
  ["tools that are no array", { ...base, tools: tool }, "tools", "must be an array of tools"],
  ["a tool choice with no tools", { ...base, toolChoice: { type: "auto" } }, "toolChoice", "needs tools"],
  [
    "a tool choice with no tools (empty)",
    { ...base, tools: [], toolChoice: { type: "any" } },
    "toolChoice",
    "needs tools"
  ],
  [
    "a tool choice naming no tool",
    { ...base, tools: [tool], toolChoice: { type: "tool", name: "fetch" } },
    "toolChoice.name",
    "must be the name of one of tools"
  ],
  [
    "a tool choice naming no tool name",
    { ...base, tools: [tool], toolChoice: { type: "tool", name: "a b" } },
    "toolChoice.name",
    "must be a tool name"
  ],
  [
    "a tool choice of no type",
    { ...base, tools: [tool], toolChoice: { type: "required" } },
    "toolChoice.type",
    'must be "auto", "any", "none" or "tool"'
  ],
  [
    "disableParallelToolUse not a boolean",
    { ...base, tools: [tool], toolChoice: { type: "auto", disableParallelToolUse: 1 } },
    "toolChoice.disableParallelToolUse",
    "must be true or false"
  ],
  [
    "a thinking budget below 1024",
    { ...base, thinking: { type: "enabled", budgetTokens: 1023 } },
    "thinking.budgetTokens",
    "must be a whole number ≥ 1024"
  ],
  [
    "a thinking budget not whole",
    { ...base, thinking: { type: "enabled", budgetTokens: 1500.5 } },
    "thinking.budgetTokens",
    "must be a whole number ≥ 1024"
  ],
  [
    "a thinking budget of maxTokens",
    { ...base, thinking: { type: "enabled", budgetTokens: 2_000 } },
    "thinking.budgetTokens",
    "must be below maxTokens"
  ],
  [
    "thinking of no type",
    { ...base, thinking: { type: "on" } },
    "thinking.type",
    'must be "enabled", "adaptive" or "disabled"'
  ],
  ["an empty stop sequence", { ...base, stopSequences: ["END", ""] }, "stopSequences[1]", "must be a non-empty string"],
  [
    "stop sequences that are no array",
    { ...base, stopSequences: "END" },
    "stopSequences",
    "must be an array of non-empty strings"
  ],
  ["an empty user id", { ...base, metadata: { userId: "" } }, "metadata.userId", "must be a non-empty string"],
  ["metadata that is no object", { ...base, metadata: "u" }, "metadata", "must be an object { userId }"],
  ["a text block without text", user({ type: "text" }), "messages[0].content[0].text", "is required"],
  ["a block of no type", user({ type: "video" }), "messages[0].content[0].type", 'must be "text", "image"'],
  ["a block that is null", user(null), "messages[0].content[0]", "must be a content block"],
  [
    "an image of another format",
    user(image({ ...png, mediaType: "image/bmp" })),
    "messages[0].content[0].source.mediaType",
    'must be one of "image/jpeg"'
  ],
  [
    "an image without data",
    user(image({ ...png, data: "" })),
    "messages[0].content[0].source.data",
    "must be base64 data"
  ],
  [
    "an image by a URL of no http",
    user(image({ type: "url", url: "ftp://example.com/a.png" })),
    "messages[0].content[0].source.url",
    "must be an http(s) URL"
  ],
  [
    "an image by no URL",
    user(image({ type: "url", url: "example.com/a.png" })),
    "messages[0].content[0].source.url",
    "must be an http(s) URL"
  ],
  [
    "an image of text",
    user(image({ type: "text", data: "hello" })),
    "messages[0].content[0].source.type",
    'must be "base64" or "url"'
  ],
  [
    "a document of another format",
    user({ type: "document", source: { ...png, mediaType: "text/plain" } }),
    "messages[0].content[0].source.mediaType",
    'must be "application/pdf"'
  ],
  [
    "a document title that is no string",
    user({ type: "document", source: { type: "text", data: "d" }, title: 5 }),
    "messages[0].content[0].title",
    "must be a string"
  ],
  [
    "a document context that is no string",
    user({ type: "document", source: { type: "url", url: "https://example.com/d.pdf" }, context: ["c"] }),
    "messages[0].content[0].context",
    "must be a string"
  ],
  ["a tool_use without an id", assistant(use({ id: "" })), "messages[1].content[0].id", "must be a non-empty string"],
  ["a tool_use of no tool name", assistant(use({ name: "a b" })), "messages[1].content[0].name", "must be a tool name"],
  [
    "a tool_use whose input is not JSON",
    assistant(use({ input: { q: Number.POSITIVE_INFINITY } })),
    "messages[1].content[0].input.q",
    "must be JSON"
  ],
  ["a tool_use without input", assistant(use({ input: undefined })), "messages[1].content[0].input", "is required"],
  ["a tool_use in a user message", user(use({})), "messages[0].content[0]", "cannot be a tool_use in a user message"],
  [
    "a tool_result without an id",
    user(result({ toolUseId: "" })),
    "messages[0].content[0].toolUseId",
    "must be a non-empty string"
  ],
  [
    "a tool_result holding a document",
    user(result({ content: [{ type: "document", source: { type: "text", data: "d" } }] })),
    "messages[0].content[0].content[0].type",
    'must be "text" or "image"'
  ],
  [
    "a tool_result of no content",
    user(result({ content: 42 })),
    "messages[0].content[0].content",
    "must be a string or an array of text and image blocks"
  ],
  [
    "isError not a boolean",
    user(result({ isError: "yes" })),
    "messages[0].content[0].isError",
    "must be true or false"
  ],
  [
    "a tool_result in an assistant message",
    assistant(result({})),
    "messages[1].content[0]",
    "cannot be a tool_result in an assistant message"
  ],
  [
    "thinking in a user message",
    user({ type: "thinking", thinking: "t", signature: "s" }),
    "messages[0].content[0]",
    "cannot be a thinking block in a user message"
  ],
  [
    "redacted thinking in a user message",
    user({ type: "redacted_thinking", data: "d" }),
    "messages[0].content[0]",
    "cannot be a redacted_thinking block"
  ],
  [
    "a thinking block without its signature",
    assistant({ type: "thinking", thinking: "t" }),
    "messages[1].content[0].signature",
    "is required"
  ],
  ["an image in the system prompt", { ...base, system: [image(png)] }, "system[0].type", 'must be "text"'],
  [
    "content that is no string or array",
    { ...base, messages: [{ role: "user", content: { text: "hi" } }] },
    "messages[0].content",
    "must be a string or an array of content blocks"
  ]
]

describe("a malformed request is refused naming the field, saying what it must be", () => {
  for (const [what, request, field, says] of cases) {
    it(`${what}: ${field}`, () => {
      const checked = validate(request)
      if (Either.isRight(checked)) throw new Error("accepted")
      expect(checked.left).toMatchObject({ _tag: "InvalidRequest", errorType: "client_error", field })
      expect(checked.left.message).toContain(`${field} `)
      expect(checked.left.message).toContain(says)
    })
  }

  it("a value given in the wrong place is described by its kind, never echoed", () => {
    const secret = "sk-ant-secret-key"
    for (const request of [
      { ...base, tools: [{ ...tool, name: secret.replace(/-/g, " ") }] },
      { ...base, tools: [tool], toolChoice: { type: "tool", name: secret } },
      user(image({ type: "url", url: `${secret}.png` })),
      { ...base, stopSequences: [secret, ""], cache: secret }
    ]) {
      const checked = validate(request)
      if (Either.isRight(checked)) throw new Error("accepted")
      expect(checked.left.message).not.toContain("sk-ant")
      expect(checked.left.message).not.toContain("secret")
    }
  })

  it("maxTokens stays an amount: InvalidAmount, before thinking is checked against it", () => {
    const checked = validate({ ...base, maxTokens: 0, thinking: { type: "enabled", budgetTokens: 1024 } })
    expect(checked).toMatchObject({ left: { _tag: "InvalidAmount", field: "maxTokens" } })
  })

  it("JSON holding shared parts is copied as it is written; one too large to write is refused as a whole", () => {
    const shared = { type: "string" }
    const twice = {
      ...base,
      tools: [{ name: "x", inputSchema: { type: "object", properties: { a: shared, b: shared } } }]
    }
    expect(validate(twice)).toEqual(Either.right(twice))
    let wide: unknown = [0]
    for (let i = 0; i < 24; i++) wide = [wide, wide]
    const checked = validate(assistant(use({ input: { wide } })))
    expect(checked).toMatchObject({
      left: { field: "messages[1].content[0].input", message: expect.stringContaining("too large") }
    })
  })

  it("a field that is undefined is no field, known or not: accepted as if absent", () => {
    const checked = validate({
      ...base,
      system: undefined,
      temperature: undefined,
      tools: [{ ...tool, description: undefined }]
    })
    expect(checked).toEqual(Either.right({ ...base, tools: [{ name: "search", inputSchema: schema }] }))
  })
})
