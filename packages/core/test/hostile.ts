/**
 * Values that fight back: a copy of a value with one place in it made to throw when read — a
 * throwing getter, a Proxy whose traps throw, a revoked Proxy — for the tests that hold every entry
 * to "a typed error naming the field, never a defect"; and requests of every kind, well formed or
 * nearly (one place changed to a value it must not hold), to feed them.
 */
import { FastCheck as fc } from "effect"
import type { CompletionRequest } from "../src/Llm.js"

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

/** Sets `node[key]`, even for "__proto__" (which an assignment would take as the prototype). */
const define = (node: Node, key: string | number, value: unknown): void => {
  Object.defineProperty(node, key, { value, enumerable: true, writable: true, configurable: true })
}

/** The value at `path` replaced by `replacement`; the root itself for the empty path. */
const replace = (root: unknown, path: Path, replacement: unknown): unknown => {
  const parent = at(root, path.slice(0, -1))
  const key = path.at(-1)
  if (key === undefined) return replacement
  if (isNode(parent)) define(parent, key, replacement)
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

/** A deep copy of a plain `value` with the value at `path` replaced (the root, for the empty path). */
export const replaceAt = (value: unknown, path: Path, replacement: unknown): unknown =>
  replace(copyOf(value), path, replacement)

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

// ---------------------------------------------------------------------------------------------
// Requests of every kind
// ---------------------------------------------------------------------------------------------

const text = fc.string({ maxLength: 8 })
const id = fc.string({ minLength: 1, maxLength: 8 })
const toolName = fc.stringMatching(/^[a-zA-Z0-9_-]{1,12}$/)
const json = fc.jsonValue({ maxDepth: 3 })
const url = fc.constantFrom("https://example.com/a.png", "http://docs.test/d.pdf")
const base64 = fc.base64String({ minLength: 4, maxLength: 16 })
const lit = <const T>(value: T) => fc.constant(value)

const textBlock = fc.record({ type: lit("text"), text })
const urlSource = fc.record({ type: lit("url"), url })
const imageBlock = fc.record({
  type: lit("image"),
  source: fc.oneof(
    fc.record({
      type: lit("base64"),
      mediaType: fc.constantFrom(
        "image/jpeg" as const,
        "image/png" as const,
        "image/gif" as const,
        "image/webp" as const
      ),
      data: base64
    }),
    urlSource
  )
})
const documentBlock = fc.record(
  {
    type: lit("document"),
    source: fc.oneof(
      fc.record({ type: lit("base64"), mediaType: lit("application/pdf"), data: base64 }),
      fc.record({ type: lit("text"), data: text }),
      urlSource
    ),
    title: text,
    context: text
  },
  { requiredKeys: ["type", "source"] }
)
const toolUseBlock = fc.record({ type: lit("tool_use"), id, name: toolName, input: json })
const toolResultBlock = fc.record(
  {
    type: lit("tool_result"),
    toolUseId: id,
    content: fc.oneof(text, fc.array(fc.oneof(textBlock, imageBlock), { maxLength: 2 })),
    isError: fc.boolean()
  },
  { requiredKeys: ["type", "toolUseId", "content"] }
)
const thinkingBlock = fc.oneof(
  fc.record({ type: lit("thinking"), thinking: text, signature: text }),
  fc.record({ type: lit("redacted_thinking"), data: text })
)

const blocks = <A>(block: fc.Arbitrary<A>) => fc.oneof(text, fc.array(block, { maxLength: 3 }))
const message = fc.oneof(
  fc.record({ role: lit("user"), content: blocks(fc.oneof(textBlock, imageBlock, documentBlock, toolResultBlock)) }),
  fc.record({ role: lit("assistant"), content: blocks(fc.oneof(textBlock, toolUseBlock, thinkingBlock)) })
)

const clientTool = fc.record(
  {
    name: toolName,
    description: text,
    inputSchema: fc.record({ type: lit("object"), properties: fc.dictionary(text, json, { maxKeys: 2 }) }),
    type: lit("custom")
  },
  { requiredKeys: ["name", "inputSchema"] }
)
const serverTool = fc.record(
  {
    type: fc.constantFrom("web_search_20250305", "code_execution_20250825"),
    name: toolName,
    max_uses: fc.nat(),
    allowed_domains: fc.array(text, { maxLength: 2 })
  },
  { requiredKeys: ["type", "name"] }
)
const tools = fc.uniqueArray(fc.oneof(clientTool, serverTool), { selector: (tool) => tool.name, maxLength: 3 })
const parallel = { disableParallelToolUse: fc.boolean() }

/** A tool choice among `names` (the tools' names): one that names none of them needs none. */
const toolChoice = (names: ReadonlyArray<string>) =>
  names.length === 0
    ? fc.constant({ type: "none" as const })
    : fc.oneof(
        fc.record({ type: fc.constantFrom("auto" as const, "any" as const), ...parallel }, { requiredKeys: ["type"] }),
        fc.constant({ type: "none" as const }),
        fc.record(
          { type: lit("tool"), name: fc.constantFrom(...names), ...parallel },
          { requiredKeys: ["type", "name"] }
        )
      )

/** Thinking within `maxTokens`, when it has room for the fewest thinking tokens. */
const thinking = (maxTokens: number) =>
  fc.oneof(
    ...(maxTokens > 1024
      ? [fc.record({ type: lit("enabled"), budgetTokens: fc.integer({ min: 1024, max: maxTokens - 1 }) })]
      : []),
    fc.constant({ type: "adaptive" as const }),
    fc.constant({ type: "disabled" as const })
  )

/** Any well-formed request, with fields and blocks of every kind (each optional field sometimes absent). */
export const wellFormedRequest: fc.Arbitrary<CompletionRequest> = fc
  .record({ tools, maxTokens: fc.oneof(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 1025, max: 64_000 })) })
  .chain(({ tools, maxTokens }) =>
    fc.record(
      {
        model: fc.constantFrom("claude-haiku-4-5", "claude-sonnet-4-6"),
        maxTokens: fc.constant(maxTokens),
        messages: fc.array(message, { minLength: 1, maxLength: 3 }),
        system: fc.oneof(text, fc.array(textBlock, { maxLength: 2 })),
        tools: fc.constant(tools),
        toolChoice: toolChoice(tools.map((tool) => tool.name)),
        stopSequences: fc.array(id, { maxLength: 2 }),
        thinking: thinking(maxTokens),
        metadata: fc.record({ userId: id }, { requiredKeys: [] }),
        cache: fc.constantFrom("5m" as const, "1h" as const)
      },
      { requiredKeys: ["model", "maxTokens", "messages"] }
    )
  )
  // A tool choice (other than none) with no tools to choose from is refused: leave it out then.
  .map(({ toolChoice, ...request }) =>
    toolChoice === undefined || (toolChoice.type !== "none" && request.tools === undefined)
      ? request
      : { ...request, toolChoice }
  )

