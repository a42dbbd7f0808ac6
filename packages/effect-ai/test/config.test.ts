import { AnthropicLanguageModel } from "@effect/ai-anthropic"
import { describe, expect, it } from "@effect/vitest"
import { Context, Either, FastCheck as fc } from "effect"
import { AnthropicConfig, callConfig, defaultMaxTokens, unsetModel } from "../src/internal/config.js"

const read = (config: unknown) => callConfig(Context.make(AnthropicConfig, config))

describe("a call's model and max tokens, from the provider's config in context", () => {
  it("is @effect/ai-anthropic's own Config tag that is read, as withConfigOverride provides it", () => {
    const context = Context.make(AnthropicLanguageModel.Config, { model: "claude-opus-4-6", max_tokens: 512 })
    expect(callConfig(context)).toEqual(Either.right({ model: "claude-opus-4-6", maxTokens: 512 }))
  })

  it("max_tokens absent is 4096, the provider's default", () => {
    expect(read({ model: "claude-haiku-4-5" })).toEqual(Either.right({ model: "claude-haiku-4-5", maxTokens: 4096 }))
    expect(defaultMaxTokens).toBe(4096)
  })

  it("no config, or none naming a model: UnknownModel (nothing can be priced)", () => {
    for (const context of [Context.empty(), Context.make(AnthropicConfig, { max_tokens: 10 })])
      expect(callConfig(context)).toMatchObject({ _tag: "Left", left: { _tag: "UnknownModel", model: unsetModel } })
  })

  it.prop("any whole max_tokens ≥ 1 is taken as it is", { n: fc.integer({ min: 1, max: 2 ** 40 }) }, ({ n }) => {
    expect(read({ model: "m", max_tokens: n })).toEqual(Either.right({ model: "m", maxTokens: n }))
  })

  it.prop(
    "anything else as max_tokens is InvalidAmount naming it; a model that is not an id is InvalidRequest naming it",
    {
      maxTokens: fc.oneof(fc.integer({ max: 0 }), fc.double({ noInteger: true }), fc.string(), fc.constant(null)),
      model: fc.oneof(fc.integer(), fc.constant(""), fc.constant("  "), fc.object())
    },
    ({ maxTokens, model }) => {
      expect(read({ model: "m", max_tokens: maxTokens })).toMatchObject({
        left: { _tag: "InvalidAmount", field: "max_tokens" }
      })
      const bad = read({ model })
      expect(bad).toMatchObject({ left: { _tag: "InvalidRequest", field: "model", errorType: "client_error" } })
      // A string given in the wrong place is never echoed.
      if (typeof model === "string" && Either.isLeft(bad)) expect(bad.left.message).not.toContain(`"${model}"`)
    }
  )

  it("a config that is not an object is refused naming it", () => {
    expect(read("claude")).toMatchObject({ left: { _tag: "InvalidRequest", field: "config" } })
  })
})
