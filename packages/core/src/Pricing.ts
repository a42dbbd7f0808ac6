/**
 * Pricing: USD per million tokens, per model. `estimate` gives an upper bound for a request before
 * it is sent (what the Budget reserves); `cost` prices the usage the provider reported.
 *
 * @module
 * @since 0.1.0
 */
import { Context, Effect, Either, Layer, Schema } from "effect"
import type { InvalidOption, InvalidRequest } from "./Errors.js"
import { InvalidAmount, UnknownModel } from "./Errors.js"
import { FastPathId, type PricingFastPath, type WithFastPath } from "./internal/backend/fastPath.js"
import * as Request from "./internal/call/request.js"
import * as Ledger from "./internal/policy/ledger.js"
import type { CompletionRequest, Content, Usage } from "./Llm.js"
import { decode, FunctionOption, Options, option } from "./Options.js"

/**
 * USD per million tokens.
 *
 * @since 0.1.0
 * @category models
 */
export interface ModelPrice {
  readonly input: number
  readonly output: number
  /** Cache writes with the default 5-minute lifetime. */
  readonly cacheWrite5m: number
  /** Cache writes with a 1-hour lifetime. */
  readonly cacheWrite1h: number
  readonly cacheRead: number
}

/**
 * Prices by model id: what `Pricing.layer` adds over the built-in table.
 *
 * @since 0.1.0
 * @category models
 */
export type PriceTable = Readonly<Record<string, ModelPrice>>

const price = (input: number, cacheWrite5m: number, cacheWrite1h: number, cacheRead: number, output: number) =>
  ({ input, output, cacheWrite5m, cacheWrite1h, cacheRead }) satisfies ModelPrice

const opus5 = price(5, 6.25, 10, 0.5, 25)
const opus4 = price(15, 18.75, 30, 1.5, 75)
const sonnet5 = price(2, 2.5, 4, 0.2, 10)
const sonnet4 = price(3, 3.75, 6, 0.3, 15)
const frontier51 = price(10, 12.5, 20, 0.25, 50)
const frontier5 = price(10, 12.5, 20, 1, 50)

/**
 * Published prices of Claude models, current and older ones still called (USD per million tokens,
 * from Anthropic's pricing page). An alias or a dated snapshot id is priced as its model (see
 * `resolve`). Models with no published figure are left out on purpose (`unpricedModels`): they fail
 * `UnknownModel` until a price is registered, rather than being priced at $0.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultTable: PriceTable = {
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

/**
 * Models the Anthropic SDK names that have no published price: each fails `UnknownModel` (never $0)
 * until a price is registered with `Pricing.layer`.
 *
 * @since 0.1.0
 * @category constants
 */
export const unpricedModels: ReadonlyArray<string> = [
  "claude-haiku-5-5",
  "claude-fable-5-2",
  "claude-mythos-5-2",
  "claude-mythos-preview"
]

/**
 * Tokens a message's framing (role, separators) may add beyond its text.
 *
 * @since 0.1.0
 * @category constants
 */
export const perMessageOverheadTokens = 16
/**
 * Tokens the request's own framing may add.
 *
 * @since 0.1.0
 * @category constants
 */
export const perRequestOverheadTokens = 32

/** The forms of one model's id: a dated snapshot, `-latest`, and `-0` for a major version's first release. */
const aliases: ReadonlyArray<readonly [RegExp, string]> = [
  [/-\d{8}$/, ""],
  [/-latest$/, ""],
  [/^(claude-[a-z]+-\d+)-0$/, "$1"]
]

/**
 * The price of `model` in `table`: its own entry, else its model's — a dated snapshot id
 * (`claude-3-5-haiku-20241022`), a `-latest` alias (`claude-3-5-haiku-latest`) or a `-0` alias
 * (`claude-opus-4-0`) is priced as the model it names (`claude-3-5-haiku`, `claude-opus-4`).
 *
 * @since 0.1.0
 * @category utils
 */
export const resolve = (table: PriceTable, model: string): ModelPrice | undefined =>
  entry(table, model) ??
  entry(
    table,
    aliases.reduce((id, [form, base]) => id.replace(form, base), model)
  )

// Own keys only: "constructor" is not a model.
const entry = (table: PriceTable, model: string): ModelPrice | undefined =>
  Object.hasOwn(table, model) ? table[model] : undefined

/**
 * UTF-8 length without encoding (no allocation per message). A lone surrogate counts 3, as it encodes.
 *
 * @since 0.1.0
 * @category utils
 */
export const byteLength = (text: string): number => {
  let bytes = 0
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code < 0x80) bytes += 1
    else if (code < 0x800) bytes += 2
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1)
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4
        i++
      } else bytes += 3
    } else bytes += 3
  }
  return bytes
}

/**
 * The UTF-8 length of text given as a string or as text blocks.
 *
 * @since 0.1.0
 * @category utils
 */
export const contentBytes = (content: Content): number => {
  if (typeof content === "string") return byteLength(content)
  let bytes = 0
  for (const block of content) bytes += byteLength(block.text)
  return bytes
}

