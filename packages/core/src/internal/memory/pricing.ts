/**
 * The in-memory Pricing: the built-in table merged with the prices given, its methods, and the
 * same arithmetic as a fast path (a synchronous estimate and cost, for the calls that need no
 * counter and no refusal).
 */
import { Effect, Either, Schema } from "effect"
import { InvalidAmount, type InvalidRequest, UnknownModel } from "../../Errors.js"
import type { CompletionRequest, Usage } from "../../Llm.js"
import { decode, FunctionOption, Options, option } from "../../Options.js"
import { type PricingFastPath, withFastPath } from "../backend/fastPath.js"
import * as Request from "../input/request.js"
import * as Ledger from "../policy/ledger.js"
import * as Prices from "../policy/pricing.js"
import * as Values from "../policy/values.js"

type Counter = (request: CompletionRequest) => Effect.Effect<number, unknown>

/**
 * The refusal of an estimate of `usd` that no ledger can hold (at or past ~9,000,000 USD, where
 * nanodollars stop being exact), naming the request field it comes from: `maxTokens` when its
 * output alone is past the ceiling (or neither part alone is), else `messages`, the prompt.
 */
const beyondLedger = (p: Prices.Price, request: CompletionRequest, usd: number): InvalidAmount | undefined => {
  if (Ledger.toNanos(usd) !== undefined) return undefined
  const reason = `prices the request at $${usd}, more than a budget can hold (below 9,000,000 USD)`
  const output = (request.maxTokens * p.output) / 1_000_000
  return Ledger.toNanos(output) === undefined || Ledger.toNanos(usd - output) !== undefined
    ? new InvalidAmount({ field: "maxTokens", value: request.maxTokens, reason })
    : new InvalidAmount({ field: "messages", value: Prices.inputCeiling(request), reason })
}

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
    if (n !== undefined && !Values.isTokenCount(n)) {
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

/** An estimate from the input count `count` gives (+5%); the bound (or the context window) when it cannot be had. */
const counted = (p: Prices.Price, request: CompletionRequest, count: Counter): Effect.Effect<number> =>
  count(request).pipe(
    Effect.flatMap((tokens) =>
      Number.isSafeInteger(tokens) && tokens >= 0
        ? Effect.succeed(Prices.priceEstimate(p, request, Prices.withMargin(tokens)))
        : Effect.fail(`not a token count: ${tokens}`)
    ),
    Effect.catchAllCause((cause) =>
      Effect.as(
        Effect.logDebug("fleetguard: input tokens could not be counted; the byte bound is used", cause),
        Prices.priceEstimate(p, request)
      )
    )
  )

/** The synchronous step: an estimate only when it needs no counter and no refusal; a cost throws as `cost` fails. */
const fastPath = (merged: Prices.Table, countInputTokens: Counter | undefined): PricingFastPath => ({
  estimate: (request) => {
    const p = countInputTokens === undefined ? Prices.resolve(merged, request.model) : undefined
    const usd = p === undefined ? undefined : Prices.priceEstimate(p, request)
    return usd === undefined || Ledger.toNanos(usd) === undefined ? undefined : usd
  },
  cost: (model, usage) => {
    const p = Prices.resolve(merged, model)
    if (p === undefined) throw new UnknownModel({ model })
    const invalid = invalidUsage(usage)
    if (invalid !== undefined) throw invalid
    return Prices.priceUsage(p, usage)
  }
})

/** The service over `table` (decoded, added to the built-in one), with exact input counts by `countInputTokens`. */
export const make = (table: unknown, countInputTokens: Counter | undefined) =>
  Effect.gen(function* () {
    const prices = yield* decode(TableSchema, table)
    if (countInputTokens !== undefined) yield* decode(FunctionOption, countInputTokens, "countInputTokens")
    const merged: Prices.Table = { ...Prices.defaultTable, ...prices }
    const lookup = (model: string): Effect.Effect<Prices.Price, UnknownModel> => {
      const found = Prices.resolve(merged, model)
      return found === undefined ? Effect.fail(new UnknownModel({ model })) : Effect.succeed(found)
    }
    // An estimate no ledger can hold is refused before anything is counted, naming the request's
    // field rather than the reservation's amount (a count, like the bound, stops at the context window).
    const bounded = (p: Prices.Price, request: CompletionRequest): Effect.Effect<number, InvalidAmount> => {
      const bound = Prices.priceEstimate(p, request)
      const refused = beyondLedger(p, request, bound)
      if (refused !== undefined) return Effect.fail(refused)
      return countInputTokens === undefined ? Effect.succeed(bound) : counted(p, request, countInputTokens)
    }
    const service = {
      table: merged,
      price: lookup,
      estimate: (input: CompletionRequest): Effect.Effect<number, UnknownModel | InvalidAmount | InvalidRequest> =>
        Either.match(Request.validate(input), {
          onLeft: Effect.fail,
          onRight: (request) => Effect.flatMap(lookup(request.model), (p) => bounded(p, request))
        }),
      cost: (model: string, usage: Usage): Effect.Effect<number, UnknownModel | InvalidAmount> => {
        const invalid = invalidUsage(usage)
        return invalid === undefined
          ? Effect.map(lookup(model), (p) => Prices.priceUsage(p, usage))
          : Effect.fail(invalid)
      }
    }
    return withFastPath(service, fastPath(merged, countInputTokens))
  })
