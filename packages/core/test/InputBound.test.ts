import { describe, expect, it } from "@effect/vitest"
import { Effect, FastCheck as fc } from "effect"
import { type CompletionRequest, type ContentBlock, Pricing, type ServerTool, type Tool } from "../src/index.js"
import * as Bound from "../src/internal/policy/inputBound.js"
import * as Files from "./media.js"

const bytes = Pricing.byteLength
const json = (value: unknown) => bytes(JSON.stringify(value))

/** Anthropic's documented figures: the tool-use system prompt (346 at most for current models, 530 for Claude 3 Opus), computer use's definition and its own prompt. */
const documentedToolPrompt = 530
const documentedDefinedTool = 735 + 499

/** A part of a request, and the most a real tokenizer could bill for it (its reference), or infinite. */
interface Part<A> {
  readonly value: A
  readonly reference: (model: string) => number
}

const part = <A>(value: A, reference: (model: string) => number): Part<A> => ({ value, reference })

const text = fc.fullUnicodeString({ maxLength: 200 })

const imageFormats = {
  png: Files.png,
  gif: Files.gif,
  jpeg: (w: number, h: number) => Files.jpeg(w, h, { thumbnail: [4, 3] }),
  progressive: (w: number, h: number) => Files.jpeg(w, h, { progressive: true }),
  VP8: (w: number, h: number) => Files.webp(w, h, "VP8"),
  VP8L: (w: number, h: number) => Files.webp(w, h, "VP8L"),
  VP8X: (w: number, h: number) => Files.webp(w, h, "VP8X")
} as const

const edge = fc.oneof(fc.integer({ min: 1, max: 8_000 }), fc.integer({ min: 1, max: 100 }))

type ImageBlock = Extract<ContentBlock, { type: "image" }>

const image: fc.Arbitrary<Part<ImageBlock>> = fc.oneof(
  fc
    .record({
      width: edge,
      height: edge,
      format: fc.constantFrom(...(Object.keys(imageFormats) as Array<keyof typeof imageFormats>))
    })
    .map(({ width, height, format }) =>
      part<ImageBlock>(
        {
          type: "image",
          source: { type: "base64", mediaType: "image/png", data: Files.base64(imageFormats[format](width, height)) }
        },
        (model) => Files.documentedImageTokens(model, width, height)
      )
    ),
  fc.webUrl().map((url) => part<ImageBlock>({ type: "image", source: { type: "url", url } }, Files.documentedImageMax)),
  // Not an image the header can be read of: its ceiling.
  fc
    .base64String({ minLength: 4, maxLength: 40 })
    .map((data) =>
      part<ImageBlock>(
        { type: "image", source: { type: "base64", mediaType: "image/jpeg", data } },
        Files.documentedImageMax
      )
    )
)

const document: fc.Arbitrary<Part<ContentBlock>> = fc.oneof(
  fc
    .record({
      pages: fc.integer({ min: 1, max: 12 }),
      perNode: fc.integer({ min: 1, max: 5 }),
      untyped: fc.boolean(),
      title: fc.option(text, { nil: undefined })
    })
    .map(({ pages, perNode, untyped, title }) =>
      part<ContentBlock>(
        {
          type: "document",
          source: {
            type: "base64",
            mediaType: "application/pdf",
            data: Files.base64(Files.pdf(pages, { perNode, untyped }))
          },
          ...(title === undefined ? {} : { title })
        },
        (model) => pages * (Files.documentedImageMax(model) + Files.documentedPageTextTokens) + bytes(title ?? "")
      )
    ),
  fc
    .record({ data: text, context: text })
    .map(({ data, context }) =>
      part<ContentBlock>(
        { type: "document", source: { type: "text", data }, context },
        () => bytes(data) + bytes(context)
      )
    ),
  // What the request alone cannot bound: a PDF by URL, one whose pages are in an object stream.
  fc
    .webUrl()
    .map((url) =>
      part<ContentBlock>({ type: "document", source: { type: "url", url } }, () => Number.POSITIVE_INFINITY)
    ),
  fc.integer({ min: 1, max: 5 }).map((pages) =>
    part<ContentBlock>(
      {
        type: "document",
        source: {
          type: "base64",
          mediaType: "application/pdf",
          data: Files.base64(Files.pdf(pages, { objectStream: true }))
        }
      },
      () => Number.POSITIVE_INFINITY
    )
  )
)

