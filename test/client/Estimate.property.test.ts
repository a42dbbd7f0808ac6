/**
 * The estimate is an upper bound for every kind of block, against what the provider reports: arbitrary
 * requests mixing text, images (real headers of any size, and by URL), PDFs, documents, tools, a tool
 * loop with thinking sent back, go through LlmClient and AnthropicProvider to FakeAnthropic, which
 * counts them as the API does; what each call is charged from the reported usage never passes what
 * was reserved for it. Malformed requests are typed failures with nothing sent.
 */
import { describe, expect, it } from "@effect/vitest"
import { AnthropicProvider } from "@fleetguard/anthropic"
import {
  type CompletionRequest,
  type ContentBlock,
  Events,
  Guards,
  LlmClient,
  type Message,
  Pricing,
  type Tool
} from "@fleetguard/core"
import { FakeAnthropic } from "@fleetguard/testing"
import { Chunk, Effect, Exit, FastCheck as fc, Layer, Queue, Redacted } from "effect"
import { gif, jpeg, pdf, png, webp } from "../../packages/testing/test/media.js"

const models = ["claude-haiku-4-5", "claude-sonnet-4-6", "claude-opus-4-7"] as const

const text = fc.string({ maxLength: 200, unit: "grapheme" })
const side = fc.integer({ min: 1, max: 6000 })

const image: fc.Arbitrary<ContentBlock> = fc.oneof(
  fc.tuple(fc.constantFrom("png", "gif", "jpeg", "webp"), side, side).map(([format, w, h]) => ({
    type: "image" as const,
    source: {
      type: "base64" as const,
      mediaType: `image/${format}` as "image/png" | "image/gif" | "image/jpeg" | "image/webp",
      data:
        format === "png"
          ? png(w, h)
          : format === "gif"
            ? gif(w, h)
            : format === "jpeg"
              ? jpeg(w, h)
              : webp("VP8X", w, h)
    }
  })),
  fc.constant({ type: "image" as const, source: { type: "url" as const, url: "https://example.com/cat.jpg" } })
)

const document: fc.Arbitrary<ContentBlock> = fc.oneof(
  fc.array(fc.stringMatching(/^[a-zA-Z0-9 .,]{0,400}$/), { minLength: 1, maxLength: 3 }).map((pages) => ({
    type: "document" as const,
    source: { type: "base64" as const, mediaType: "application/pdf" as const, data: pdf(pages) }
  })),
  text.map((data) => ({ type: "document" as const, source: { type: "text" as const, data }, title: "notes" }))
)

const userBlock: fc.Arbitrary<ContentBlock> = fc.oneof(
  { weight: 3, arbitrary: text.map((t) => ({ type: "text" as const, text: t })) },
  { weight: 1, arbitrary: image },
  { weight: 1, arbitrary: document }
)

const tools = fc
  .array(fc.record({ description: text, property: fc.stringMatching(/^[a-z]{1,12}$/) }), {
    minLength: 1,
    maxLength: 4
  })
  .map(
    (defs): ReadonlyArray<Tool> =>
      defs.map(({ description, property }, i) => ({
        name: `tool_${i}`,
        description,
        inputSchema: { type: "object", properties: { [property]: { type: "string" } } }
      }))
  )

/** An assistant turn calling tools (after its thinking, when thinking is on) and the user turn answering each call. */
const toolLoop = (names: ReadonlyArray<string>, thinking: boolean) =>
  fc
    .tuple(
      fc.array(
        fc.tuple(
          fc.constantFrom(...names),
          fc.jsonValue({ maxDepth: 2 }),
          fc.oneof(text, fc.array(userBlock, { maxLength: 2 }))
        ),
        {
          minLength: 1,
          maxLength: 3
        }
      ),
      text
    )
    .map(
      ([calls, thought]): ReadonlyArray<Message> => [
        {
          role: "assistant",
          content: [
            ...(thinking ? [{ type: "thinking" as const, thinking: thought, signature: "sig" }] : []),
            ...calls.map(([name, value], i) => ({
              type: "tool_use" as const,
              id: `toolu_${i}`,
              name,
              input: { value }
            }))
          ]
        },
        {
          role: "user",
          content: calls.map(([, , result], i) => ({
            type: "tool_result" as const,
            toolUseId: `toolu_${i}`,
            content:
              typeof result === "string"
                ? result
                : result.flatMap((b) => (b.type === "text" || b.type === "image" ? [b] : []))
          }))
        }
      ]
    )

