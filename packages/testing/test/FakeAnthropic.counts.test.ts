/**
 * Input tokens as FakeAnthropic counts them, block by block, for known sizes: tool definitions and
 * the tool-use system prompt, a tool loop's history, images by their size scaled to the model's
 * largest, PDFs per page; count_tokens answers what the usage says.
 */
import type Anthropic from "@anthropic-ai/sdk"
import { BadRequestError } from "@anthropic-ai/sdk"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { FakeAnthropic } from "../src/index.js"
import { gif, jpeg, pdf, png, webp } from "./media.js"
import { attempt, client, type Fake, failure } from "./sdk.js"

type Params = Anthropic.MessageCreateParamsNonStreaming

/** The usage's input tokens, checked to be what count_tokens says too. */
const counted = (fake: Fake, params: Params) =>
  Effect.gen(function* () {
    const sdk = client(fake)
    const message = yield* attempt(() => sdk.messages.create(params))
    const { max_tokens: _, ...countParams } = params
    const count = yield* attempt(() => sdk.messages.countTokens(countParams))
    expect(count.input_tokens).toBe(message.usage.input_tokens)
    return message.usage.input_tokens
  })

const refused = (fake: Fake, params: Params) =>
  Effect.map(
    failure(() => client(fake).messages.create(params)),
    (error) => {
      expect(error).toBeInstanceOf(BadRequestError)
      return (error as BadRequestError).error
    }
  )

const user = (content: Anthropic.MessageParam["content"]): Anthropic.MessageParam => ({ role: "user", content })

const tools: Array<Anthropic.ToolUnion> = [
  {
    name: "search",
    description: "Searches the web.",
    input_schema: { type: "object", properties: { q: { type: "string" } } }
  },
  { type: "web_search_20250305", name: "web_search", max_uses: 3 }
]
// "Use a tool." 11 bytes; "search" 6, its description 17, its schema's JSON 54; the server tool's JSON 63:
// 151 bytes, 38 tokens.
const toolsTokens = 38

const image = (media_type: Anthropic.Base64ImageSource["media_type"], data: string): Anthropic.ImageBlockParam => ({
  type: "image",
  source: { type: "base64", media_type, data }
})

