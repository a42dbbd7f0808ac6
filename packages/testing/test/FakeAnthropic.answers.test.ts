/**
 * Scripted answers over real HTTP with the SDK: tool calls, thinking and text, as JSON and streamed
 * the way the API streams them, cut at max_tokens and at stop sequences.
 */
import type Anthropic from "@anthropic-ai/sdk"
import { APIError } from "@anthropic-ai/sdk"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { FakeAnthropic } from "../src/index.js"
import { attempt, client } from "./sdk.js"

const params = {
  model: "claude-haiku-4-5",
  max_tokens: 1000,
  messages: [{ role: "user" as const, content: "What is the weather in Oslo?" }]
}
// "What is the weather in Oslo?" is 28 bytes: 7 tokens.
const inputTokens = 7

const thought = "The user wants Oslo." // 20 bytes
const said = "Checking the weather." // 21 bytes
const input = { city: "Oslo", days: [1, 2] } // {"city":"Oslo","days":[1,2]}: 28 bytes
const answer: FakeAnthropic.FakeAnswer = [
  FakeAnthropic.thinking(thought),
  FakeAnthropic.text(said),
  FakeAnthropic.toolUse("weather", input)
]
// 20 + 21 + 28 = 69 bytes: 18 tokens.
const outputTokens = 18

/** Every event of a stream, as it came. */
const events = (sdk: Anthropic, body: Anthropic.MessageCreateParamsNonStreaming) =>
  attempt(async () => {
    const all: Array<Anthropic.MessageStreamEvent> = []
    for await (const event of await sdk.messages.create({ ...body, stream: true })) all.push(event)
    return all
  })

/** Events as short strings: the type, and a delta's kind and what it carries. */
const brief = (event: Anthropic.MessageStreamEvent): string => {
  if (event.type === "content_block_start") return `start ${event.index} ${event.content_block.type}`
  if (event.type === "content_block_stop") return `stop ${event.index}`
  if (event.type !== "content_block_delta") return event.type
  const { delta } = event
  return delta.type === "text_delta"
    ? `text ${JSON.stringify(delta.text)}`
    : delta.type === "input_json_delta"
      ? "json"
      : delta.type === "thinking_delta"
        ? `thinking ${JSON.stringify(delta.thinking)}`
        : delta.type === "signature_delta"
          ? `signature ${delta.signature}`
          : delta.type
}