const request: fc.Arbitrary<CompletionRequest> = fc
  .record({
    model: fc.constantFrom(...models),
    maxTokens: fc.integer({ min: 1, max: 4096 }),
    system: fc.option(text, { nil: undefined }),
    first: fc.array(userBlock, { minLength: 1, maxLength: 4 }),
    tools: fc.option(tools, { nil: undefined }),
    thinking: fc.boolean(),
    loop: fc.boolean()
  })
  .chain(({ tools, thinking, loop, maxTokens, first, ...rest }) => {
    const thinks = thinking && maxTokens > 1024
    const turns =
      tools !== undefined && loop
        ? toolLoop(
            tools.map((t) => t.name),
            thinks
          )
        : fc.constant([])
    return turns.map(
      (more): CompletionRequest => ({
        ...rest,
        maxTokens,
        messages: [{ role: "user", content: first }, ...more],
        ...(tools === undefined ? {} : { tools }),
        ...(thinks ? { thinking: { type: "enabled", budgetTokens: 1024 } } : {})
      })
    )
  })

const guarded = (fake: FakeAnthropic.FakeAnthropicService) =>
  LlmClient.layer.pipe(
    Layer.provideMerge(Guards.layer({ budget: { limitUsd: 1_000_000, perAgentLimitUsd: 1_000_000 } })),
    Layer.provideMerge(AnthropicProvider.layer({ apiKey: Redacted.make(fake.apiKey), baseURL: fake.baseURL }))
  )

describe("the estimate is an upper bound for every kind of block, against FakeAnthropic's counts", () => {
  it.scoped(
    "arbitrary requests mixing every block kind: charged from the reported usage, never past the reservation",
    () =>
      Effect.gen(function* () {
        // Hand-written histories: the tool_use ids and signatures are not ones the server sent.
        const fake = yield* FakeAnthropic.make({ outputTokens: 200, strictHistory: false })
        const runs = 60
        yield* Effect.gen(function* () {
          const events = yield* Events.subscribe
          for (const r of fc.sample(request, { numRuns: runs, seed: 18 })) {
            const estimate = yield* Pricing.estimate(r)
            const exit = yield* Effect.exit(LlmClient.complete(r))
            if (Exit.isFailure(exit)) throw new Error(`${JSON.stringify(r).slice(0, 400)}: ${exit.cause.toString()}`)
            expect(exit.value.costUsd).toBeLessThanOrEqual(estimate)
            const settled = Chunk.findLast(yield* Queue.takeAll(events), (e) => e._tag === "CallSettled")
            expect(
              settled._tag === "Some" &&
                settled.value._tag === "CallSettled" &&
                settled.value.costUsd <= settled.value.reservedUsd
            ).toBe(true)
          }
        }).pipe(Effect.provide(guarded(fake)))
        expect((yield* fake.requests).filter((q) => q.status === 200)).toHaveLength(runs)
      })
  )

  it.scoped("malformed requests of every kind are typed failures: nothing reserved, nothing sent", () =>
    Effect.gen(function* () {
      const fake = yield* FakeAnthropic.make({})
      const bad: ReadonlyArray<unknown> = [
        { model: "claude-haiku-4-5", maxTokens: 10, messages: [{ role: "user", content: [{ type: "image" }] }] },
        {
          model: "claude-haiku-4-5",
          maxTokens: 10,
          messages: [{ role: "user", content: "x" }],
          tools: [{ name: "a b" }]
        },
        { model: "claude-haiku-4-5", maxTokens: 10, messages: [{ role: "user", content: "x" }], temperature: 0.2 },
        {
          model: "claude-haiku-4-5",
          maxTokens: 2000,
          messages: [{ role: "user", content: "x" }],
          thinking: { type: "enabled", budgetTokens: 10 }
        },
        {
          model: "claude-haiku-4-5",
          maxTokens: 10,
          messages: [{ role: "user", content: [{ type: "tool_result", toolUseId: "t", content: 5 }] }]
        }
      ]
      yield* Effect.gen(function* () {
        for (const r of bad) {
          const error = yield* Effect.flip(LlmClient.complete(r as CompletionRequest))
          expect(["InvalidRequest", "InvalidAmount"]).toContain(error._tag)
        }
      }).pipe(Effect.provide(guarded(fake)))
      expect(yield* fake.requests).toHaveLength(0)
    })
  )
})