const strings = [
  ...["", " ", "a b", "x".repeat(129), "user", "assistant", "text", "image", "document", "tool_use", "tool_result"],
  ...["thinking", "redacted_thinking", "base64", "url", "object", "custom", "auto", "any", "none", "tool", "enabled"],
  ...["adaptive", "disabled", "image/bmp", "image/png", "application/pdf", "ftp://example.com/a", "not a url"]
]
const numbers = [0, -1, 1.5, 1023, 1024, 2 ** 60, Number.NaN, Number.POSITIVE_INFINITY, "100"]
const objects = [null, [], {}, [Number.NaN], [undefined], new Date(0), { type: "object", at: new Date(0) }, () => 1]

/**
 * Values the place holding `value` must not hold, or may hold only somewhere else: near misses of
 * every rule (chosen by what the place holds: a string, a number, anything else), and anything.
 */
const misfitsFor = (value: unknown): fc.Arbitrary<unknown> =>
  fc.oneof(
    {
      arbitrary: fc.constantFrom(
        ...(typeof value === "string" ? strings : typeof value === "number" ? numbers : objects)
      ),
      weight: 3
    },
    { arbitrary: fc.constantFrom(undefined, true, "a", 1, ...objects), weight: 1 },
    { arbitrary: fc.anything(), weight: 1 }
  )

/** A well-formed request with one place in it (the root included) changed to a misfit, or left out. */
export const nearRequest: fc.Arbitrary<unknown> = wellFormedRequest.chain((request) =>
  fc
    .constantFrom(...pathsOf(request))
    .chain((path) => misfitsFor(at(request, path)).map((misfit) => replaceAt(request, path, misfit)))
)
