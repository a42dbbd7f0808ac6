/**
 * Copying an object of known fields, each read once, into a fresh one: a field the object does not
 * take is refused naming it (with the name to use, when it is an API name in snake_case); a value
 * in a place that takes a primitive is kept for the schema to check (see `leaf`).
 */
import { copyArray, field, isRecord, nested, Refusal } from "./read.js"

export type Copy = (u: unknown) => unknown

const anObject = Object.freeze({})
const anArray = Object.freeze([])
const aFunction = () => undefined

/**
 * A value the schema checks (a string, a number, a literal): a primitive as it is; an object or a
 * function, which no such place may hold, by a stand-in of its kind — the copy holds nothing of
 * the caller's, so the schema can print what it refuses (a Proxy it printed could throw there).
 */
export const leaf: Copy = (u) =>
  typeof u === "function" ? aFunction : typeof u !== "object" || u === null ? u : Array.isArray(u) ? anArray : anObject

/** An object of known fields: what it is called in a message, and how each field is copied. */
export interface Kind {
  readonly what: string
  readonly fields: Readonly<Record<string, Copy>>
  // The same, as arrays: walked on every call, faster than the object's keys.
  readonly keys: ReadonlyArray<string>
  readonly copies: ReadonlyArray<Copy>
}

export const kind = (what: string, fields: Readonly<Record<string, Copy>>): Kind => ({
  what,
  fields,
  keys: Object.keys(fields),
  copies: Object.values(fields)
})

/**
 * Refuses `key` of `u`, a field no object of `what` (whose fields are `names`) takes — unless it is
 * undefined, which is no field, as for the known ones. An API name in snake_case is told the name
 * to use.
 */
export const unknownField = (u: object, key: string, what: string, names: ReadonlyArray<string>): void => {
  if (field(u, key) === undefined) return
  const camel = key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase())
  throw new Refusal(
    [key],
    camel !== key && names.includes(camel)
      ? `is not a field of ${what}: use ${camel}`
      : `is not a field of ${what} (it takes ${names.join(", ")})`
  )
}

/** `u`'s fields of `kind` (from the `from`th: those before are in `copy` already) copied into `copy`. */
export const copyFields = (u: object, of: Kind, copy: Record<string, unknown>, from = 0): Record<string, unknown> => {
  for (const key in u) if (!Object.hasOwn(of.fields, key)) unknownField(u, key, of.what, of.keys)
  const { keys, copies } = of
  for (let i = from; i < keys.length; i++) {
    const key = keys[i] as string
    const value = field(u, key)
    if (value !== undefined) copy[key] = nested(key, copies[i] as Copy, value)
  }
  return copy
}

export const record =
  (of: Kind): Copy =>
  (u) =>
    isRecord(u) ? copyFields(u, of, {}) : leaf(u)

export const arrayOf =
  (copy: Copy): Copy =>
  (u) =>
    Array.isArray(u) ? copyArray(u, copy) : leaf(u)

/** `u` (of type `type`) as the kind of `kinds` its type says; of an unknown type, only the type is kept (the schema refuses it). */
export const ofType = (kinds: Readonly<Record<string, Kind>>, u: object, type: unknown): unknown => {
  const of = typeof type === "string" && Object.hasOwn(kinds, type) ? kinds[type] : undefined
  if (of === undefined) return type === undefined ? {} : { type: nested("type", leaf, type) }
  return copyFields(u, of, { type }, 1)
}

/** An object whose `type` says its kind. */
export const byType =
  (kinds: Readonly<Record<string, Kind>>): Copy =>
  (u) =>
    isRecord(u) ? ofType(kinds, u, field(u, "type")) : leaf(u)
