import { describe, expect, it } from "@effect/vitest"
import { AnthropicProvider } from "@fleetguard/anthropic"
import type { CompletionRequest, Message, ProviderStreamEvent } from "@fleetguard/core"
import { Chunk, Effect, Stream } from "effect"
import { bodiesTo, connectionTo, withProvider } from "./support/provider.js"

const base: CompletionRequest = {
  model: "claude-haiku-4-5",
  maxTokens: 2048,
  messages: [{ role: "user", content: "hi" }]
}
const baseBody = { model: "claude-haiku-4-5", max_tokens: 2048, messages: [{ role: "user", content: "hi" }] }

/** A one-page PDF (FakeAnthropic counts pages, as the API does). */
const pdf = Buffer.from(
  "%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n" +
    "3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
).toString("base64")

const searchTool = {
  name: "search",
  description: "Searches the web",
  inputSchema: { type: "object", properties: { q: { type: "string" } }, required: ["q"] }
} as const
const searchParam = {
  name: "search",
  description: "Searches the web",
  input_schema: { type: "object", properties: { q: { type: "string" } }, required: ["q"] }
}
/** The tools the tool loop's history calls: the API refuses tool_use and tool_result blocks without them. */
const loopTools = [searchTool, ...["weather", "map"].map((name) => ({ name, inputSchema: { type: "object" } }))]
const loopParams = [searchParam, ...["weather", "map"].map((name) => ({ name, input_schema: { type: "object" } }))]

const png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="

/** An assistant turn of every kind of block an answer holds: the API takes them back as they came. */
const assistantTurn = {
  role: "assistant",
  content: [
    { type: "thinking", thinking: "Two cities.", signature: "EqQBCkgIARAB" },
    { type: "redacted_thinking", data: "EmwKAhgBEgy3" },
    { type: "text", text: "Looking." },
    { type: "tool_use", id: "toolu_1", name: "weather", input: { city: "Oslo" } },
    { type: "tool_use", id: "toolu_2", name: "weather", input: { city: "Bergen" } },
    { type: "tool_use", id: "toolu_3", name: "map", input: {} }
  ]
} as const satisfies Message

