import { readFileSync } from "node:fs"
import { createRequire } from "node:module"
import { dirname, join } from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { Effect, FastCheck as fc } from "effect"
import { type CompletionRequest, Pricing, UnknownModel, type Usage } from "../src/index.js"

const { byteLength, maxInputTokens } = Pricing

const models = Object.keys(Pricing.defaultTable)

const request: fc.Arbitrary<CompletionRequest> = fc.record(
  {
    model: fc.constantFrom(...models),
    maxTokens: fc.integer({ min: 1, max: 64_000 }),
    messages: fc.array(
      fc.record({ role: fc.constantFrom("user" as const, "assistant" as const), content: fc.fullUnicodeString() }),
      { minLength: 1, maxLength: 6 }
    ),
    system: fc.fullUnicodeString(),
    cache: fc.constantFrom("5m" as const, "1h" as const)
  },
  { requiredKeys: ["model", "maxTokens", "messages"] }
)

/**
 * A usage `req` could produce: input-side tokens at most `maxInputTokens` (a token is at least one
 * UTF-8 byte, plus framing), cache tokens only when caching was asked for, output at most
 * maxTokens. The extremes (every input token a cache write, output at the limit) come often.
 */
const usageFor = (req: CompletionRequest): fc.Arbitrary<Usage> => {
  const bound = (max: number) => fc.oneof(fc.constant(max), fc.integer({ min: 0, max }))
  const share = fc.oneof(fc.constant(1), fc.constant(0), fc.double({ min: 0, max: 1, noNaN: true }))
  return fc
    .record({ input: bound(maxInputTokens(req)), writeShare: share, readShare: share, output: bound(req.maxTokens) })
    .map(({ input, writeShare, readShare, output }) => {
      const writes = req.cache === undefined ? 0 : Math.floor(input * writeShare)
      const reads = req.cache === undefined ? 0 : Math.floor((input - writes) * readShare)
      return {
        inputTokens: input - writes - reads,
        outputTokens: output,
        cacheCreationInputTokens: writes,
        cacheReadInputTokens: reads,
        cacheCreation1hInputTokens: req.cache === "1h" ? writes : 0
      }
    })
}

const withPricing = <A, E>(self: Effect.Effect<A, E, Pricing>, table: Parameters<typeof Pricing.layer>[0] = {}) =>
  Effect.provide(self, Pricing.layer(table))

