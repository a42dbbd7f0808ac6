/**
 * For arbitrary scripted answers and max_tokens: the streamed answer, as the SDK's finalMessage
 * assembles it, is the JSON one; the output tokens are ceil(bytes / 4) of what was sent, never past
 * max_tokens; an answer is only ever cut, never changed.
 */
import type Anthropic from "@anthropic-ai/sdk"
import { describe, expect, it } from "@effect/vitest"
import { Effect, FastCheck as fc } from "effect"
import { FakeAnthropic } from "../src/index.js"
import { attempt, client } from "./sdk.js"

const text = fc.string({ unit: "grapheme", maxLength: 60 })
const input = fc.dictionary(
  fc.string({ maxLength: 8 }).filter((key) => key !== "__proto__"),
  fc.jsonValue({ maxDepth: 2 }),
  { maxKeys: 4 }
)
const block: fc.Arbitrary<FakeAnthropic.FakeBlock> = fc.oneof(
  text.map(FakeAnthropic.text),
  fc.tuple(fc.constantFrom("search", "weather"), input).map(([name, i]) => FakeAnthropic.toolUse(name, i)),
  text.map((t) => FakeAnthropic.thinking(t)),
  fc.base64String({ maxLength: 40 }).map(FakeAnthropic.redactedThinking)
)

const bytes = (s: string) => new TextEncoder().encode(s).length
const generated = (b: Anthropic.ContentBlock | FakeAnthropic.FakeBlock): number =>
  b.type === "text"
    ? bytes(b.text)
    : b.type === "tool_use"
      ? bytes(JSON.stringify(b.input))
      : b.type === "thinking"
        ? bytes(b.thinking)
        : b.type === "redacted_thinking"
          ? bytes(b.data)
          : 0

/** The blocks with what the server makes up (ids, signatures) left out. */
const made = (content: ReadonlyArray<Anthropic.ContentBlock>) =>
  content.map((b) =>
    b.type === "tool_use"
      ? { type: b.type, name: b.name, input: b.input }
      : b.type === "thinking"
        ? { type: b.type, thinking: b.thinking }
        : b.type === "text"
          ? { type: b.type, text: b.text }
          : b
  )

describe("FakeAnthropic answers, for any answer", () => {
  it.scoped.prop(
    "streamed as sent in JSON; tokens by bytes, within max_tokens; only ever cut",
    { answer: fc.array(block, { maxLength: 5 }), maxTokens: fc.integer({ min: 1, max: 120 }) },
    ({ answer, maxTokens }) =>
      Effect.gen(function* () {
        const fake = yield* FakeAnthropic.make({ answer: () => answer })
        const sdk = client(fake)
        const params = {
          model: "claude-haiku-4-5",
          max_tokens: maxTokens,
          messages: [{ role: "user" as const, content: "Go." }]
        }
        const json = yield* attempt(() => sdk.messages.create(params))
        const streamed = yield* attempt(() => sdk.messages.stream(params).finalMessage())
        expect(made(streamed.content)).toEqual(made(json.content))
        expect(streamed.stop_reason).toBe(json.stop_reason)
        expect(streamed.usage).toEqual(json.usage)

        const sent = json.content.reduce((n, b) => n + generated(b), 0)
        expect(json.usage.output_tokens).toBeLessThanOrEqual(maxTokens)
        expect(sent).toBeLessThanOrEqual(maxTokens * 4)
        const whole = made(json.content)
        // As JSON carries it (-0 is 0).
        const wanted = JSON.parse(JSON.stringify(made(answer as ReadonlyArray<Anthropic.ContentBlock>)))
        if (json.stop_reason === "max_tokens") {
          expect(json.usage.output_tokens).toBe(maxTokens)
          expect(answer.reduce((n, b) => n + generated(b), 0)).toBeGreaterThan(maxTokens * 4)
          // Every block but the last is the answer's; the last is the answer's or its prefix.
          const kept = Math.max(0, whole.length - 1)
          expect(whole.slice(0, kept)).toEqual(wanted.slice(0, kept))
          const [last, original] = [json.content.at(-1), answer[json.content.length - 1]]
          if (last?.type === "text" && original?.type === "text") expect(original.text.startsWith(last.text)).toBe(true)
          if (last?.type === "thinking" && original?.type === "thinking") {
            expect(original.thinking.startsWith(last.thinking)).toBe(true)
          }
        } else {
          expect(json.usage.output_tokens).toBe(Math.ceil(sent / 4))
          expect(whole).toEqual(wanted)
          expect(json.stop_reason).toBe(answer.some((b) => b.type === "tool_use") ? "tool_use" : "end_turn")
        }
      }),
    { fastCheck: { numRuns: 60 } }
  )
})