/** Each request field (and each of its variants), with the body the API must get for it. */
const cases: ReadonlyArray<readonly [string, Partial<CompletionRequest>, Record<string, unknown>]> = [
  [
    "a client tool and a server tool",
    {
      tools: [
        {
          name: "search",
          description: "Searches the web",
          inputSchema: { type: "object", properties: { q: { type: "string" } }, required: ["q"] }
        },
        { type: "web_search_20250305", name: "web_search", max_uses: 3, allowed_domains: ["example.com"] }
      ]
    },
    {
      tools: [
        {
          name: "search",
          description: "Searches the web",
          input_schema: { type: "object", properties: { q: { type: "string" } }, required: ["q"] }
        },
        { type: "web_search_20250305", name: "web_search", max_uses: 3, allowed_domains: ["example.com"] }
      ]
    }
  ],
  ["tool_choice auto", { toolChoice: { type: "auto" } }, { tool_choice: { type: "auto" } }],
  [
    "tool_choice any, no parallel tool use",
    { toolChoice: { type: "any", disableParallelToolUse: true } },
    { tool_choice: { type: "any", disable_parallel_tool_use: true } }
  ],
  ["tool_choice none", { toolChoice: { type: "none" } }, { tool_choice: { type: "none" } }],
  [
    "tool_choice tool",
    { tools: [searchTool], toolChoice: { type: "tool", name: "search", disableParallelToolUse: false } },
    { tools: [searchParam], tool_choice: { type: "tool", name: "search", disable_parallel_tool_use: false } }
  ],
  ["stop sequences", { stopSequences: ["END", "\n\nHuman:"] }, { stop_sequences: ["END", "\n\nHuman:"] }],
  [
    "thinking enabled",
    { thinking: { type: "enabled", budgetTokens: 1024 } },
    { thinking: { type: "enabled", budget_tokens: 1024 } }
  ],
  ["thinking adaptive", { thinking: { type: "adaptive" } }, { thinking: { type: "adaptive" } }],
  ["thinking disabled", { thinking: { type: "disabled" } }, { thinking: { type: "disabled" } }],
  ["metadata", { metadata: { userId: "3f2a-user" } }, { metadata: { user_id: "3f2a-user" } }],
  [
    "a system prompt in blocks",
    { system: [{ type: "text", text: "be brief" }] },
    { system: [{ type: "text", text: "be brief" }] }
  ],
  ["caching", { cache: "1h" }, { cache_control: { type: "ephemeral", ttl: "1h" } }],
  [
    "images, base64 and by url",
    {
      messages: [
        {
          role: "user",
          content: [
            { type: "image", source: { type: "base64", mediaType: "image/png", data: png } },
            { type: "image", source: { type: "url", url: "https://example.com/cat.jpg" } },
            { type: "text", text: "which is bigger?" }
          ]
        }
      ]
    },
    {
      messages: [
        {
          role: "user",
          content: [
            { type: "image", source: { type: "base64", media_type: "image/png", data: png } },
            { type: "image", source: { type: "url", url: "https://example.com/cat.jpg" } },
            { type: "text", text: "which is bigger?" }
          ]
        }
      ]
    }
  ],
  [
    "documents: a PDF in base64, text; title and context (FakeAnthropic cannot fetch one by URL: request.test.ts maps it)",
    {
      messages: [
        {
          role: "user",
          content: [
            { type: "document", source: { type: "base64", mediaType: "application/pdf", data: pdf } },
            { type: "document", source: { type: "text", data: "minutes" }, title: "Minutes", context: "May 2" }
          ]
        }
      ]
    },
    {
      messages: [
        {
          role: "user",
          content: [
            { type: "document", source: { type: "base64", media_type: "application/pdf", data: pdf } },
            {
              type: "document",
              source: { type: "text", media_type: "text/plain", data: "minutes" },
              title: "Minutes",
              context: "May 2"
            }
          ]
        }
      ]
    }
  ],
  [
    "a tool loop: thinking and tool_use sent back unchanged, tool_results (string, blocks, an error)",
    {
      tools: loopTools,
      messages: [
        { role: "user", content: "weather in Oslo and Bergen?" },
        assistantTurn,
        {
          role: "user",
          content: [
            { type: "tool_result", toolUseId: "toolu_1", content: "sunny, 21°C" },
            {
              type: "tool_result",
              toolUseId: "toolu_2",
              content: [
                { type: "text", text: "rain" },
                { type: "image", source: { type: "base64", mediaType: "image/png", data: png } }
              ]
            },
            { type: "tool_result", toolUseId: "toolu_3", content: "no map service", isError: true }
          ]
        }
      ]
    },
    {
      tools: loopParams,
      messages: [
        { role: "user", content: "weather in Oslo and Bergen?" },
        assistantTurn,
        {
          role: "user",
          content: [
            { type: "tool_result", tool_use_id: "toolu_1", content: "sunny, 21°C" },
            {
              type: "tool_result",
              tool_use_id: "toolu_2",
              content: [
                { type: "text", text: "rain" },
                { type: "image", source: { type: "base64", media_type: "image/png", data: png } }
              ]
            },
            { type: "tool_result", tool_use_id: "toolu_3", content: "no map service", is_error: true }
          ]
        }
      ]
    }
  ]
]

