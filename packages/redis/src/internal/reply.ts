/**
 * Readers of script replies. The scripts are ours, so a reply of another shape is a bug: it is read
 * as NaN or an empty list rather than trusted, and the callers' checks fail closed.
 */

export const list = (reply: unknown): ReadonlyArray<unknown> => (Array.isArray(reply) ? reply : [])

export const num = (reply: unknown): number =>
  typeof reply === "number" ? reply : typeof reply === "string" ? Number(reply) : Number.NaN

export const str = (reply: unknown): string => (typeof reply === "string" ? reply : "")

/** A field/value list (HGETALL) as a map of numbers. */
export const numbers = (reply: unknown): ReadonlyMap<string, number> => {
  const flat = list(reply)
  const map = new Map<string, number>()
  for (let i = 0; i + 1 < flat.length; i += 2) map.set(str(flat[i]), num(flat[i + 1]))
  return map
}
