import { describe, expect, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import { isRequest, isWellFormed } from "../src/internal/request.js"

const anyOr = <A>(arb: fc.Arbitrary<A>) => fc.oneof(arb, fc.anything())
const block = fc.record({ type: anyOr(fc.constant("text")), text: anyOr(fc.string()) }, { requiredKeys: [] })
const text = anyOr(fc.oneof(fc.string(), fc.array(block, { maxLength: 3 })))
const request = fc.record(
  {
    model: anyOr(fc.constantFrom("claude-haiku-4-5", "", "  ")),
    maxTokens: anyOr(fc.oneof(fc.integer({ min: -2, max: 5 }), fc.constantFrom(1.5, Number.NaN, 2 ** 60))),
    messages: anyOr(
      fc.array(fc.record({ role: anyOr(fc.constantFrom("user", "assistant")), content: text }, { requiredKeys: [] }), {
        maxLength: 3
      })
    ),
    system: text,
    cache: anyOr(fc.constantFrom("5m", "1h", undefined))
  },
  { requiredKeys: [] }
)

describe("the request check", () => {
  it.prop(
    "the hand-written check agrees with the schema on any value",
    { u: fc.oneof(fc.anything(), request, fc.array(request)) },
    ({ u }) => {
      expect(isWellFormed(u)).toBe(isRequest(u))
    },
    { fastCheck: { numRuns: 3000 } }
  )
})
