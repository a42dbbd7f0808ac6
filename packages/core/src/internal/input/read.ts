/**
 * Reading a value a caller passed, once, whatever it is: a read that throws (a getter, a Proxy
 * trap, a revoked Proxy) or a part that cannot be taken (an unknown field, a value that is not
 * JSON) is a `Refusal` naming where it is, thrown up to the decoder, which turns it into a typed
 * error. Nothing here lets anything else escape.
 */
import * as Values from "../policy/values.js"

/** Why a part of the request cannot be taken, and where (the path grows as the refusal goes up). */
export class Refusal {
  constructor(
    readonly path: Array<PropertyKey>,
    readonly reason: string
  ) {}
}

export const unreadable = "could not be read: a getter or Proxy threw"

/** An object that is not an array (an array, a function or a primitive is checked as what it is). */
export const isRecord = (u: unknown): u is Readonly<Record<string, unknown>> =>
  typeof u === "object" && u !== null && !Array.isArray(u)

/** `u[key]`, read once; a read that throws is refused naming `key`. */
export const field = (u: object, key: string | number): unknown => {
  const value = Values.readField(u, key)
  if (value === Values.unreadable) throw new Refusal([key], unreadable)
  return value
}

/** What `error`, thrown while reading or copying the part at `key`, says about where the request is refused. */
export const under = (key: PropertyKey, error: unknown): Refusal => {
  if (!(error instanceof Refusal)) return new Refusal([key], unreadable)
  error.path.unshift(key)
  return error
}

/** `copy(value)` for the part at `key`: whatever it throws is refused under `key`. */
export const nested = <A>(key: PropertyKey, copy: (u: unknown) => A, value: unknown): A => {
  try {
    return copy(value)
  } catch (error) {
    throw under(key, error)
  }
}

/**
 * A fresh array of the items of `u` (its length read once), each read once and copied by `copy`.
 * It stops after a missing item, which no array of a request may hold: a sparse array of a
 * billion holes is refused at its first, not copied.
 */
export const copyArray = (u: ReadonlyArray<unknown>, copy: (item: unknown) => unknown): Array<unknown> => {
  const length = field(u, "length") as number
  const items: Array<unknown> = []
  for (let i = 0; i < length; i++) {
    const item = field(u, i)
    items.push(nested(i, copy, item))
    if (item === undefined) break
  }
  return items
}

/** Sets `copy[key]`, even for "__proto__" (which a plain assignment would take as the prototype). */
export const define = (copy: Record<string, unknown>, key: string, value: unknown): void => {
  if (key === "__proto__")
    Object.defineProperty(copy, key, { value, enumerable: true, writable: true, configurable: true })
  else copy[key] = value
}

/** `messages[0].content` for the path ["messages", 0, "content"]; `request` for the whole. */
export const nameOf = (path: ReadonlyArray<PropertyKey>): string =>
  path.length === 0
    ? "request"
    : path.reduce<string>(
        (name, key) =>
          typeof key === "number" ? `${name}[${key}]` : name === "" ? String(key) : `${name}.${String(key)}`,
        ""
      )
