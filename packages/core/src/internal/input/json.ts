/**
 * JSON values a request carries as they are (a tool's input and input schema, a server tool's
 * fields): copied deeply, each part read once, and refused naming the place where one is not JSON —
 * so that what is priced by its JSON bytes is what is sent, and nothing stringifies into something
 * else (a Date into a string, NaN into null, a Map into {}).
 */
import { copyArray, define, field, nested, Refusal, unreadable } from "./read.js"

/** How deep a JSON value may nest: deeper than any schema or tool input needs, shallow enough to walk. */
export const maxJsonDepth = 64

/** How many objects, arrays and values one JSON value may hold, counted as copied. */
export const maxJsonParts = 1_000_000

const tooLarge = `is too large: JSON of at most ${maxJsonParts} parts`

export const jsonReason = "must be JSON: plain objects and arrays, strings, finite numbers, booleans or null"

const isLeaf = (u: unknown): boolean =>
  u === null || typeof u === "string" || typeof u === "boolean" || (typeof u === "number" && Number.isFinite(u))

const isPlain = (u: object): boolean => {
  const prototype = Object.getPrototypeOf(u)
  return prototype === Object.prototype || prototype === null
}

/** What one copy keeps track of: the objects it is inside (a cycle), and how much it copied. */
interface Walk {
  readonly open: Set<object>
  parts: number
}

const copyObject = (u: object, depth: number, walk: Walk): Record<string, unknown> => {
  const copy: Record<string, unknown> = {}
  for (const key of Object.keys(u)) {
    const value = field(u, key)
    // As JSON.stringify writes it: a field that is undefined is no field.
    if (value !== undefined)
      define(
        copy,
        key,
        nested(key, (v) => copyValue(v, depth + 1, walk), value)
      )
  }
  return copy
}

const copyValue = (u: unknown, depth: number, walk: Walk): unknown => {
  if (++walk.parts > maxJsonParts) throw new Refusal([], tooLarge)
  if (isLeaf(u)) return u
  if (typeof u !== "object" || u === null) throw new Refusal([], jsonReason)
  if (walk.open.has(u)) throw new Refusal([], "refers to itself: JSON has no cycles")
  if (depth >= maxJsonDepth) throw new Refusal([], `is nested too deeply: JSON of at most ${maxJsonDepth} levels`)
  const isArray = Array.isArray(u)
  if (!isArray && !isPlain(u)) throw new Refusal([], jsonReason)
  walk.open.add(u)
  const copy = isArray ? copyArray(u, (item) => copyValue(item, depth + 1, walk)) : copyObject(u, depth, walk)
  walk.open.delete(u)
  return copy
}

/**
 * A fresh copy of the JSON value `u`, each part read once; a part that is not JSON (or cannot be
 * read, or nests too deeply, or refers to itself) is a `Refusal` naming its place.
 */
export const copyJson = (u: unknown): unknown => {
  if (isLeaf(u)) return u
  const walk: Walk = { open: new Set(), parts: 0 }
  try {
    return copyValue(u, 0, walk)
  } catch (error) {
    // Too large is said of the whole value, not of the part where the count ran out.
    throw walk.parts > maxJsonParts ? new Refusal([], tooLarge) : error
  }
}

/** Where `u` is not JSON, and why; undefined if it is. Never throws. */
export const jsonIssue = (u: unknown): Refusal | undefined => {
  try {
    copyJson(u)
    return undefined
  } catch (error) {
    return error instanceof Refusal ? error : new Refusal([], unreadable)
  }
}
