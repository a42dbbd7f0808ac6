/**
 * Values that fight back: a copy of a value with one place in it made to throw when read — a
 * throwing getter, a Proxy whose traps throw, a revoked Proxy — for the tests that hold every entry
 * to "a typed error naming the field, never a defect".
 */
import { FastCheck as fc } from "effect"

export type Path = ReadonlyArray<string | number>

/**
 * `getter` and `proxy get` make the read of the place throw; `proxy keys` makes listing or probing
 * its keys throw (reading them still works); `revoked` puts a revoked Proxy there (anything done
 * with it throws, `typeof` aside).
 */
export const kinds = ["getter", "proxy get", "proxy keys", "revoked"] as const
export type Kind = (typeof kinds)[number]

type Node = Record<string | number, unknown>

const isNode = (u: unknown): u is Node => typeof u === "object" && u !== null

/** Every place in a plain value (objects and arrays), the root first. */
export const pathsOf = (value: unknown, at: Path = []): Array<Path> =>
  isNode(value)
    ? [
        at,
        ...Object.keys(value).flatMap((key) => pathsOf(value[key], [...at, Array.isArray(value) ? Number(key) : key]))
      ]
    : [at]

const boom = (): never => {
  throw new Error("a hostile read")
}

const revoked = (): unknown => {
  const { proxy, revoke } = Proxy.revocable({}, {})
  revoke()
  return proxy
}

const at = (root: unknown, path: Path): unknown => path.reduce((u, key) => (isNode(u) ? u[key] : undefined), root)

/** The value at `path` replaced by `replacement`; the root itself for the empty path. */
const replace = (root: unknown, path: Path, replacement: unknown): unknown => {
  const parent = at(root, path.slice(0, -1))
  const key = path.at(-1)
  if (key === undefined) return replacement
  if (isNode(parent)) parent[key] = replacement
  return root
}

const wrapped = (value: unknown, kind: Kind): unknown =>
  kind === "revoked" || !isNode(value)
    ? revoked()
    : kind === "proxy keys"
      ? new Proxy(value, { ownKeys: boom, getOwnPropertyDescriptor: boom, has: boom })
      : new Proxy(value, { get: boom })

/** A deep copy of the objects and arrays in `value`; anything else (functions included) as it is. */
const copyOf = (value: unknown): unknown =>
  Array.isArray(value)
    ? value.map(copyOf)
    : isNode(value)
      ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, copyOf(v)]))
      : value

/** A deep copy of a plain `value` broken, as `kind` says, at `path`. */
export const breakAt = (value: unknown, path: Path, kind: Kind): unknown => {
  const root = copyOf(value)
  const key = path.at(-1)
  const parentPath = path.slice(0, -1)
  const parent = at(root, parentPath)
  if (key === undefined || !isNode(parent) || kind === "proxy keys" || kind === "revoked")
    return replace(root, path, wrapped(at(root, path), kind))
  if (kind === "getter") {
    Object.defineProperty(parent, key, { get: boom, enumerable: true, configurable: true })
    return root
  }
  const guarded = new Proxy(parent, {
    get: (target, k, receiver) => (k === String(key) ? boom() : Reflect.get(target, k, receiver))
  })
  return replace(root, parentPath, guarded)
}

/**
 * Any value `arb` gives, with one of its places (the root included, unless `root` is false) and one
 * of `among` ways to break it there: `breakAt` breaks it in the test body, since fast-check could not
 * print a value that throws.
 */
export const hostile = <A>(arb: fc.Arbitrary<A>, among: ReadonlyArray<Kind> = kinds, root = true) =>
  arb.chain((value) => {
    const paths = pathsOf(value).filter((path) => root || path.length > 0)
    return fc.record({
      value: fc.constant(value),
      path: fc.constantFrom(...(paths.length > 0 ? paths : [[]])),
      kind: fc.constantFrom(...among)
    })
  })

/** `messages[0].content` for ["messages", 0, "content"]. */
export const fieldOf = (path: Path): string =>
  path.reduce<string>(
    (name, key) => (typeof key === "number" ? `${name}[${key}]` : name === "" ? key : `${name}.${key}`),
    ""
  )