/**
 * An upper bound on the input tokens of `request`: a token is at least one UTF-8 byte, plus the
 * framing overheads (a text block is framed like a message).
 *
 * @since 0.1.0
 * @category utils
 */
export const maxInputTokens = (request: CompletionRequest): number => {
  let tokens = perRequestOverheadTokens
  if (request.system !== undefined) tokens += framed(request.system)
  for (const message of request.messages) tokens += framed(message.content)
  return tokens
}

const framed = (content: Content): number =>
  contentBytes(content) + perMessageOverheadTokens * (typeof content === "string" ? 1 : Math.max(1, content.length))

/** The dearest rate an input token of `request` can be billed at. */
const inputRate = (p: ModelPrice, request: CompletionRequest): number =>
  request.cache === "1h"
    ? Math.max(p.input, p.cacheWrite1h)
    : request.cache === "5m"
      ? Math.max(p.input, p.cacheWrite5m)
      : p.input

/**
 * USD for `usage` at `p`. Cache writes are priced at the 5-minute rate unless said to be 1-hour.
 *
 * @since 0.1.0
 * @category utils
 */
export const priceUsage = (p: ModelPrice, usage: Usage): number => {
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
 * USD for `request` at `p` if it used every token it may: `inputTokens` (by default the byte
 * bound, `maxInputTokens`) at the dearest input rate the request can be billed at, and `maxTokens`
 * of output.
 *
 * @since 0.1.0
 * @category utils
 */
export const priceEstimate = (
  p: ModelPrice,
  request: CompletionRequest,
  inputTokens: number = maxInputTokens(request)
): number => (inputTokens * inputRate(p, request) + request.maxTokens * p.output) / 1_000_000

/**
 * The refusal of an estimate of `usd` that no ledger can hold (at or past ~9,000,000 USD, where
 * nanodollars stop being exact), naming the request field it comes from: `maxTokens` when its
 * output alone is past the ceiling (or neither part alone is), else `messages`, the prompt.
 */
const beyondLedger = (p: ModelPrice, request: CompletionRequest, usd: number): InvalidAmount | undefined => {
  if (Ledger.toNanos(usd) !== undefined) return undefined
  const reason = `prices the request at $${usd}, more than a budget can hold (below 9,000,000 USD)`
  const output = (request.maxTokens * p.output) / 1_000_000
  return Ledger.toNanos(output) === undefined || Ledger.toNanos(usd - output) !== undefined
    ? new InvalidAmount({ field: "maxTokens", value: request.maxTokens, reason })
    : new InvalidAmount({ field: "messages", value: maxInputTokens(request), reason })
}

/**
 * Counts can differ a little from what is billed (Anthropic documents its count as an estimate):
 * reserve this much more, never more than the byte bound.
 *
 * @since 0.1.0
 * @category constants
 */
export const countedInputMargin = 0.05

const withMargin = (counted: number, request: CompletionRequest): number =>
  Math.min(maxInputTokens(request), Math.ceil(counted * (1 + countedInputMargin)))

/**
 * Counts a request's input tokens exactly (e.g. with the provider's token-counting endpoint), for
 * reservations tighter than the byte bound. When it fails, the byte bound is used.
 *
 * @since 0.1.0
 * @category models
 */
export type InputTokenCounter = (request: CompletionRequest) => Effect.Effect<number, unknown>

/**
 * Prices by model: an upper bound on a request's cost before it is sent, and the cost of the usage
 * reported after.
 *
 * @since 0.1.0
 * @category models
 */
export interface PricingService {
  readonly table: PriceTable
  /** The price of `model` (or of the model a dated snapshot id names). */
  readonly price: (model: string) => Effect.Effect<ModelPrice, UnknownModel>
  /**
   * An upper bound on what `request` can cost. A malformed request fails naming the field:
   * `InvalidAmount` for `maxTokens`, `InvalidRequest` for the rest. A bound no budget can hold
   * fails `InvalidAmount` naming `maxTokens` (or `messages`, for a prompt priced past it).
   */
  readonly estimate: (
    request: CompletionRequest
  ) => Effect.Effect<number, UnknownModel | InvalidAmount | InvalidRequest>
  /** What `usage` cost on `model`. */
  readonly cost: (model: string, usage: Usage) => Effect.Effect<number, UnknownModel | InvalidAmount>
}

const isTokenCount = (n: number | undefined): boolean => n === undefined || (Number.isSafeInteger(n) && n >= 0)

const usageFields = [
  "inputTokens",
  "outputTokens",
  "cacheCreationInputTokens",
  "cacheCreation1hInputTokens",
  "cacheReadInputTokens"
] as const

/** The first usage field that is not a token count, checked synchronously: `cost` is on every call's path. */
const invalidUsage = (usage: Usage): InvalidAmount | undefined => {
  for (const field of usageFields) {
    const n = usage[field]
    if (!isTokenCount(n)) {
      return new InvalidAmount({
        field: `usage.${field}`,
        value: n ?? 0,
        reason: "must be a whole number of tokens ≥ 0"
      })
    }
  }
  return undefined
}

const Rate = option(
  (n): n is number => typeof n === "number" && Number.isFinite(n) && n >= 0,
  "must be a finite price ≥ 0 in USD per million tokens"
)

const TableSchema = Schema.Record({
  key: Schema.String,
  value: Options({ input: Rate, output: Rate, cacheWrite5m: Rate, cacheWrite1h: Rate, cacheRead: Rate })
}).annotations({ message: () => "must be an object of prices by model" })

/**
 * A table of prices over the built-in one; a model in `table` replaces the built-in entry whole.
 * With `countInputTokens`, estimates use the exact input count instead of the byte bound.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  table: PriceTable = {},
  countInputTokens?: InputTokenCounter
): Effect.Effect<PricingService, InvalidOption> =>
  Effect.gen(function* () {
    const prices = yield* decode(TableSchema, table)
    if (countInputTokens !== undefined) yield* decode(FunctionOption, countInputTokens, "countInputTokens")
    const merged: PriceTable = { ...defaultTable, ...prices }
    const lookup = (model: string): Effect.Effect<ModelPrice, UnknownModel> => {
      const found = resolve(merged, model)
      return found === undefined ? Effect.fail(new UnknownModel({ model })) : Effect.succeed(found)
    }
    const counted = (p: ModelPrice, request: CompletionRequest, count: InputTokenCounter) =>
      count(request).pipe(
        Effect.flatMap((tokens) =>
          Number.isSafeInteger(tokens) && tokens >= 0
            ? Effect.succeed(priceEstimate(p, request, withMargin(tokens, request)))
            : Effect.fail(`not a token count: ${tokens}`)
        ),
        Effect.catchAllCause((cause) =>
          Effect.as(
            Effect.logDebug("fleetguard: input tokens could not be counted; the byte bound is used", cause),
            priceEstimate(p, request)
          )
        )
      )
    // The byte bound is the most any count gives: an estimate no ledger can hold is refused before
    // anything is counted, naming the request's field rather than the reservation's amount.
    const bounded = (p: ModelPrice, request: CompletionRequest): Effect.Effect<number, InvalidAmount> => {
      const bound = priceEstimate(p, request)
      const refused = beyondLedger(p, request, bound)
      if (refused !== undefined) return Effect.fail(refused)
      return countInputTokens === undefined ? Effect.succeed(bound) : counted(p, request, countInputTokens)
    }
    const engine: PricingFastPath = {
      estimate: (request) => {
        const p = countInputTokens === undefined ? resolve(merged, request.model) : undefined
        const usd = p === undefined ? undefined : priceEstimate(p, request)
        return usd === undefined || Ledger.toNanos(usd) === undefined ? undefined : usd
      },
      cost: (model, usage) => {
        const p = resolve(merged, model)
        if (p === undefined) throw new UnknownModel({ model })
        const invalid = invalidUsage(usage)
        if (invalid !== undefined) throw invalid
        return priceUsage(p, usage)
      }
    }
    return {
      [FastPathId]: engine,
      table: merged,
      price: lookup,
      estimate: (input) =>
        Either.match(Request.validate(input), {
          onLeft: Effect.fail,
          onRight: (request) => Effect.flatMap(lookup(request.model), (p) => bounded(p, request))
        }),
      cost: (model, usage) => {
        const invalid = invalidUsage(usage)
        return invalid === undefined ? Effect.map(lookup(model), (p) => priceUsage(p, usage)) : Effect.fail(invalid)
      }
    } satisfies PricingService & WithFastPath<PricingFastPath>
  })

/**
 * The `Pricing` service over the built-in table with `table` added, and exact input counts when
 * `countInputTokens` is given.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  table: PriceTable = {},
  countInputTokens?: InputTokenCounter
): Layer.Layer<Pricing, InvalidOption> => Layer.effect(Pricing, make(table, countInputTokens))

/**
 * The tag of the price table, with the module's constructors, layers and estimators as static
 * members.
 *
 * @since 0.1.0
 * @category tags
 */
export class Pricing extends Context.Tag("@fleetguard/core/Pricing")<Pricing, PricingService>() {
  static readonly make = make
  static readonly layer = layer
  static readonly defaultTable = defaultTable
  static readonly unpricedModels = unpricedModels
  static readonly byteLength = byteLength
  static readonly contentBytes = contentBytes
  static readonly maxInputTokens = maxInputTokens
  static readonly perMessageOverheadTokens = perMessageOverheadTokens
  static readonly perRequestOverheadTokens = perRequestOverheadTokens
  static readonly price = (model: string) => Effect.flatMap(Pricing, (p) => p.price(model))
  static readonly estimate = (request: CompletionRequest) => Effect.flatMap(Pricing, (p) => p.estimate(request))
  static readonly cost = (model: string, usage: Usage) => Effect.flatMap(Pricing, (p) => p.cost(model, usage))
}