describe("FakeAnthropic counts", () => {
  it.scoped("tool definitions by their bytes, and the tool-use system prompt: 346 tokens, 313 when forced", () =>
    Effect.gen(function* () {
      const fake = yield* FakeAnthropic.make()
      const base: Params = { model: "claude-haiku-4-5", max_tokens: 100, messages: [user("Use a tool.")] }
      expect(yield* counted(fake, base)).toBe(3)
      expect(yield* counted(fake, { ...base, tools })).toBe(toolsTokens + 346)
      expect(yield* counted(fake, { ...base, tools, tool_choice: { type: "auto" } })).toBe(toolsTokens + 346)
      expect(yield* counted(fake, { ...base, tools, tool_choice: { type: "none" } })).toBe(toolsTokens + 346)
      expect(yield* counted(fake, { ...base, tools, tool_choice: { type: "any" } })).toBe(toolsTokens + 313)
      expect(yield* counted(fake, { ...base, tools, tool_choice: { type: "tool", name: "search" } })).toBe(
        toolsTokens + 313
      )
    })
  )

  it.scoped("a history's tool_use by its name and input, tool_result and thinking by their text", () =>
    Effect.gen(function* () {
      const fake = yield* FakeAnthropic.make({ strictHistory: false })
      const tokens = yield* counted(fake, {
        model: "claude-haiku-4-5",
        max_tokens: 100,
        tools: [{ name: "search", input_schema: { type: "object" } }],
        messages: [
          user("Find it."),
          {
            role: "assistant",
            content: [
              { type: "thinking", thinking: "Search first.", signature: "sig" },
              { type: "text", text: "Searching." },
              { type: "tool_use", id: "toolu_1", name: "search", input: { q: "fleetguard" } }
            ]
          },
          user([
            { type: "tool_result", tool_use_id: "toolu_1", content: "fleetguard is a toolkit" },
            { type: "text", text: "Thanks" }
          ])
        ]
      })
      // 8 + 13 + 10 + ("search" 6 + {"q":"fleetguard"} 18) + 23 + 6 bytes of messages, the tool's 23: 107 bytes.
      expect(tokens).toBe(27 + 346)
    })
  )

  it.scoped("images by their size from the header, scaled down to the largest the model reads", () =>
    Effect.gen(function* () {
      const fake = yield* FakeAnthropic.make()
      const content: Array<Anthropic.ContentBlockParam> = [
        image("image/png", png(200, 100)), // 20,000 px: 27 tokens
        image("image/gif", gif(3000, 2000)), // 1313×875 on the smaller size: 1532; 2371×1581 on the larger: 4999
        image("image/jpeg", jpeg(1000, 1000)), // 1,000,000 px: 1334
        image("image/webp", webp("VP8X", 4000, 4000)), // 1072² smaller: 1533; 1936² larger: 4998
        image("image/webp", webp("VP8L", 1568, 700)), // fits both: 1464
        image("image/webp", webp("VP8 ", 300, 150)), // 60
        { type: "image", source: { type: "url", url: "https://example.com/cat.png" } }, // the largest: 1534 or 5000
        { type: "text", text: "Describe them." } // 4
      ]
      const ask = (model: string) => counted(fake, { model, max_tokens: 100, messages: [user(content)] })
      expect(yield* ask("claude-haiku-4-5")).toBe(27 + 1532 + 1334 + 1533 + 1464 + 60 + 1534 + 4)
      expect(yield* ask("claude-sonnet-4-6")).toBe(27 + 1532 + 1334 + 1533 + 1464 + 60 + 1534 + 4)
      expect(yield* ask("claude-opus-4-6")).toBe(27 + 1532 + 1334 + 1533 + 1464 + 60 + 1534 + 4)
      expect(yield* ask("claude-opus-4-7")).toBe(27 + 4999 + 1334 + 4998 + 1464 + 60 + 5000 + 4)
      expect(yield* ask("claude-sonnet-5")).toBe(27 + 4999 + 1334 + 4998 + 1464 + 60 + 5000 + 4)
    })
  )

  it.scoped("a PDF as an image of each page at the model's largest size, plus the text it shows", () =>
    Effect.gen(function* () {
      const fake = yield* FakeAnthropic.make()
      const tokens = yield* counted(fake, {
        model: "claude-haiku-4-5",
        max_tokens: 100,
        messages: [
          user([
            {
              type: "document",
              source: { type: "base64", media_type: "application/pdf", data: pdf(["Hello world", "Page two"]) },
              title: "Report"
            },
            { type: "document", source: { type: "text", media_type: "text/plain", data: "plain words" } },
            { type: "text", text: "Summarize." }
          ])
        ]
      })
      // Two pages of 1534; "Hello world" 11 + "Page two" 8 + "Report" 6 + "plain words" 11 + "Summarize." 10: 46 bytes.
      expect(tokens).toBe(2 * 1534 + 12)
    })
  )

  it.scoped("refuses what it cannot read, as the API refuses what it cannot process", () =>
    Effect.gen(function* () {
      const fake = yield* FakeAnthropic.make()
      const ask = (block: Anthropic.ContentBlockParam) =>
        refused(fake, { model: "claude-haiku-4-5", max_tokens: 100, messages: [user([block])] })
      expect(
        yield* ask({ type: "document", source: { type: "url", url: "https://example.com/report.pdf" } })
      ).toMatchObject({
        error: {
          type: "invalid_request_error",
          message: expect.stringMatching(/^messages\.0\.content\.0\.source\.url: .*fetch/)
        }
      })
      expect(
        yield* ask({ type: "document", source: { type: "base64", media_type: "application/pdf", data: png(1, 1) } })
      ).toMatchObject({ error: { message: expect.stringMatching(/^messages\.0\.content\.0\.source\.data: The PDF/) } })
      expect(yield* ask(image("image/png", gif(10, 10)))).toMatchObject({
        error: {
          message:
            "messages.0.content.0.source: The image was specified using the image/png media type, but the image appears to be a image/gif image"
        }
      })
      expect(yield* ask(image("image/png", "bm90IGFuIGltYWdl"))).toMatchObject({
        error: { message: "messages.0.content.0.source.data: Could not process image" }
      })
      expect(yield* ask(image("image/png", "not base64!"))).toMatchObject({
        error: { message: "messages.0.content.0.source.data: Could not process image" }
      })
    })
  )
})
