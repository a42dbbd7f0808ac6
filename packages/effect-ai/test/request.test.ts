import { Prompt } from "@effect/ai"
import { describe, expect, it } from "@effect/vitest"
import { Pricing } from "@fleetguard/core"
import { Either, FastCheck as fc, Schema } from "effect"
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
      { type: "text", text: '{"id":"t1","name":"weather","input":{"city":"Oslo"}}' }
    ])
    expect(request.messages[2]?.content).toEqual([{ type: "text", text: '{"tool_use_id":"t1","content":"sunny"}' }])
  })

  it("a file counts as the data sent: bytes as base64, a URL as its text", () => {
    const file = (data: string | Uint8Array | URL) =>
      estimated([{ role: "user", content: [{ type: "file", mediaType: "image/png", data }] }]).messages[0]?.content
    expect(file(new Uint8Array([1, 2, 3, 4]))).toEqual([{ type: "text", text: "AQIDBA==" }])
    expect(file(new URL("https://example.com/a.png"))).toEqual([{ type: "text", text: "https://example.com/a.png" }])
  })

  it("tools are sent, and counted: each as JSON, and the system prompt the API adds for them", () => {
    const withTool = estimated("hi", ['{"name":"weather"}'])
    expect(withTool.system?.[0]).toEqual({ type: "text", text: '{"name":"weather"}' })
    expect(Pricing.maxInputTokens(withTool) - Pricing.maxInputTokens(estimated("hi"))).toBeGreaterThanOrEqual(
      346 + '{"name":"weather"}'.length
    )
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
