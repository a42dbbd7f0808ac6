/**
 * Pricing: USD per million tokens, per model. `estimate` gives an upper bound for a request before
 * it is sent (what the Budget reserves); `cost` prices the usage the provider reported.
 *
 * @module
 * @since 0.1.0
 */
import { Context, Effect, Layer } from "effect"
import type { InvalidAmount, InvalidOption, InvalidRequest, UnknownModel } from "./Errors.js"
import * as InMemory from "./internal/memory/pricing.js"
import * as Prices from "./internal/policy/pricing.js"
import type { CompletionRequest, SystemPrompt, Usage } from "./Llm.js"

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

/**
 * Counts a request's input tokens exactly (e.g. with the provider's token-counting endpoint), for
 * reservations tighter than the byte bound, and for the parts that bound cannot cover (a PDF by URL).
 * When it fails, the byte bound is used (the context window for a part it cannot cover).
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

/**
 * A table of prices over the built-in one; a model in `table` replaces the built-in entry whole.
 * With `countInputTokens`, estimates use the exact input count instead of the byte bound.
 *
 * @since 0.1.0
 * @category constructors
 */
const make = (
  table: PriceTable = {},
  countInputTokens?: InputTokenCounter
): Effect.Effect<PricingService, InvalidOption> => InMemory.make(table, countInputTokens)

/**
 * The `Pricing` service over the built-in table with `table` added, and exact input counts when
 * `countInputTokens` is given.
 *
 * @since 0.1.0
 * @category layers
 */
const layer = (table: PriceTable = {}, countInputTokens?: InputTokenCounter): Layer.Layer<Pricing, InvalidOption> =>
  Layer.effect(Pricing, make(table, countInputTokens))

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
  /**
   * Published prices of Claude models, current and older ones still called (USD per million
   * tokens, from Anthropic's pricing page). An alias or a dated snapshot id is priced as its model.
   * Models with no published figure are left out on purpose (`unpricedModels`): they fail
   * `UnknownModel` until a price is registered, rather than being priced at $0.
   */
  static readonly defaultTable: PriceTable = Prices.defaultTable
  /**
   * Models the Anthropic SDK names that have no published price: each fails `UnknownModel` (never
   * $0) until a price is registered with `Pricing.layer`.
   */
  static readonly unpricedModels: ReadonlyArray<string> = Prices.unpricedModels
  /** UTF-8 length without encoding (no allocation per message). A lone surrogate counts 3, as it encodes. */
  static readonly byteLength: (text: string) => number = Prices.byteLength
  /** The UTF-8 length of text given as a string or as text blocks. */
  static readonly contentBytes: (content: SystemPrompt) => number = Prices.contentBytes
  /**
   * An upper bound on the input tokens of `request`, block by block: text, thinking, tool
   * definitions, tool inputs and results by their UTF-8 bytes (a token is at least one byte), plus
   * framing overheads; images by their size (`imageCeilingTokens` when it cannot be read); PDFs by
   * their pages (`pdfPageTokens` each). Infinite when a part cannot be bounded from the request: a
   * PDF by URL, or one whose pages cannot be counted.
   */
  static readonly maxInputTokens: (request: CompletionRequest) => number = Prices.maxInputTokens
  /**
   * What an estimate reserves for the input of `request` without a counter: `maxInputTokens`,
   * never past the model's context window (`contextWindowTokens`), which it is when the bound is
   * infinite. With `countInputTokens`, the count (+5%) is reserved instead.
   */
  static readonly inputCeiling: (request: CompletionRequest) => number = Prices.inputCeiling
  /**
   * The most tokens one image can be billed on `model` (an image by URL, or one whose size its
   * header does not give): ~1,600 tokens (+5%) up to Claude Opus 4.6, Sonnet 4.x, Haiku 4.5 and
   * 3.x; ~5,000 (+5%) from Opus 4.7 and for any model not known here.
   */
  static readonly imageCeilingTokens: (model: string) => number = Prices.imageCeilingTokens
  /**
   * What one PDF page is bounded at on `model`: an image of the page, and 4,000 tokens of text (an
   * uncompressed PDF whose strings hold more is bounded by them).
   */
  static readonly pdfPageTokens: (model: string) => number = Prices.pdfPageTokens
  /** The most input tokens any request can be billed (the largest context window): what bounds the unbounded. */
  static readonly contextWindowTokens: number = Prices.contextWindowTokens
  /** Tokens of the system prompt the provider adds when a request has tools. */
  static readonly toolUseSystemPromptTokens: number = Prices.toolUseSystemPromptTokens
  /** Tokens the provider adds for a tool it defines itself (bash, web search…), beyond the tool's JSON. */
  static readonly definedToolTokens: number = Prices.definedToolTokens
  /** Tokens a message's framing (role, separators) may add beyond its text. */
  static readonly perMessageOverheadTokens: number = Prices.perMessageOverheadTokens
  /** Tokens the request's own framing may add. */
  static readonly perRequestOverheadTokens: number = Prices.perRequestOverheadTokens
  static readonly price = (model: string): Effect.Effect<ModelPrice, UnknownModel, Pricing> =>
    Effect.flatMap(Pricing, (p) => p.price(model))
  static readonly estimate = (
    request: CompletionRequest
  ): Effect.Effect<number, UnknownModel | InvalidAmount | InvalidRequest, Pricing> =>
    Effect.flatMap(Pricing, (p) => p.estimate(request))
  static readonly cost = (model: string, usage: Usage): Effect.Effect<number, UnknownModel | InvalidAmount, Pricing> =>
    Effect.flatMap(Pricing, (p) => p.cost(model, usage))
}