describe("every request field on the wire, in snake_case, through the SDK", () => {
  it.effect("each field and variant, as the API writes it and nothing else; streamed the same, with stream: true", () =>
    withProvider({ outputTokens: 3, strictHistory: false }, (provider, fake) =>
      Effect.gen(function* () {
        for (const [, patch] of cases) {
          yield* provider.complete({ ...base, ...patch })
          yield* Stream.runDrain(provider.stream({ ...base, ...patch }))
        }
        const bodies = yield* bodiesTo(fake, "/v1/messages")
        expect(bodies).toHaveLength(2 * cases.length)
        for (const [i, [name, , fields]] of cases.entries()) {
          expect({ name, body: bodies[2 * i] }).toEqual({ name, body: { ...baseBody, ...fields } })
          expect({ name, body: bodies[2 * i + 1] }).toEqual({ name, body: { ...baseBody, ...fields, stream: true } })
        }
      })
    )
  )

  it.effect("count_tokens gets messages, system, tools, tool_choice, thinking and caching; not what it refuses", () =>
    withProvider({ strictHistory: false }, (_, fake) =>
      Effect.gen(function* () {
        const count = yield* AnthropicProvider.countInputTokens(connectionTo(fake))
        const all = Object.assign({}, base, ...cases.map(([, patch]) => patch))
        expect(yield* count(all)).toBeGreaterThan(0)
        const [body] = yield* bodiesTo(fake, "/v1/messages/count_tokens")
        const fields = Object.assign({}, baseBody, ...cases.map(([, , f]) => f))
        const { max_tokens: _, stop_sequences: __, metadata: ___, ...taken } = fields
        expect(body).toEqual(taken)
      })
    )
  )

  it.effect("a server tool the SDK does not know is refused naming the field: nothing is sent, nothing counted", () =>
    withProvider({}, (provider, fake) =>
      Effect.gen(function* () {
        const count = yield* AnthropicProvider.countInputTokens(connectionTo(fake))
        const unknown = {
          ...base,
          tools: [
            { name: "a", inputSchema: {} },
            { type: "web_search_29990101", name: "x" }
          ]
        }
        const misnamed = { ...base, tools: [{ type: "web_search_20250305", name: "search" }] }
        for (const [request, field] of [
          [unknown, "tools[1].type"],
          [misnamed, "tools[0].name"]
        ] as const) {
          const refusals: ReadonlyArray<unknown> = [
            yield* Effect.flip(provider.complete(request)),
            yield* Effect.flip(Stream.runDrain(provider.stream(request))),
            yield* Effect.flip(provider.streamTo(request, () => {})),
            yield* Effect.flip(count(request))
          ]
          for (const refusal of refusals) {
            expect(refusal).toMatchObject({
              _tag: "InvalidRequest",
              errorType: "client_error",
              field,
              message: expect.stringContaining(field)
            })
          }
        }
        expect(yield* fake.requests).toEqual([])
      })
    )
  )
})

describe("answers with tools", () => {
  it.effect("a tool_use answer: its input parsed, its id and name, stop_reason tool_use, no text", () =>
    withProvider({ outputTokens: 4, toolInput: { city: "Oslo", days: [1, 2] } }, (provider) =>
      Effect.gen(function* () {
        const completion = yield* provider.complete({
          ...base,
          tools: [{ name: "weather", inputSchema: { type: "object" } }],
          toolChoice: { type: "tool", name: "weather" }
        })
        expect(completion).toMatchObject({
          text: "",
          content: [{ type: "tool_use", name: "weather", input: { city: "Oslo", days: [1, 2] } }],
          stopReason: "tool_use",
          usage: { outputTokens: 4 }
        })
        expect(completion.content[0]).toMatchObject({ id: expect.stringMatching(/^toolu_/) })
      })
    )
  )

  it.effect("a streamed text answer ends with the completion holding its one text block", () =>
    withProvider({ outputTokens: 3 }, (provider) =>
      Effect.gen(function* () {
        const events = Chunk.toReadonlyArray(yield* Stream.runCollect(provider.stream(base)))
        const done = events.at(-1)
        const texts = events.flatMap((e: ProviderStreamEvent) => (e._tag === "TextDelta" ? [e.text] : []))
        expect(done?._tag === "Done" && done.completion.content).toEqual([{ type: "text", text: texts.join("") }])
      })
    )
  )
})