describe("FakeAnthropic answers", () => {
  it.scoped("answers scripted blocks as JSON: ids and signatures given, stop_reason tool_use, tokens by bytes", () =>
    Effect.gen(function* () {
      const fake = yield* FakeAnthropic.make({ answer: () => answer })
      const sdk = client(fake)
      const first = yield* attempt(() => sdk.messages.create(params))
      expect(first.content).toEqual([
        { type: "thinking", thinking: thought, signature: "sig_msg_fake_0_0" },
        { type: "text", text: said, citations: null },
        { type: "tool_use", id: "toolu_msg_fake_0_2", name: "weather", input, caller: { type: "direct" } }
      ])
      expect(first.stop_reason).toBe("tool_use")
      expect(first.usage).toMatchObject({ input_tokens: inputTokens, output_tokens: outputTokens })

      // Every call gets ids of its own; ids and signatures given are kept.
      const second = yield* attempt(() => sdk.messages.create(params))
      expect(second.content.map((b) => (b.type === "tool_use" ? b.id : b.type))).toEqual([
        "thinking",
        "text",
        "toolu_msg_fake_1_2"
      ])
      const given = yield* FakeAnthropic.make({
        answer: () => [FakeAnthropic.toolUse("weather", {}, "toolu_mine"), FakeAnthropic.thinking("hm", "sig_mine")]
      })
      const mine = yield* attempt(() => client(given).messages.create(params))
      expect(mine.content).toMatchObject([{ id: "toolu_mine" }, { signature: "sig_mine" }])
    })
  )

  it.scoped("streams each block as the API does, and the SDK's finalMessage assembles the same answer", () =>
    Effect.gen(function* () {
      const fake = yield* FakeAnthropic.make({ answer: () => answer })
      const sdk = client(fake)
      const plain = yield* attempt(() => sdk.messages.create(params))
      const streamed = yield* events(sdk, params)
      const jsonDeltas = streamed.flatMap((e) =>
        e.type === "content_block_delta" && e.delta.type === "input_json_delta" ? [e.delta.partial_json] : []
      )
      expect(jsonDeltas.length).toBeGreaterThan(2)
      expect(jsonDeltas.join("")).toBe(JSON.stringify(input))
      expect(streamed.map(brief)).toEqual([
        "message_start",
        "start 0 thinking",
        'thinking "The"',
        'thinking " user"',
        'thinking " wants"',
        'thinking " Oslo."',
        "signature sig_msg_fake_1_0",
        "stop 0",
        "start 1 text",
        'text "Checking"',
        'text " the"',
        'text " weather."',
        "stop 1",
        "start 2 tool_use",
        ...jsonDeltas.map(() => "json"),
        "stop 2",
        "message_delta",
        "message_stop"
      ])
      // A block starts empty, as the API starts it: the tool's input comes in its deltas.
      expect(streamed.find((e) => e.type === "content_block_start" && e.index === 2)).toMatchObject({
        content_block: { type: "tool_use", id: "toolu_msg_fake_1_2", name: "weather", input: {} }
      })

      const final = yield* attempt(() => sdk.messages.stream(params).finalMessage())
      const renamed = (content: ReadonlyArray<Anthropic.ContentBlock>) =>
        content.map((b) =>
          b.type === "tool_use" ? { ...b, id: "" } : b.type === "thinking" ? { ...b, signature: "" } : b
        )
      expect(renamed(final.content)).toEqual(renamed(plain.content))
      expect(final.content[2]).toMatchObject({ type: "tool_use", input })
      expect(final.stop_reason).toBe("tool_use")
      expect(final.usage).toEqual(plain.usage)
    })
  )

  it.scoped("sends redacted thinking whole, in its content_block_start", () =>
    Effect.gen(function* () {
      const fake = yield* FakeAnthropic.make({ answer: () => [FakeAnthropic.redactedThinking("ZW5jcnlwdGVk")] })
      const sdk = client(fake)
      const plain = yield* attempt(() => sdk.messages.create(params))
      expect(plain.content).toEqual([{ type: "redacted_thinking", data: "ZW5jcnlwdGVk" }])
      expect(plain.stop_reason).toBe("end_turn")
      expect(plain.usage.output_tokens).toBe(3)
      const streamed = yield* events(sdk, params)
      expect(streamed.map(brief)).toEqual([
        "message_start",
        "start 0 redacted_thinking",
        "stop 0",
        "message_delta",
        "message_stop"
      ])
      expect(streamed[1]).toMatchObject({ content_block: { type: "redacted_thinking", data: "ZW5jcnlwdGVk" } })
    })
  )

  it.scoped("cuts an answer at max_tokens: text where the tokens run out, a tool call that does not fit left out", () =>
    Effect.gen(function* () {
      const fake = yield* FakeAnthropic.make({
        answer: () => [FakeAnthropic.text(said), FakeAnthropic.toolUse("weather", input)]
      })
      const sdk = client(fake)
      // 3 tokens: 12 bytes of text.
      const cut = yield* attempt(() => sdk.messages.create({ ...params, max_tokens: 3 }))
      expect(cut.content).toEqual([{ type: "text", text: "Checking the", citations: null }])
      expect(cut.stop_reason).toBe("max_tokens")
      expect(cut.usage.output_tokens).toBe(3)
      // 10 tokens: the text (21 bytes) fits, the tool's 28 bytes do not.
      const noTool = yield* attempt(() => sdk.messages.stream({ ...params, max_tokens: 10 }).finalMessage())
      expect(noTool.content).toEqual([{ type: "text", text: said, citations: null }])
      expect(noTool.stop_reason).toBe("max_tokens")
      expect(noTool.usage.output_tokens).toBe(10)
    })
  )

  it.scoped("cuts text at the first of the request's stop sequences", () =>
    Effect.gen(function* () {
      const fake = yield* FakeAnthropic.make({
        answer: () => [FakeAnthropic.text("one two END three"), FakeAnthropic.toolUse("weather", input)]
      })
      const sdk = client(fake)
      const stopped = yield* attempt(() => sdk.messages.create({ ...params, stop_sequences: ["three", "END"] }))
      expect(stopped.content).toEqual([{ type: "text", text: "one two ", citations: null }])
      expect(stopped.stop_reason).toBe("stop_sequence")
      expect(stopped.stop_sequence).toBe("END")
      expect(stopped.usage.output_tokens).toBe(2)
      const streamed = yield* attempt(() => sdk.messages.stream({ ...params, stop_sequences: ["END"] }).finalMessage())
      expect(streamed).toMatchObject({ stop_reason: "stop_sequence", stop_sequence: "END" })
    })
  )

  it.scoped("gives the script each call, and the default answer when it gives none", () =>
    Effect.gen(function* () {
      const seen: Array<FakeAnthropic.FakeCall> = []
      const fake = yield* FakeAnthropic.make({
        outputTokens: 2,
        answer: (call) => {
          seen.push(call)
          return call.index === 0 ? [FakeAnthropic.text("scripted")] : undefined
        }
      })
      const sdk = client(fake)
      const first = yield* attempt(() => sdk.messages.create(params))
      const second = yield* attempt(() => sdk.messages.stream(params).finalMessage())
      expect(first.content).toEqual([{ type: "text", text: "scripted", citations: null }])
      expect(second.content).toEqual([{ type: "text", text: "lorem ipsum", citations: null }])
      expect(seen.map((c) => [c.index, c.stream])).toEqual([
        [0, false],
        [1, true]
      ])
      expect(seen[0]?.body).toMatchObject(params)
    })
  )

  it.scoped("cuts a stream after N deltas of any block, and counts the answer's tokens in the window", () =>
    Effect.gen(function* () {
      const fake = yield* FakeAnthropic.make({
        answer: () => answer,
        script: FakeAnthropic.byIndex({ 0: FakeAnthropic.dropMidStream(7) }),
        limits: { tokensPerMinute: 1000 }
      })
      const sdk = client(fake)
      const all = yield* attempt(async () => {
        const seen: Array<string> = []
        try {
          for await (const event of await sdk.messages.create({ ...params, stream: true })) seen.push(brief(event))
        } catch (error) {
          return { seen, error }
        }
        return { seen, error: undefined }
      })
      // Thinking: four words and the signature; then two words of the text.
      expect(all.seen.slice(-4)).toEqual(["stop 0", "start 1 text", 'text "Checking"', 'text " the"'])
      expect(
        all.seen.filter((e) => e.startsWith("text") || e.startsWith("thinking") || e.startsWith("signature"))
      ).toHaveLength(7)
      expect(all.error).toBeInstanceOf(Error)
      expect(all.error).not.toBeInstanceOf(APIError)

      const { response } = yield* attempt(() => sdk.messages.create(params).withResponse())
      // Both calls were admitted: each took its input and its answer's output tokens.
      expect(response.headers.get("anthropic-ratelimit-tokens-remaining")).toBe(
        String(1000 - 2 * (inputTokens + outputTokens))
      )
    })
  )
})
