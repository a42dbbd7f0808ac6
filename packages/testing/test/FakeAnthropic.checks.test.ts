/**
 * A tool loop and a thinking round trip over real HTTP, and the requests FakeAnthropic refuses 400
 * the way the API does, naming the field: a tool_result that answers no tool_use it sent, thinking
 * changed or dropped, malformed blocks and tools, a tool choice naming no tool, a thinking budget
 * out of bounds, the sampling parameters SDK 1.x's API no longer takes.
 */
import type Anthropic from "@anthropic-ai/sdk"
import { BadRequestError } from "@anthropic-ai/sdk"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { FakeAnthropic } from "../src/index.js"
import { attempt, client, type Fake, failure } from "./sdk.js"

type Params = Anthropic.MessageCreateParamsNonStreaming

const tools: Array<Anthropic.Tool> = [
  { name: "search", input_schema: { type: "object", properties: { q: { type: "string" } } } }
]
const question: Anthropic.MessageParam = { role: "user", content: "Who makes fleetguard?" }
const base: Params = { model: "claude-haiku-4-5", max_tokens: 2000, tools, messages: [question] }

/** The API's message for a request refused 400 invalid_request_error. */
const refusal = (fake: Fake, params: unknown) =>
  Effect.map(
    failure(() => client(fake).messages.create(params as Params)),
    (error) => {
      expect(error).toBeInstanceOf(BadRequestError)
      expect((error as BadRequestError).type).toBe("invalid_request_error")
      return ((error as BadRequestError).error as { readonly error: { readonly message: string } }).error.message
    }
  )

const result = (id: string, content = "fleetguard is made by a fleet"): Anthropic.ToolResultBlockParam => ({
  type: "tool_result",
  tool_use_id: id,
  content
})

/** The answer's blocks as the next request's assistant turn. */
const turn = (message: Anthropic.Message): Anthropic.MessageParam => ({ role: "assistant", content: message.content })

describe("FakeAnthropic checks a conversation", () => {
  it.scoped("a full tool loop: tool_use answered, its tool_result taken; an id it never sent refused", () =>
    Effect.gen(function* () {
      const fake = yield* FakeAnthropic.make({
        answer: ({ index }) =>
          index === 0 ? [FakeAnthropic.toolUse("search", { q: "fleetguard" })] : [FakeAnthropic.text("A fleet.")]
      })
      const sdk = client(fake)
      const asked = yield* attempt(() => sdk.messages.create(base))
      expect(asked.stop_reason).toBe("tool_use")
      const [use] = asked.content
      if (use?.type !== "tool_use") return expect.unreachable()
      const answered = yield* attempt(() =>
        sdk.messages.create({ ...base, messages: [question, turn(asked), { role: "user", content: [result(use.id)] }] })
      )
      expect(answered.content).toEqual([{ type: "text", text: "A fleet.", citations: null }])

      const madeUp = { type: "tool_use" as const, id: "toolu_made_up", name: "search", input: {} }
      expect(
        yield* refusal(fake, {
          ...base,
          messages: [question, { role: "assistant", content: [madeUp] }, { role: "user", content: [result(madeUp.id)] }]
        })
      ).toMatch(
        /^messages\.2\.content\.0\.tool_use_id: toolu_made_up is not the id of a tool_use this FakeAnthropic sent/
      )
      // Hand-written histories are taken when the server is told to.
      const lenient = yield* FakeAnthropic.make({ strictHistory: false })
      yield* attempt(() =>
        client(lenient).messages.create({
          ...base,
          messages: [question, { role: "assistant", content: [madeUp] }, { role: "user", content: [result(madeUp.id)] }]
        })
      )
    })
  )

  it.scoped("the API's own rules: a tool_result answers the message before it, every tool_use is answered", () =>
    Effect.gen(function* () {
      const fake = yield* FakeAnthropic.make({ answer: () => [FakeAnthropic.toolUse("search", { q: "x" })] })
      const sdk = client(fake)
      const asked = yield* attempt(() => sdk.messages.create(base))
      const id = (asked.content[0] as Anthropic.ToolUseBlock).id
      expect(
        yield* refusal(fake, {
          ...base,
          messages: [question, turn(asked), { role: "user", content: [result("toolu_other")] }]
        })
      ).toBe(
        "messages.2.content.0.tool_use_id: unexpected `tool_use_id` found in `tool_result` blocks: toolu_other. Each `tool_result` block must have a corresponding `tool_use` block in the previous message."
      )
      expect(
        yield* refusal(fake, { ...base, messages: [question, turn(asked), { role: "user", content: "and?" }] })
      ).toBe(
        `messages.1: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${id}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`
      )
      expect(yield* refusal(fake, { ...base, messages: [{ role: "user", content: [result(id)] }] })).toMatch(
        /^messages\.0\.content\.0\.tool_use_id: unexpected `tool_use_id`/
      )
      const { tools: _, ...noTools } = base
      expect(
        yield* refusal(fake, { ...noTools, messages: [question, turn(asked), { role: "user", content: [result(id)] }] })
      ).toBe("tools: Requests which include `tool_use` or `tool_result` blocks must define tools.")
    })
  )

  it.scoped("a thinking round trip: thinking sent back unchanged is taken; changed or dropped, refused", () =>
    Effect.gen(function* () {
      const fake = yield* FakeAnthropic.make({
        answer: ({ index }) =>
          index === 0
            ? [FakeAnthropic.thinking("I should search."), FakeAnthropic.toolUse("search", { q: "fleetguard" })]
            : [FakeAnthropic.thinking("Found it."), FakeAnthropic.text("A fleet.")]
      })
      const sdk = client(fake)
      const thinking = { type: "enabled" as const, budget_tokens: 1024 }
      const asked = yield* attempt(() => sdk.messages.stream({ ...base, thinking }).finalMessage())
      const [thought, use] = asked.content
      if (thought?.type !== "thinking" || use?.type !== "tool_use") return expect.unreachable()
      expect(thought).toMatchObject({ thinking: "I should search.", signature: "sig_msg_fake_0_0" })
      const next = (assistant: Array<Anthropic.ContentBlockParam>): Params => ({
        ...base,
        thinking,
        messages: [question, { role: "assistant", content: assistant }, { role: "user", content: [result(use.id)] }]
      })
      const answered = yield* attempt(() => sdk.messages.create(next([thought, use])))
      expect(answered.content.map((b) => b.type)).toEqual(["thinking", "text"])

      expect(yield* refusal(fake, next([{ ...thought, thinking: "I should not search." }, use]))).toBe(
        "messages.1.content.0: Invalid `signature` in `thinking` block"
      )
      expect(yield* refusal(fake, next([use]))).toMatch(
        /^messages\.1\.content\.0\.type: Expected `thinking` or `redacted_thinking`, but found `tool_use`\. When `thinking` is enabled, a final `assistant` message must start with a thinking block/
      )
      expect(yield* refusal(fake, next([{ type: "redacted_thinking", data: "bm9wZQ==" }, use]))).toBe(
        "messages.1.content.0: Invalid `data` in `redacted_thinking` block"
      )
    })
  )
})

