import { Prompt } from "@effect/ai"
import { describe, expect, it } from "@effect/vitest"
import { type CompletionRequest, Pricing } from "@fleetguard/core"
import { Either, Encoding, FastCheck as fc, Schema } from "effect"
import { decodePrompt, estimateRequest, toolDefinition } from "../src/internal/request.js"

const config = { model: "claude-haiku-4-5", maxTokens: 100 }
const decoded = (input: unknown) => Either.getOrThrow(decodePrompt(input))
const estimated = (input: unknown, tools: ReadonlyArray<string> = []) =>
  Either.getOrThrow(estimateRequest(decoded(input), tools, config))

describe("the prompt, decoded at the boundary", () => {
  it("a string, messages or a Prompt: the Prompt @effect/ai would make of it", () => {
    expect(decoded("hi")).toEqual(Prompt.make("hi"))
    const messages = [
      { role: "system", content: "be brief" },
      { role: "user", content: [{ type: "text", text: "hi" }] }
    ] as const
    expect(decoded(messages)).toEqual(Prompt.make(messages))
    const prompt = Prompt.make("hi")
    expect(decoded(prompt)).toBe(prompt)
  })

  it("a malformed prompt is InvalidRequest naming the field, never a defect, never echoing it", () => {
    const cases: ReadonlyArray<readonly [unknown, string]> = [
      [5, "prompt"],
      [null, "prompt"],
      [[5], "prompt[0]"],
      [[{ role: "user", content: 5 }], "prompt[0].content"],
      [
        [
          { role: "user", content: "fine" },
          { role: "wizard", content: "secret words" }
        ],
        "prompt[1].role"
      ]
    ]
    for (const [input, field] of cases) {
      const error = Either.getLeft(decodePrompt(input))
      expect(error).toMatchObject({ _tag: "Some", value: { _tag: "InvalidRequest", field, errorType: "client_error" } })
      expect(JSON.stringify(error)).not.toContain("secret words")
    }
  })
})

