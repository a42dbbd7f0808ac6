import { describe, expect, it } from "@effect/vitest"
import { Either, FastCheck as fc } from "effect"
import { isRequest, isWellFormed, validate } from "../src/internal/input/request.js"
import {
  breakAt,
  fieldOf,
  hostile,
  kinds,
  nearRequest,
  type Path,
  pathsOf,
  replaceAt,
  wellFormedRequest
} from "./hostile.js"

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
    {
      u: fc.oneof(fc.anything(), request, fc.array(request), wellFormedRequest, { arbitrary: nearRequest, weight: 8 })
    },
    ({ u }) => {
      expect(isWellFormed(u)).toBe(isRequest(u))
    },
    { fastCheck: { numRuns: 3000 } }
  )
})

/** Every object and array inside `u`, `u` included. */
const objectsIn = (u: unknown): Array<object> =>
  typeof u === "object" && u !== null ? [u, ...Object.values(u).flatMap(objectsIn)] : []

/** The field a refusal names for `path`: `request` for the whole. */
const nameOf = (path: Path): string => (path.length === 0 ? "request" : fieldOf(path))

const at = (u: unknown, path: Path): unknown =>
  path.reduce<unknown>((v, key) => (typeof v === "object" && v !== null ? (v as never)[key] : undefined), u)

describe("validate: a request is decoded into a copy of its own", () => {
  it.prop(
    "a well-formed request of every kind: an equal copy sharing no object with it",
    { u: wellFormedRequest },
    ({ u }) => {
      const checked = validate(u)
      if (Either.isLeft(checked)) throw new Error(`refused: ${checked.left.message}`)
      expect(checked.right).toEqual(u)
      const given = new Set(objectsIn(u))
      expect(objectsIn(checked.right).filter((o) => given.has(o))).toEqual([])
    },
    { fastCheck: { numRuns: 300 } }
  )

  it.prop(
    "a read that throws (a getter, a Proxy, a revoked Proxy) anywhere is refused naming its place; nothing throws",
    { broken: hostile(wellFormedRequest, kinds) },
    ({ broken: { value, path, kind } }) => {
      const checked = validate(breakAt(value, path, kind))
      const read = kind === "getter" || kind === "proxy get"
      if (kind === "proxy keys" && Array.isArray(at(value, path))) {
        // An array's items are read by index, never listed: it can still be read, and is.
        expect(checked).toEqual(Either.right(value))
        return
      }
      if (Either.isRight(checked)) throw new Error("a request that cannot be read was accepted")
      // A root whose every read throws is refused at the first field read.
      const field = path.length === 0 && read ? "model" : nameOf(path)
      expect(checked.left).toMatchObject({ _tag: field === "maxTokens" ? "InvalidAmount" : "InvalidRequest", field })
      expect(checked.left.message).toContain("could not be read")
      expect(checked.left.message).not.toContain("hostile")
    },
    { fastCheck: { numRuns: 500 } }
  )

  it.prop(
    "whatever the value and however it throws: a copy or a typed error",
    { broken: hostile(fc.oneof(request, nearRequest)) },
    ({ broken }) => {
      const checked = validate(breakAt(broken.value, broken.path, broken.kind))
      expect(["InvalidRequest", "InvalidAmount", undefined]).toContain(
        Either.isLeft(checked) ? checked.left._tag : undefined
      )
      expect(Either.isLeft(checked) ? checked.left.message : "").not.toContain("hostile")
    },
    { fastCheck: { numRuns: 500 } }
  )
})

/** Whether `path` is inside a JSON value the request carries as written (a tool's input or schema, a server tool). */
const isJson = (request: unknown, path: Path): boolean =>
  path.includes("input") ||
  path.includes("inputSchema") ||
  (path[0] === "tools" &&
    path.length > 1 &&
    (at(request, path.slice(0, 2)) as { inputSchema?: unknown }).inputSchema === undefined)

const removed = ["temperature", "top_p", "top_k", "topP", "topK"]

describe("validate: a field no part of a request takes is refused naming it, never dropped", () => {
  it.prop(
    "an unknown field in any object of a request (outside JSON it carries)",
    {
      added: wellFormedRequest.chain((request) => {
        const places = pathsOf(request).filter((path) => {
          const value = at(request, path)
          return typeof value === "object" && value !== null && !Array.isArray(value) && !isJson(request, path)
        })
        return fc.record({
          request: fc.constant(request),
          path: fc.constantFrom(...places),
          key: fc.constantFrom(
            ...removed,
            "max_tokens",
            "cache_control",
            "media_type",
            "tool_use_id",
            "extra",
            "__proto__"
          )
        })
      })
    },
    ({ added: { request, path, key } }) => {
      const checked = validate(replaceAt(request, [...path, key], 1))
      if (Either.isRight(checked)) throw new Error("an unknown field was accepted")
      expect(checked.left).toMatchObject({ _tag: "InvalidRequest", field: fieldOf([...path, key]) })
      expect(checked.left.message).toContain(
        path.length === 0 && removed.includes(key) ? "the Messages API of SDK 1.x" : "is not a field of"
      )
    },
    { fastCheck: { numRuns: 300 } }
  )
})
