import { describe, expect, it } from "@effect/vitest"
import { Either, FastCheck as fc } from "effect"
import { isRequest, isWellFormed, validate } from "../src/internal/input/request.js"
import { breakAt, fieldOf, hostile } from "./hostile.js"

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

const content = fc.oneof(fc.string(), fc.array(fc.record({ type: fc.constant("text"), text: fc.string() })))
const wellFormed = fc.record(
  {
    model: fc.constantFrom("claude-haiku-4-5", "claude-opus-4-1"),
    maxTokens: fc.integer({ min: 1, max: 100_000 }),
    messages: fc.array(fc.record({ role: fc.constantFrom("user", "assistant"), content }), {
      minLength: 1,
      maxLength: 3
    }),
    system: content,
    cache: fc.constantFrom("5m", "1h")
  },
  { requiredKeys: ["model", "maxTokens", "messages"] }
)

/** Every object and array inside `u`, `u` included. */
const objectsIn = (u: unknown): Array<object> =>
  typeof u === "object" && u !== null ? [u, ...Object.values(u).flatMap(objectsIn)] : []

describe("validate: a request is decoded into a copy of its own", () => {
  it.prop("a well-formed request: an equal copy sharing no object with it", { u: wellFormed }, ({ u }) => {
    const checked = validate(u)
    if (Either.isLeft(checked)) throw new Error(`refused: ${checked.left.message}`)
    expect(checked.right).toEqual(u)
    const given = new Set(objectsIn(u))
    expect(objectsIn(checked.right).filter((o) => given.has(o))).toEqual([])
  })

  it.prop(
    "a read that throws (a getter, a Proxy) is refused naming its field; nothing throws",
    { broken: hostile(wellFormed, ["getter", "proxy get"], false) },
    ({ broken: { value, path, kind } }) => {
      const checked = validate(breakAt(value, path, kind))
      if (Either.isRight(checked)) throw new Error("a request that cannot be read was accepted")
      const field = fieldOf(path)
      expect(checked.left).toMatchObject({ _tag: field === "maxTokens" ? "InvalidAmount" : "InvalidRequest", field })
      expect(checked.left.message).toContain("could not be read")
    }
  )

  it.prop(
    "whatever the value and however it throws: a copy or a typed error",
    { broken: hostile(request) },
    ({ broken }) => {
      const checked = validate(breakAt(broken.value, broken.path, broken.kind))
      expect(["InvalidRequest", "InvalidAmount", undefined]).toContain(
        Either.isLeft(checked) ? checked.left._tag : undefined
      )
      expect(Either.isLeft(checked) ? checked.left.message : "").not.toContain("hostile")
    }
  )
})