describe("Pricing", () => {
  it.effect.prop(
    "the estimate is at least the cost of any usage the request could produce",
    { pair: request.chain((req) => fc.tuple(fc.constant(req), usageFor(req))) },
    ({ pair: [req, usage] }) =>
      withPricing(
        Effect.gen(function* () {
          const estimate = yield* Pricing.estimate(req)
          const cost = yield* Pricing.cost(req.model, usage)
          expect(cost).toBeLessThanOrEqual(estimate)
        })
      ),
    { fastCheck: { numRuns: 300 } }
  )

  it.effect("prices every model in the table, and its dated snapshot ids, on every usage field", () =>
    withPricing(
      Effect.gen(function* () {
        expect(models.length).toBeGreaterThanOrEqual(15)
        for (const model of models) {
          const p = Pricing.defaultTable[model]
          const fields: ReadonlyArray<readonly [Usage, number | undefined]> = [
            [{ inputTokens: 1e6, outputTokens: 0, cacheCreationInputTokens: 0, cacheReadInputTokens: 0 }, p?.input],
            [{ inputTokens: 0, outputTokens: 1e6, cacheCreationInputTokens: 0, cacheReadInputTokens: 0 }, p?.output],
            [
              { inputTokens: 0, outputTokens: 0, cacheCreationInputTokens: 1e6, cacheReadInputTokens: 0 },
              p?.cacheWrite5m
            ],
            [
              {
                inputTokens: 0,
                outputTokens: 0,
                cacheCreationInputTokens: 1e6,
                cacheReadInputTokens: 0,
                cacheCreation1hInputTokens: 1e6
              },
              p?.cacheWrite1h
            ],
            [{ inputTokens: 0, outputTokens: 0, cacheCreationInputTokens: 0, cacheReadInputTokens: 1e6 }, p?.cacheRead]
          ]
          for (const [usage, perMillion] of fields) {
            expect(perMillion).toBeGreaterThan(0)
            expect(yield* Pricing.cost(model, usage)).toBeCloseTo(perMillion ?? 0, 9)
            expect(yield* Pricing.cost(`${model}-20260115`, usage)).toBeCloseTo(perMillion ?? 0, 9)
          }
        }
      })
    )
  )

  it.effect("with a token counter, the estimate uses the exact input count; if counting fails, the byte bound", () =>
    Effect.gen(function* () {
      const req: CompletionRequest = {
        model: "claude-haiku-4-5",
        maxTokens: 10,
        messages: [{ role: "user", content: "x".repeat(400) }]
      }
      const exact = yield* Effect.provide(
        Pricing.estimate(req),
        Pricing.layer({}, () => Effect.succeed(100))
      )
      // 100 counted, with the 5% margin the count may be off by.
      expect(exact).toBeCloseTo((105 * 1 + 10 * 5) / 1e6, 12)
      const bound = yield* withPricing(Pricing.estimate(req))
      expect(bound).toBeGreaterThan(exact)
      for (const broken of [Effect.fail("count_tokens down"), Effect.succeed(-1), Effect.succeed(Number.NaN)]) {
        expect(
          yield* Effect.provide(
            Pricing.estimate(req),
            Pricing.layer({}, () => broken)
          )
        ).toBe(bound)
      }
    })
  )

  it("bounds input tokens by the prompt's UTF-8 bytes plus framing", () => {
    const req: CompletionRequest = {
      model: "claude-haiku-4-5",
      maxTokens: 1,
      system: "é",
      messages: [{ role: "user", content: "日本" }]
    }
    // 2 + 6 bytes, a system and a message framing, the request framing.
    expect(maxInputTokens(req)).toBe(8 + 2 * Pricing.perMessageOverheadTokens + Pricing.perRequestOverheadTokens)
  })

  it.effect("uses the published prices", () =>
    withPricing(
      Effect.gen(function* () {
        const usage: Usage = {
          inputTokens: 1_000,
          outputTokens: 2_000,
          cacheCreationInputTokens: 3_000,
          cacheReadInputTokens: 4_000
        }
        // Sonnet 4.6: 3 input, 3.75 5-minute write, 0.30 read, 15 output.
        expect(yield* Pricing.cost("claude-sonnet-4-6", usage)).toBeCloseTo(
          (1_000 * 3 + 2_000 * 15 + 3_000 * 3.75 + 4_000 * 0.3) / 1e6,
          12
        )
        expect(yield* Pricing.cost("claude-opus-5-5", usage)).toBeCloseTo(
          (1_000 * 4 + 2_000 * 20 + 3_000 * 5 + 4_000 * 0.2) / 1e6,
          12
        )
      })
    )
  )

  it.effect("fails UnknownModel for a model with no price, until one is registered", () =>
    Effect.gen(function* () {
      const usage: Usage = { inputTokens: 10, outputTokens: 10, cacheCreationInputTokens: 0, cacheReadInputTokens: 0 }
      for (const model of ["claude-haiku-5-5", "claude-mythos-5-2", "gpt-9", "constructor", "toString"]) {
        expect(yield* withPricing(Effect.flip(Pricing.cost(model, usage)))).toEqual(new UnknownModel({ model }))
      }
      const registered = withPricing(Pricing.cost("claude-haiku-5-5", usage), {
        "claude-haiku-5-5": { input: 1, output: 5, cacheWrite5m: 1.25, cacheWrite1h: 2, cacheRead: 0.1 }
      })
      expect(yield* registered).toBeCloseTo((10 * 1 + 10 * 5) / 1e6, 12)
    })
  )

  it.effect("refuses a bad registered price naming it, and bad token counts naming the field", () =>
    Effect.gen(function* () {
      const bad = yield* Effect.flip(
        Pricing.make({ mine: { input: -1, output: 5, cacheWrite5m: 1, cacheWrite1h: 2, cacheRead: 0.1 } })
      )
      expect(bad).toMatchObject({ _tag: "InvalidOption", option: "mine.input" })
      const maxTokens = yield* withPricing(
        Effect.flip(Pricing.estimate({ model: "claude-haiku-4-5", maxTokens: 0, messages: [] }))
      )
      expect(maxTokens).toMatchObject({ _tag: "InvalidAmount", field: "maxTokens" })
      const usage = yield* withPricing(
        Effect.flip(
          Pricing.cost("claude-haiku-4-5", {
            inputTokens: -1,
            outputTokens: 0,
            cacheCreationInputTokens: 0,
            cacheReadInputTokens: 0
          })
        )
      )
      expect(usage).toMatchObject({ _tag: "InvalidAmount", field: "usage.inputTokens" })
    })
  )
})

describe("byteLength", () => {
  it.prop("counts exactly the bytes TextEncoder writes", { text: fc.fullUnicodeString() }, ({ text }) => {
    expect(byteLength(text)).toBe(new TextEncoder().encode(text).length)
  })

  it("counts a lone surrogate as the 3 bytes of its replacement", () => {
    for (const text of ["\ud800", "a\udc00b", "\ud83d"]) {
      expect(byteLength(text)).toBe(new TextEncoder().encode(text).length)
    }
  })
})

