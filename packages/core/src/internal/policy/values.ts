/**
 * Reading and describing values a caller passed, whatever they are: never throwing (a getter, a
 * Proxy trap or a revoked Proxy may throw on any read), and never echoing a string that may be a
 * prompt, a key or a URL given in the wrong place.
 */

/** A value as an error message may show it: numbers, booleans, null and undefined as they are, the rest by kind. */
export const describeValue = (value: unknown): string => {
  switch (typeof value) {
    case "number":
    case "boolean":
    case "undefined":
      return String(value)
    case "string":
      return value === "" ? "an empty string" : "a string"
    case "bigint":
      return `${value}n`
    case "function":
      return "a function"
    case "symbol":
      return "a symbol"
    default:
      return value === null ? "null" : isArray(value) ? "an array" : "an object"
  }
}

/** `Array.isArray`, which throws for a revoked Proxy: a message must never throw. */
const isArray = (value: unknown): boolean => {
  try {
    return Array.isArray(value)
  } catch {
    return false
  }
}

/** What `readField` answers when reading the field threw (a getter, a Proxy trap). */
export const unreadable: unique symbol = Symbol("@fleetguard/core/unreadable")

/** `u[key]`, read once; `unreadable` when reading it throws. */
export const readField = (u: object, key: PropertyKey): unknown => {
  try {
    return (u as Readonly<Record<PropertyKey, unknown>>)[key]
  } catch {
    return unreadable
  }
}

/** The value at `path` in `input`; undefined where a read throws. */
export const valueAt = (input: unknown, path: ReadonlyArray<PropertyKey>): unknown => {
  try {
    return path.reduce<unknown>(
      (value, key) =>
        typeof value === "object" && value !== null ? (value as Record<PropertyKey, unknown>)[key] : undefined,
      input
    )
  } catch {
    return undefined
  }
}

/**
 * Where in `input` a read throws (a getter, a Proxy trap), looked for as Schema reads a value —
 * its own keys, then each of their values — down to `depth` levels; undefined if none does.
 */
export const unreadableAt = (input: unknown, depth = 8): ReadonlyArray<PropertyKey> | undefined => {
  if (depth === 0 || typeof input !== "object" || input === null) return undefined
  let keys: ReadonlyArray<string>
  try {
    keys = Object.keys(input)
  } catch {
    return []
  }
  for (const key of keys) {
    let value: unknown
    try {
      value = (input as Record<string, unknown>)[key]
    } catch {
      return [key]
    }
    const below = unreadableAt(value, depth - 1)
    if (below !== undefined) return [key, ...below]
  }
  return undefined
}

/** A number of tokens: a whole number ≥ 0 that is exact as a double. */
export const isTokenCount = (n: unknown): n is number => typeof n === "number" && Number.isSafeInteger(n) && n >= 0
