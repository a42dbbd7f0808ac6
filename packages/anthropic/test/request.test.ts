import { readFileSync } from "node:fs"
import type Anthropic from "@anthropic-ai/sdk"
import { describe, expect, it } from "@effect/vitest"
import type { CompletionRequest, ContentBlock, Thinking, ToolChoice } from "@fleetguard/core"
import { Either } from "effect"
import ts from "typescript"
import { expectTypeOf } from "vitest"
import { toCountParams, toParams, type Unsendable } from "../src/internal/request.js"

/** Each request field and the API field it becomes: it fails to compile when either side gains or loses one. */
const wire = {
  model: "model",
  maxTokens: "max_tokens",
  messages: "messages",
  system: "system",
  tools: "tools",
  toolChoice: "tool_choice",
  stopSequences: "stop_sequences",
  thinking: "thinking",
  metadata: "metadata",
  cache: "cache_control"
} as const satisfies { readonly [K in keyof Required<CompletionRequest>]: keyof Anthropic.MessageCreateParams }

/** Each kind of block, tool choice and thinking has its API counterpart, under the same name. */
const kinds = {
  block: {
    text: "text",
    image: "image",
    document: "document",
    tool_use: "tool_use",
    tool_result: "tool_result",
    thinking: "thinking",
    redacted_thinking: "redacted_thinking"
  },
  toolChoice: { auto: "auto", any: "any", none: "none", tool: "tool" },
  thinking: { enabled: "enabled", adaptive: "adaptive", disabled: "disabled" }
} as const satisfies {
  readonly block: { readonly [K in ContentBlock["type"]]: K & Anthropic.ContentBlockParam["type"] }
  readonly toolChoice: { readonly [K in ToolChoice["type"]]: K & Anthropic.ToolChoice["type"] }
  readonly thinking: { readonly [K in Thinking["type"]]: K & Anthropic.ThinkingConfigParam["type"] }
}

const plain: CompletionRequest = {
  model: "claude-haiku-4-5",
  maxTokens: 64,
  messages: [{ role: "user", content: "hi" }]
}

/** Every field set, every kind of block used. */
const full: CompletionRequest = {
  ...plain,
  messages: [
    {
      role: "user",
      content: [
        { type: "text", text: "look" },
        { type: "image", source: { type: "base64", mediaType: "image/png", data: "iVBORw0KGgo=" } },
        { type: "document", source: { type: "text", data: "notes" }, title: "Notes", context: "from the desk" }
      ]
    },
    {
      role: "assistant",
      content: [
        { type: "thinking", thinking: "hm", signature: "sig" },
        { type: "tool_use", id: "toolu_1", name: "search", input: { q: "oslo" } }
      ]
    },
    { role: "user", content: [{ type: "tool_result", toolUseId: "toolu_1", content: "sunny", isError: false }] }
  ],
  system: [{ type: "text", text: "be brief" }],
  tools: [
    { name: "search", description: "web", inputSchema: { type: "object", properties: { q: { type: "string" } } } },
    { type: "web_search_20250305", name: "web_search", max_uses: 3 }
  ],
  toolChoice: { type: "any", disableParallelToolUse: true },
  stopSequences: ["END"],
  thinking: { type: "enabled", budgetTokens: 1024 },
  metadata: { userId: "user-7" },
  cache: "5m"
}

const refusal = (request: CompletionRequest): Unsendable | undefined => {
  const params = toParams(request)
  return Either.isLeft(params) ? params.left : undefined
}