const id = fc.stringMatching(/^toolu_[A-Za-z0-9]{1,24}$/)
const name = fc.stringMatching(/^[a-zA-Z0-9_-]{1,64}$/)

const textBlock = text.map((t) => part<ContentBlock>({ type: "text", text: t }, () => bytes(t)))

/** What a user turn holds: text, images, documents, tool results. */
const userBlock: fc.Arbitrary<Part<ContentBlock>> = fc.oneof(
  textBlock,
  image,
  document,
  fc
    .record({
      toolUseId: id,
      content: fc.oneof(
        text.map((t) => part<string | ReadonlyArray<ImageBlock | { type: "text"; text: string }>>(t, () => bytes(t))),
        fc
          .array(
            fc.oneof(
              text.map((t) => part({ type: "text" as const, text: t }, () => bytes(t))),
              image
            ),
            {
              maxLength: 3
            }
          )
          .map((parts) =>
            part(
              parts.map((p) => p.value),
              (model: string) => parts.reduce((n, p) => n + p.reference(model), 0)
            )
          )
      ),
      isError: fc.boolean()
    })
    .map(({ toolUseId, content, isError }) =>
      part<ContentBlock>(
        { type: "tool_result", toolUseId, content: content.value, isError },
        (model) => bytes(toolUseId) + content.reference(model)
      )
    )
)

/** What an assistant turn sent back holds: text, tool use, thinking. */
const assistantBlock: fc.Arbitrary<Part<ContentBlock>> = fc.oneof(
  textBlock,
  fc
    .record({ id, name, input: fc.jsonValue() })
    .map((use) =>
      part<ContentBlock>({ type: "tool_use", ...use }, () => bytes(use.id) + bytes(use.name) + json(use.input))
    ),
  fc
    .record({ thinking: text, signature: fc.base64String({ minLength: 4, maxLength: 80 }) })
    .map((t) => part<ContentBlock>({ type: "thinking", ...t }, () => bytes(t.thinking))),
  fc
    .base64String({ minLength: 4, maxLength: 80 })
    .map((data) => part<ContentBlock>({ type: "redacted_thinking", data }, () => bytes(data)))
)

const schema = fc
  .dictionary(name, fc.record({ type: fc.constantFrom("string", "number"), description: text }), { maxKeys: 4 })
  .map((properties) => ({ type: "object", properties }))

const tool: fc.Arbitrary<Part<Tool | ServerTool>> = fc.oneof(
  fc
    .record({ name, description: fc.option(text, { nil: undefined }), inputSchema: schema })
    .map(({ description, ...rest }) => {
      const value: Tool = { ...rest, ...(description === undefined ? {} : { description }) }
      return part<Tool | ServerTool>(value, () => json(value))
    }),
  fc
    .record({
      type: fc.constantFrom("web_search_20250305", "bash_20250124", "computer_20250124"),
      name,
      max_uses: fc.nat(10)
    })
    .map((value) => part<Tool | ServerTool>(value, () => json(value) + documentedDefinedTool))
)

const models = [...Files.smallImageModels, "claude-opus-4-7", "claude-opus-5", "claude-sonnet-5", "an-unknown-model"]

/** A request mixing every kind of block and tool, with the reference of all of its parts. */
const request = fc
  .record({
    model: fc.constantFrom(...models),
    system: fc.option(text, { nil: undefined }),
    messages: fc.array(
      fc.tuple(
        fc.oneof(
          text.map((t) => [part<string | ContentBlock>(t, () => bytes(t))]),
          fc.array(userBlock, { minLength: 1, maxLength: 4 })
        ),
        fc.array(assistantBlock, { minLength: 1, maxLength: 3 })
      ),
      { minLength: 1, maxLength: 3 }
    ),
    tools: fc.uniqueArray(tool, { maxLength: 4, selector: (t) => t.value.name })
  })
  .map(({ model, system, messages: turns, tools }) => {
    // Each user turn is answered by the assistant, and the conversation ends on the user's turn.
    const messages = [...turns.flat(), turns[0]?.[0] ?? []]
    const value: CompletionRequest = {
      model,
      maxTokens: 1_000,
      messages: messages.map((parts, i) => ({
        role: i % 2 === 0 ? "user" : "assistant",
        content: typeof parts[0]?.value === "string" ? parts[0].value : parts.map((p) => p.value as ContentBlock)
      })),
      ...(system === undefined ? {} : { system }),
      ...(tools.length === 0 ? {} : { tools: tools.map((t) => t.value) })
    }
    const all = [...messages.flat(), ...tools]
    const reference =
      all.reduce((n, p) => n + p.reference(model), 0) +
      bytes(system ?? "") +
      (tools.length > 0 ? documentedToolPrompt : 0)
    return { value, reference }
  })