describe("the request a call is estimated from", () => {
  it("system messages are the system text; the user's and the tools' messages are the user's", () => {
    const request = estimated([
      { role: "system", content: "be brief" },
      { role: "user", content: "hi" },
      {
        role: "assistant",
        content: [{ type: "tool-call", id: "t1", name: "weather", params: { city: "Oslo" }, providerExecuted: false }]
      },
      {
        role: "tool",
        content: [
          { type: "tool-result", id: "t1", name: "weather", result: "sunny", isFailure: false, providerExecuted: false }
        ]
      }
    ])
    expect(request).toMatchObject({ model: "claude-haiku-4-5", maxTokens: 100, system: [{ text: "be brief" }] })
    expect(request.messages.map((m) => m.role)).toEqual(["user", "assistant", "user"])
    expect(request.messages[1]?.content).toEqual([
      { type: "tool_use", id: "t1", name: "weather", input: { city: "Oslo" } }
    ])
    expect(request.messages[2]?.content).toEqual([
      { type: "tool_result", toolUseId: "t1", content: '"sunny"', isError: false }
    ])
  })

  it("a file is the block it is sent as: an image (base64 or by URL), a PDF or text document; another kind, its data", () => {
    const file = (mediaType: string, data: string | Uint8Array | URL, options?: unknown) =>
      estimated([{ role: "user", content: [{ type: "file", mediaType, data, ...(options ? { options } : {}) }] }])
        .messages[0]?.content
    const url = new URL("https://example.com/a")
    expect(file("image/png", new Uint8Array([1, 2, 3, 4]))).toEqual([
      { type: "image", source: { type: "base64", mediaType: "image/png", data: "AQIDBA==" } }
    ])
    expect(file("image/*", "AAAA")).toEqual([
      { type: "image", source: { type: "base64", mediaType: "image/jpeg", data: "AAAA" } }
    ])
    expect(file("image/webp", url)).toEqual([{ type: "image", source: { type: "url", url: url.href } }])
    expect(file("application/pdf", url)).toEqual([{ type: "document", source: { type: "url", url: url.href } }])
    expect(
      file("application/pdf", "JVBERi0=", { anthropic: { documentTitle: "Q3", documentContext: "the report" } })
    ).toEqual([
      {
        type: "document",
        source: { type: "base64", mediaType: "application/pdf", data: "JVBERi0=" },
        title: "Q3",
        context: "the report"
      }
    ])
    expect(file("text/plain", "notes")).toEqual([{ type: "document", source: { type: "text", data: "notes" } }])
    expect(file("audio/wav", new Uint8Array([1, 2, 3, 4]))).toEqual([{ type: "text", text: "AQIDBA==" }])
  })

  it("reasoning is sent back as thinking (or redacted thinking); a tool the provider ran, and any result in an assistant message, as its JSON", () => {
    const request = estimated([
      {
        role: "assistant",
        content: [
          { type: "reasoning", text: "let me see", options: { anthropic: { type: "thinking", signature: "sig" } } },
          { type: "reasoning", text: "", options: { anthropic: { type: "redacted_thinking", redactedData: "xyz" } } },
          { type: "reasoning", text: "no options" },
          { type: "tool-call", id: "s1", name: "AnthropicWebSearch", params: { query: "q" }, providerExecuted: true },
          {
            type: "tool-result",
            id: "s1",
            name: "AnthropicWebSearch",
            result: [1],
            isFailure: false,
            providerExecuted: true
          },
          { type: "tool-result", id: "t2", name: "lookup", result: "x", isFailure: true, providerExecuted: false }
        ]
      }
    ])
    expect(request.messages[0]?.content).toEqual([
      { type: "thinking", thinking: "let me see", signature: "sig" },
      { type: "redacted_thinking", data: "xyz" },
      { type: "text", text: "no options" },
      { type: "text", text: '{"id":"s1","name":"AnthropicWebSearch","input":{"query":"q"}}' },
      { type: "text", text: '{"tool_use_id":"s1","content":[1]}' },
      { type: "text", text: '{"tool_use_id":"t2","content":"x"}' }
    ])
  })

  it("tools are the request's tools, bounded as LlmClient's: each as JSON, and the system prompt the API adds for them", () => {
    const definition = Either.getOrThrow(
      toolDefinition("weather", "the weather", Schema.Struct({ city: Schema.String }).ast, "toolkit.weather")
    )
    const withTool = estimated("hi", [definition])
    expect(withTool.tools).toEqual([
      {
        name: "weather",
        description: "the weather",
        inputSchema: JSON.parse(definition).input_schema
      }
    ])
    expect(withTool.system).toBeUndefined()
    expect(Pricing.maxInputTokens(withTool) - Pricing.maxInputTokens(estimated("hi"))).toBeGreaterThanOrEqual(
      Pricing.toolUseSystemPromptTokens + definition.length
    )
  })

  it("one bound for both: a prompt with tools, an image, a tool call and its result is bounded as the LlmClient request it is sent as", () => {
    const png = new Uint8Array([
      0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 4, 0, 0, 0, 3, 0, 8, 2,
      0, 0, 0
    ])
    const definition = Either.getOrThrow(
      toolDefinition("lookup", "looks a word up", Schema.Struct({ word: Schema.String }).ast, "toolkit.lookup")
    )
    const fromAi = estimated(
      [
        { role: "system", content: "be brief" },
        {
          role: "user",
          content: [
            { type: "text", text: "what is on it?" },
            { type: "file", mediaType: "image/png", data: png }
          ]
        },
        {
          role: "assistant",
          content: [{ type: "tool-call", id: "t1", name: "lookup", params: { word: "fleet" }, providerExecuted: false }]
        },
        {
          role: "tool",
          content: [
            {
              type: "tool-result",
              id: "t1",
              name: "lookup",
              result: "ships",
              isFailure: false,
              providerExecuted: false
            }
          ]
        }
      ],
      [definition]
    )
    const written: CompletionRequest = {
      model: config.model,
      maxTokens: config.maxTokens,
      system: [{ type: "text", text: "be brief" }],
      tools: [{ name: "lookup", description: "looks a word up", inputSchema: JSON.parse(definition).input_schema }],
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "what is on it?" },
            { type: "image", source: { type: "base64", mediaType: "image/png", data: Encoding.encodeBase64(png) } }
          ]
        },
        { role: "assistant", content: [{ type: "tool_use", id: "t1", name: "lookup", input: { word: "fleet" } }] },
        { role: "user", content: [{ type: "tool_result", toolUseId: "t1", content: '"ships"', isError: false }] }
      ]
    }
    expect(fromAi).toEqual({ ...written, cache: undefined })
    expect(Pricing.maxInputTokens(fromAi)).toBe(Pricing.maxInputTokens(written))
  })

  it("images are bounded as LlmClient's are: by their size, or the model's ceiling by URL", () => {
    // A 1024 × 768 PNG's header, as bytes.
    const header = new Uint8Array([
      0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 4, 0, 0, 0, 3, 0, 8, 2,
      0, 0, 0
    ])
    const image = (data: Uint8Array | URL) =>
      Pricing.maxInputTokens(estimated([{ role: "user", content: [{ type: "file", mediaType: "image/png", data }] }]))
    const empty = Pricing.maxInputTokens(estimated([{ role: "user", content: [] }]))
    expect(image(header) - empty).toBeLessThan(Pricing.imageCeilingTokens(config.model))
    expect(image(header) - empty).toBeGreaterThanOrEqual((1024 * 768) / 750)
    expect(image(new URL("https://example.com/a.png")) - empty).toBe(Pricing.imageCeilingTokens(config.model))
  })

  it("a tool's definition is its name, description and parameters' JSON Schema; one with none is refused naming it", () => {
    const schema = Schema.Struct({ city: Schema.String })
    expect(Either.getOrThrow(toolDefinition("weather", "the weather", schema.ast, "toolkit.weather"))).toBe(
      '{"name":"weather","description":"the weather","input_schema":{"type":"object","required":["city"],"properties":{"city":{"type":"string"}},"additionalProperties":false}}'
    )
    const opaque = Schema.declare((u): u is Date => u instanceof Date)
    expect(toolDefinition("when", undefined, opaque.ast, "schema")).toMatchObject({
      left: { _tag: "InvalidRequest", field: "schema" }
    })
  })

  it("a prompt that asks Anthropic to cache is estimated at the cache-write rate of the longest lifetime asked", () => {
    const cached = (ttl?: "5m" | "1h") => ({
      anthropic: { cacheControl: { type: "ephemeral", ...(ttl ? { ttl } : {}) } }
    })
    expect(estimated("hi").cache).toBeUndefined()
    expect(
      estimated([
        { role: "system", content: "rules", options: cached() },
        { role: "user", content: "hi" }
      ]).cache
    ).toBe("5m")
    const oneHour = [
      { role: "user", content: [{ type: "text", text: "a", options: cached("5m") }] },
      { role: "user", content: [{ type: "text", text: "b", options: cached("1h") }] }
    ]
    expect(estimated(oneHour).cache).toBe("1h")
  })

  it("a value JSON cannot hold is refused naming where it is", () => {
    const prompt = decoded([
      { role: "assistant", content: [{ type: "tool-call", id: "t", name: "n", params: 1n, providerExecuted: false }] }
    ])
    expect(estimateRequest(prompt, [], config)).toMatchObject({
      left: { _tag: "InvalidRequest", field: "prompt[0].content[0].params" }
    })
  })

  it.prop(
    "the input bound covers every byte of text the prompt sends",
    {
      messages: fc.array(
        fc.record({
          role: fc.constantFrom("system", "user", "assistant"),
          text: fc.string({ unit: "binary" })
        }),
        { minLength: 1, maxLength: 8 }
      )
    },
    ({ messages }) => {
      const prompt = messages.map(({ role, text }) =>
        role === "system" ? { role, content: text } : { role, content: [{ type: "text" as const, text }] }
      )
      const bytes = messages.reduce((n, m) => n + Pricing.byteLength(m.text), 0)
      expect(Pricing.maxInputTokens(estimated(prompt))).toBeGreaterThanOrEqual(bytes)
    }
  )
})