describe("Pricing: an estimate no budget can hold names the request field that made it", () => {
  const base: CompletionRequest = {
    model: "claude-haiku-4-5",
    maxTokens: 100,
    messages: [{ role: "user", content: "hi" }]
  }

  it.effect("maxTokens: 1e15 fails InvalidAmount naming maxTokens, through the engine and the service", () =>
    withPricing(
      Effect.gen(function* () {
        for (const maxTokens of [1e15, Number.MAX_SAFE_INTEGER]) {
          const error = yield* Effect.flip(Pricing.estimate({ ...base, maxTokens }))
          expect(error).toMatchObject({ _tag: "InvalidAmount", field: "maxTokens", value: maxTokens })
        }
        // Just below the ledger's ceiling is still an estimate.
        expect(yield* Pricing.estimate({ ...base, maxTokens: 1e12 })).toBeCloseTo(5e6, 0)
      })
    )
  )

  it.effect("a price so high the prompt alone cannot be held: InvalidAmount naming messages", () =>
    withPricing(
      Effect.gen(function* () {
        const error = yield* Effect.flip(Pricing.estimate({ ...base, model: "dear" }))
        expect(error).toMatchObject({ _tag: "InvalidAmount", field: "messages" })
      }),
      { dear: { input: 1e12, output: 0, cacheWrite5m: 0, cacheWrite1h: 0, cacheRead: 0 } }
    )
  )
})

describe("Pricing: the models a user calls", () => {
  /** The model ids of the installed Anthropic SDK's own `Model` union (its .d.ts), aliases and snapshots included. */
  const sdkModels = (): ReadonlyArray<string> => {
    const sdk = dirname(createRequire(import.meta.url).resolve("@anthropic-ai/sdk"))
    const typings = readFileSync(join(sdk, "resources", "messages", "messages.d.ts"), "utf8")
    const union = /export type Model = ([^;]+);/.exec(typings)?.[1] ?? ""
    return Array.from(union.matchAll(/'([^']+)'/g), (m) => m[1] ?? "")
  }

  it.effect(
    "every model of the SDK's Model union is priced, or listed as having no published price (UnknownModel)",
    () =>
      withPricing(
        Effect.gen(function* () {
          const models = sdkModels()
          expect(models.length).toBeGreaterThan(15)
          for (const model of models) {
            const price = yield* Effect.either(Pricing.price(model))
            if (Pricing.unpricedModels.includes(model)) {
              expect(price, model).toMatchObject({ _tag: "Left", left: new UnknownModel({ model }) })
            } else {
              expect(price._tag, `${model} has no price`).toBe("Right")
              if (price._tag === "Right")
                expect(Math.min(price.right.input, price.right.output), model).toBeGreaterThan(0)
            }
          }
        })
      )
  )

  // USD per million tokens (input / 5-minute cache write / 1-hour cache write / cache read / output), as published.
  const published = [
    [
      ["claude-opus-4-1", "claude-opus-4-1-20250805"],
      [15, 18.75, 30, 1.5, 75]
    ],
    [
      ["claude-opus-4-0", "claude-opus-4", "claude-opus-4-20250514"],
      [15, 18.75, 30, 1.5, 75]
    ],
    [
      ["claude-sonnet-4-0", "claude-sonnet-4", "claude-sonnet-4-20250514"],
      [3, 3.75, 6, 0.3, 15]
    ],
    [
      ["claude-3-7-sonnet-latest", "claude-3-7-sonnet-20250219"],
      [3, 3.75, 6, 0.3, 15]
    ],
    [
      ["claude-3-5-haiku-latest", "claude-3-5-haiku-20241022"],
      [0.8, 1, 1.6, 0.08, 4]
    ]
  ] as const

  for (const [ids, [input, cacheWrite5m, cacheWrite1h, cacheRead, output]] of published) {
    it.effect(`${ids.join(", ")}: one price, as published`, () =>
      withPricing(
        Effect.gen(function* () {
          for (const model of ids) {
            expect(yield* Pricing.price(model), model).toEqual({ input, cacheWrite5m, cacheWrite1h, cacheRead, output })
          }
        })
      )
    )
  }

  it.effect("an alias follows its model when a table replaces it; an unknown -latest is unknown", () =>
    withPricing(
      Effect.gen(function* () {
        expect((yield* Pricing.price("claude-3-5-haiku-latest")).input).toBe(0.7)
        expect(yield* Effect.flip(Pricing.price("claude-3-5-sonnet-latest"))).toEqual(
          new UnknownModel({ model: "claude-3-5-sonnet-latest" })
        )
      }),
      { "claude-3-5-haiku": { input: 0.7, output: 4, cacheWrite5m: 1, cacheWrite1h: 1.6, cacheRead: 0.08 } }
    )
  )
})
