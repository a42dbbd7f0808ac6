/**
 * Prices as pure functions: the built-in table, how a model id finds its price, and the
 * arithmetic of an estimate (over inputBound.ts's bound) and of a cost. The types are the least
 * each function reads, so that this layer needs nothing of fleetguard.
 */
import { byteLength } from "./bytes.js"
import { type Bounded, contextWindowTokens, inputCeiling } from "./inputBound.js"

export { byteLength } from "./bytes.js"
export {
  contextWindowTokens,
  definedToolTokens,
  inputCeiling,
  maxInputTokens,
  perMessageOverheadTokens,
  perRequestOverheadTokens,
  toolUseSystemPromptTokens
} from "./inputBound.js"
export { imageCeilingTokens, pdfPageTokens } from "./media.js"

/** USD per million tokens (the public `ModelPrice`). */
export interface Price {
  readonly input: number
  readonly output: number
  readonly cacheWrite5m: number
  readonly cacheWrite1h: number
  readonly cacheRead: number
}

export type Table = Readonly<Record<string, Price>>

/** What an estimate reads of a request. */
export interface Priced extends Bounded {
  readonly maxTokens: number
  readonly cache?: "5m" | "1h" | undefined
}

/** What a cost reads of a call's usage. */
export interface Tokens {
  readonly inputTokens: number
  readonly outputTokens: number
  readonly cacheCreationInputTokens: number
  readonly cacheReadInputTokens: number
  readonly cacheCreation1hInputTokens?: number | undefined
}

const price = (input: number, cacheWrite5m: number, cacheWrite1h: number, cacheRead: number, output: number) =>
  ({ input, output, cacheWrite5m, cacheWrite1h, cacheRead }) satisfies Price

const opus5 = price(5, 6.25, 10, 0.5, 25)
const opus4 = price(15, 18.75, 30, 1.5, 75)
const sonnet5 = price(2, 2.5, 4, 0.2, 10)
const sonnet4 = price(3, 3.75, 6, 0.3, 15)
const frontier51 = price(10, 12.5, 20, 0.25, 50)
const frontier5 = price(10, 12.5, 20, 1, 50)

/** From Anthropic's pricing page; a model with no published figure is left out (see `unpricedModels`). */
export const defaultTable: Table = {
  "claude-opus-5-5": price(4, 5, 8, 0.2, 20),
  "claude-opus-5": opus5,
  "claude-opus-4-8": opus5,
  "claude-opus-4-7": opus5,
  "claude-opus-4-6": opus5,
  "claude-opus-4-5": opus5,
  "claude-sonnet-5-5": sonnet5,
  "claude-sonnet-5": sonnet5,
  "claude-sonnet-4-6": sonnet4,
  "claude-sonnet-4-5": sonnet4,
  "claude-haiku-4-5": price(1, 1.25, 2, 0.1, 5),
  "claude-fable-5-1": frontier51,
  "claude-mythos-5-1": frontier51,
  "claude-fable-5": frontier5,
  "claude-mythos-5": frontier5,
  // Older models, still called by fleets that have not moved (claude-opus-4-1-20250805, …).
  "claude-opus-4-1": opus4,
  "claude-opus-4": opus4,
  "claude-sonnet-4": sonnet4,
  "claude-3-7-sonnet": sonnet4,
  "claude-3-5-haiku": price(0.8, 1, 1.6, 0.08, 4)
}

/** Named by the Anthropic SDK, with no published price: they fail UnknownModel, never cost $0. */
export const unpricedModels: ReadonlyArray<string> = [
  "claude-haiku-5-5",
  "claude-fable-5-2",
  "claude-mythos-5-2",
  "claude-mythos-preview"
]

/** The forms of one model's id: a dated snapshot, `-latest`, and `-0` for a major version's first release. */
const aliases: ReadonlyArray<readonly [RegExp, string]> = [
  [/-\d{8}$/, ""],
  [/-latest$/, ""],
  [/^(claude-[a-z]+-\d+)-0$/, "$1"]
]

/** The price of `model` in `table`: its own entry, else that of the model its alias or snapshot id names. */
export const resolve = (table: Table, model: string): Price | undefined =>
  entry(table, model) ??
  entry(
    table,
    aliases.reduce((id, [form, base]) => id.replace(form, base), model)
  )

// Own keys only: "constructor" is not a model.
const entry = (table: Table, model: string): Price | undefined =>
  Object.hasOwn(table, model) ? table[model] : undefined

/** The UTF-8 length of text given as a string or as text blocks. */
export const contentBytes = (content: string | ReadonlyArray<{ readonly text: string }>): number => {
  if (typeof content === "string") return byteLength(content)
  let bytes = 0
  for (const block of content) bytes += byteLength(block.text)
  return bytes
}

/** The dearest rate an input token of `request` can be billed at. */
const inputRate = (p: Price, request: Priced): number =>
  request.cache === "1h"
    ? Math.max(p.input, p.cacheWrite1h)
    : request.cache === "5m"
      ? Math.max(p.input, p.cacheWrite5m)
      : p.input

/** USD for `usage` at `p`. Cache writes are priced at the 5-minute rate unless said to be 1-hour. */
export const priceUsage = (p: Price, usage: Tokens): number => {
  const write1h = Math.min(usage.cacheCreation1hInputTokens ?? 0, usage.cacheCreationInputTokens)
  return (
    (usage.inputTokens * p.input +
      usage.outputTokens * p.output +
      (usage.cacheCreationInputTokens - write1h) * p.cacheWrite5m +
      write1h * p.cacheWrite1h +
      usage.cacheReadInputTokens * p.cacheRead) /
    1_000_000
  )
}

/**
 * USD for `request` at `p` if it used every token it may: `inputTokens` (by default the bound
 * read from the request, never past the context window, which it is for a part that cannot be bounded) at
 * the dearest input rate the request can be billed at, and `maxTokens` of output (thinking is
 * output, within `maxTokens`).
 */
export const priceEstimate = (p: Price, request: Priced, inputTokens: number = inputCeiling(request)): number =>
  (inputTokens * inputRate(p, request) + request.maxTokens * p.output) / 1_000_000

/**
 * Counts can differ a little from what is billed (Anthropic documents its count as an estimate):
 * reserve this much more, never past the context window. The bound read from the request does not
 * cap a count: some of its parts (a PDF page's text) are fleetguard's ceilings, which a count
 * knows better, and the parts it cannot bound at all are what a count is asked for.
 */
export const countedInputMargin = 0.05

export const withMargin = (counted: number): number =>
  Math.min(contextWindowTokens, Math.ceil(counted * (1 + countedInputMargin)))