describe("a request mapped onto the SDK's MessageCreateParams", () => {
  it("maps onto the SDK's own types, with no cast (type-level)", () => {
    expectTypeOf(toParams).parameter(0).toEqualTypeOf<CompletionRequest>()
    expectTypeOf(toParams).returns.toEqualTypeOf<Either.Either<Anthropic.MessageCreateParamsNonStreaming, Unsendable>>()
    expectTypeOf<Anthropic.MessageCreateParamsNonStreaming>().toExtend<Anthropic.MessageCreateParams>()
    expectTypeOf(toCountParams).returns.toEqualTypeOf<Either.Either<Anthropic.MessageCountTokensParams, Unsendable>>()
    // The same tables, seen at run time: each name maps to itself where the API spells it the same.
    for (const table of Object.values(kinds)) for (const [k, v] of Object.entries(table)) expect(k).toBe(v)
  })

  it("every field of a request becomes its API field, and no other", () => {
    const params = Either.getOrThrow(toParams(full))
    expect(Object.keys(params).sort()).toEqual(Object.values(wire).sort())
    expect(Object.keys(Either.getOrThrow(toParams(plain))).sort()).toEqual(["max_tokens", "messages", "model"])
  })

  it("a document by URL goes as the API takes it (FakeAnthropic cannot fetch one, so it is checked here)", () => {
    const request = {
      ...plain,
      messages: [
        {
          role: "user" as const,
          content: [
            {
              type: "document" as const,
              source: { type: "url" as const, url: "https://example.com/a.pdf" },
              title: "A"
            }
          ]
        }
      ]
    }
    expect(Either.getOrThrow(toParams(request)).messages).toEqual([
      {
        role: "user",
        content: [{ type: "document", source: { type: "url", url: "https://example.com/a.pdf" }, title: "A" }]
      }
    ])
  })

  it("a plain request is the API's body as it was: three fields, the content as it is", () => {
    expect(toParams({ ...plain, system: "be brief", cache: "1h" })).toEqual(
      Either.right({
        model: "claude-haiku-4-5",
        max_tokens: 64,
        messages: [{ role: "user", content: "hi" }],
        system: "be brief",
        cache_control: { type: "ephemeral", ttl: "1h" }
      })
    )
  })

  it("count_tokens gets the fields it takes, not max_tokens, stop_sequences or metadata", () => {
    const count = Either.getOrThrow(toCountParams(full))
    const params = Either.getOrThrow(toParams(full))
    expect(Object.keys(count).sort()).toEqual(
      ["cache_control", "messages", "model", "system", "thinking", "tool_choice", "tools"].sort()
    )
    expect(count).toEqual({
      model: params.model,
      messages: params.messages,
      system: params.system,
      tools: params.tools,
      tool_choice: params.tool_choice,
      thinking: params.thinking,
      cache_control: params.cache_control
    })
  })

  it("a server tool the SDK does not know is refused naming it, not sent", () => {
    expect(refusal({ ...plain, tools: [{ type: "web_search_29990101", name: "web_search" }] })).toMatchObject({
      field: "tools[0].type",
      reason: expect.stringContaining("web_search_20250305")
    })
    expect(
      refusal({
        ...plain,
        tools: [
          { name: "a", inputSchema: {} },
          { type: "web_search_20250305", name: "search" }
        ]
      })
    ).toEqual({ field: "tools[1].name", reason: 'must be "web_search" for type "web_search_20250305"' })
    // Own keys only: an inherited name is not a tool type.
    expect(refusal({ ...plain, tools: [{ type: "constructor", name: "constructor" }] })?.field).toBe("tools[0].type")
  })

  it("a client tool's input schema of another type than object is refused, not rewritten; none given is an object", () => {
    expect(refusal({ ...plain, tools: [{ name: "a", inputSchema: { type: "array" } }] })).toEqual({
      field: "tools[0].inputSchema.type",
      reason: 'must be "object" (got "array")'
    })
    expect(Either.getOrThrow(toParams({ ...plain, tools: [{ name: "a", inputSchema: {} }] })).tools).toEqual([
      { name: "a", input_schema: { type: "object" } }
    ])
  })
})

/** Every type assertion (`x as T`, `<T>x`, `x!`) in a source, by line. */
const assertions = (path: string, text = readFileSync(path, "utf8")): ReadonlyArray<string> => {
  const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true)
  const found: Array<string> = []
  const visit = (node: ts.Node): void => {
    if (ts.isAsExpression(node) || ts.isTypeAssertionExpression(node) || ts.isNonNullExpression(node)) {
      found.push(`${path}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1} ${node.getText()}`)
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return found
}

describe("the mapping to and from the API", () => {
  it("holds no cast: every value is built as the SDK's types say, or decoded", () => {
    const files = ["request.ts", "answer.ts", "stream.ts", "serverTools.ts"].map(
      (file) => new URL(`../src/internal/${file}`, import.meta.url).pathname
    )
    expect(files.flatMap((file) => assertions(file))).toEqual([])
    // The check itself sees each kind, and not the word in a comment or a string.
    const casts = 'const a = u as string // as T\nconst b = <string>u\nconst c = m.get("as x")!\n'
    expect(assertions("casts.ts", casts)).toEqual([
      "casts.ts:1 u as string",
      "casts.ts:2 <string>u",
      'casts.ts:3 m.get("as x")!'
    ])
  })
})
