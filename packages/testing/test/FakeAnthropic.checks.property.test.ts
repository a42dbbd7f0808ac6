/**
 * Whatever a body holds, FakeAnthropic answers it as the API would: 200, or 400
 * invalid_request_error naming a field — never a 500, never a crash.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, FastCheck as fc } from "effect"
import { FakeAnthropic } from "../src/index.js"
import { png } from "./media.js"

/** A value mostly right, sometimes anything at all. */
const sometimes = <A>(right: fc.Arbitrary<A>) =>
  fc.oneof({ weight: 15, arbitrary: right }, fc.jsonValue({ maxDepth: 3 }))
/** A field mostly left out (JSON drops undefined), or mostly sent. */
const rarely = <A>(value: fc.Arbitrary<A>) =>
  fc.oneof({ weight: 9, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: value })
const often = <A>(value: fc.Arbitrary<A>) => fc.option(value, { nil: undefined, freq: 3 })

const block = fc.oneof(
  sometimes(fc.record({ type: fc.constant("text"), text: sometimes(fc.string()) })),
  fc.record({
    type: fc.constant("image"),
    source: sometimes(
      fc.record({ type: fc.constant("base64"), media_type: fc.constant("image/png"), data: fc.constant(png(20, 10)) })
    )
  }),
  fc.record({
    type: fc.constant("tool_use"),
    id: fc.string(),
    name: fc.constant("search"),
    input: sometimes(fc.object())
  }),
  fc.record({ type: fc.constant("tool_result"), tool_use_id: fc.string(), content: sometimes(fc.string()) }),
  fc.record({ type: fc.constant("thinking"), thinking: fc.string(), signature: sometimes(fc.string()) })
)
const message = fc.record({
  role: sometimes(fc.constantFrom("user", "assistant")),
  content: sometimes(fc.oneof(fc.string(), fc.array(block, { maxLength: 3 })))
})
const body = (endpoint: string) =>
  fc.record({
    model: sometimes(fc.constant("claude-haiku-4-5")),
    // count_tokens takes no max_tokens, stream or stop_sequences: sent there now and then.
    max_tokens: (endpoint === "messages" ? often : rarely)(sometimes(fc.integer({ min: 1, max: 4000 }))),
    stream: (endpoint === "messages" ? often : rarely)(fc.boolean()),
    stop_sequences: rarely(sometimes(fc.array(fc.string(), { maxLength: 2 }))),
    messages: sometimes(fc.array(message, { maxLength: 3 })),
    system: often(sometimes(fc.string())),
    tools: often(
      sometimes(
        fc.array(fc.record({ name: fc.constant("search"), input_schema: sometimes(fc.constant({ type: "object" })) }), {
          maxLength: 2
        })
      )
    ),
    tool_choice: rarely(
      sometimes(fc.record({ type: fc.constantFrom("auto", "any", "tool", "none"), name: fc.constant("search") }))
    ),
    thinking: rarely(
      sometimes(fc.record({ type: fc.constant("enabled"), budget_tokens: fc.integer({ min: 0, max: 5000 }) }))
    ),
    temperature: rarely(fc.double())
  })

const request = fc
  .constantFrom("messages", "messages/count_tokens")
  .chain((endpoint) => body(endpoint).map((sent) => ({ endpoint, sent })))

describe("FakeAnthropic, for any body", () => {
  it.scoped.prop(
    "answers 200, or 400 invalid_request_error with a message naming a field",
    { request },
    ({ request: { endpoint, sent } }) =>
      Effect.gen(function* () {
        const fake = yield* FakeAnthropic.make({ strictHistory: false })
        const response = yield* Effect.promise(() =>
          fetch(`${fake.baseURL}/v1/${endpoint}`, {
            method: "POST",
            headers: { "content-type": "application/json", "x-api-key": fake.apiKey },
            body: JSON.stringify(sent)
          })
        )
        const answer = yield* Effect.promise(() => response.text())
        expect([200, 400]).toContain(response.status)
        if (response.status === 400) {
          expect(JSON.parse(answer)).toMatchObject({
            type: "error",
            error: { type: "invalid_request_error", message: expect.stringMatching(/^[a-z_]+(\.[\s\S]*)?: \S/) }
          })
        }
      }),
    { fastCheck: { numRuns: 200 } }
  )
})