describe("FakeAnthropic checks a request's shape", () => {
  it.scoped("malformed blocks, named by their field", () =>
    Effect.gen(function* () {
      const fake = yield* FakeAnthropic.make()
      const say = (...content: ReadonlyArray<unknown>) =>
        refusal(fake, { ...base, messages: [{ role: "user", content }] })
      expect(yield* say({ type: "text" })).toBe("messages.0.content.0.text: Field required")
      expect(yield* say({ type: "text", text: 3 })).toBe("messages.0.content.0.text: Input should be a valid string")
      expect(yield* say({ type: "text", text: "hi", colour: "red" })).toBe(
        "messages.0.content.0.colour: Extra inputs are not permitted"
      )
      expect(yield* say({ type: "text", text: "hi" }, { type: "video" })).toMatch(
        /^messages\.0\.content\.1: Input tag 'video' found using 'type' does not match any of the expected tags: 'text', 'image'/
      )
      expect(yield* say({ type: "image", source: { type: "base64", media_type: "image/bmp", data: "" } })).toBe(
        "messages.0.content.0.source.media_type: Input should be 'image/jpeg' or 'image/png' or 'image/gif' or 'image/webp'"
      )
      expect(yield* say({ type: "tool_result", tool_use_id: "toolu_1", is_error: "yes" })).toBe(
        "messages.0.content.0.is_error: Input should be a valid boolean"
      )
      expect(yield* say({ type: "tool_use", id: "toolu_1", name: "search", input: {} })).toBe(
        "messages.0.content.0.type: 'tool_use' blocks are not allowed in user messages"
      )
      expect(
        yield* refusal(fake, {
          ...base,
          messages: [
            question,
            { role: "assistant", content: [{ type: "tool_use", id: "t", name: "search", input: "q" }] }
          ]
        })
      ).toBe("messages.1.content.0.input: Input should be a valid dictionary")
      expect(yield* refusal(fake, { ...base, messages: [{ role: "system", content: "hi" }] })).toBe(
        "messages.0.role: Input should be 'user' or 'assistant'"
      )
    })
  )

  it.scoped("bad tools, a tool choice naming no tool, a thinking budget out of bounds, sampling parameters", () =>
    Effect.gen(function* () {
      const fake = yield* FakeAnthropic.make()
      const ask = (fields: Record<string, unknown>) => refusal(fake, { ...base, ...fields })
      expect(yield* ask({ tools: [{ name: "web search", input_schema: { type: "object" } }] })).toBe(
        "tools.0.custom.name: String should match pattern '^[a-zA-Z0-9_-]{1,128}$'"
      )
      expect(yield* ask({ tools: [{ name: "search" }] })).toBe("tools.0.custom.input_schema: Field required")
      expect(yield* ask({ tools: [{ name: "search", input_schema: { type: "array" } }] })).toBe(
        "tools.0.custom.input_schema.type: Input should be 'object'"
      )
      expect(yield* ask({ tools: [...tools, ...tools] })).toBe("tools: Tool names must be unique.")
      expect(yield* ask({ tool_choice: { type: "tool", name: "browse" } })).toBe(
        "tool_choice.name: Tool 'browse' not found in tools"
      )
      expect(yield* ask({ thinking: { type: "enabled", budget_tokens: 1023 } })).toBe(
        "thinking.budget_tokens: Input should be greater than or equal to 1024"
      )
      expect(yield* ask({ thinking: { type: "enabled", budget_tokens: 2000 } })).toBe(
        "thinking.budget_tokens: `max_tokens` must be greater than `thinking.budget_tokens`"
      )
      expect(yield* ask({ thinking: { type: "enabled", budget_tokens: 1024 }, tool_choice: { type: "any" } })).toBe(
        "tool_choice: Thinking may not be enabled when tool_choice forces tool use."
      )
      for (const field of ["temperature", "top_p", "top_k"]) {
        expect(yield* ask({ [field]: 0.5 })).toBe(`${field}: Extra inputs are not permitted`)
      }
      // count_tokens checks the same, and takes no max_tokens.
      const count = yield* failure(() =>
        client(fake).messages.countTokens({ ...base } as unknown as Anthropic.MessageCountTokensParams)
      )
      expect((count as BadRequestError).error).toMatchObject({
        error: { message: "max_tokens: Extra inputs are not permitted" }
      })
    })
  )
})