describe("the input bound, for every kind of block", () => {
  it.prop(
    "is at least the most a tokenizer could bill for any request mixing every kind; infinite only when a part cannot be bounded",
    { request },
    ({ request: { value, reference } }) => {
      const bound = Pricing.maxInputTokens(value)
      expect(bound).toBeGreaterThanOrEqual(reference)
      expect(Number.isFinite(bound)).toBe(Number.isFinite(reference))
      expect(Pricing.inputCeiling(value)).toBe(Math.min(bound, Pricing.contextWindowTokens))
      // Through the service, the request decoded first: the estimate reserves the ceiling at the model's price.
      const p = { input: 2, output: 10, cacheWrite5m: 2.5, cacheWrite1h: 4, cacheRead: 0.2 }
      const usd = Effect.runSync(
        Effect.provide(Pricing.estimate(value), Pricing.layer(Object.fromEntries(models.map((m) => [m, p]))))
      )
      expect(usd).toBeCloseTo((Pricing.inputCeiling(value) * p.input + value.maxTokens * p.output) / 1e6, 12)
      expect(usd).toBeGreaterThanOrEqual((Math.min(reference, Pricing.contextWindowTokens) * p.input) / 1e6)
    },
    { fastCheck: { numRuns: 300 } }
  )

  it.prop(
    "an image by URL, or whose header cannot be read, is its model's ceiling",
    { model: fc.constantFrom(...models), url: fc.webUrl() },
    ({ model, url }) => {
      const alone = (content: ReadonlyArray<ContentBlock>) =>
        Pricing.maxInputTokens({ model, maxTokens: 1, messages: [{ role: "user", content }] }) -
        Pricing.maxInputTokens({ model, maxTokens: 1, messages: [{ role: "user", content: [] }] })
      // An empty message is framed as one block would be: the difference is the image's own.
      const ceiling = Pricing.imageCeilingTokens(model)
      expect(alone([{ type: "image", source: { type: "url", url } }])).toBe(ceiling)
      expect(alone([{ type: "image", source: { type: "base64", mediaType: "image/png", data: "AAAA" } }])).toBe(ceiling)
    }
  )

  it("a plain text request is bounded as before: its bytes and framing, nothing for tools it has not", () => {
    const req: CompletionRequest = {
      model: "claude-haiku-4-5",
      maxTokens: 1,
      messages: [{ role: "user", content: "hi" }]
    }
    expect(Pricing.maxInputTokens(req)).toBe(2 + Pricing.perMessageOverheadTokens + Pricing.perRequestOverheadTokens)
    const tools: ReadonlyArray<Tool | ServerTool> = [
      { name: "search", inputSchema: { type: "object" } },
      { type: "web_search_20250305", name: "web_search" }
    ]
    expect(Pricing.maxInputTokens({ ...req, tools }) - Pricing.maxInputTokens(req)).toBe(
      Pricing.toolUseSystemPromptTokens +
        json(tools[0]) +
        json(tools[1]) +
        2 * Pricing.perMessageOverheadTokens +
        Pricing.definedToolTokens
    )
  })

  it("a block of a kind it does not know, or an input JSON cannot hold, is never priced as nothing", () => {
    const unknown = [{ type: "server_tool_use", id: "x" }] as unknown as ReadonlyArray<ContentBlock>
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    for (const content of [unknown, [{ type: "tool_use", id: "t", name: "n", input: cyclic }] as const]) {
      const req: CompletionRequest = { model: "claude-haiku-4-5", maxTokens: 1, messages: [{ role: "user", content }] }
      expect(Pricing.maxInputTokens(req)).toBe(Number.POSITIVE_INFINITY)
      expect(Pricing.inputCeiling(req)).toBe(Pricing.contextWindowTokens)
    }
  })

  it("the ceiling never passes the context window, however long the prompt", () => {
    const huge = Bound.inputCeiling({ model: "m", messages: [{ content: "x".repeat(1_200_000) }] })
    expect(huge).toBe(Pricing.contextWindowTokens)
  })
})
