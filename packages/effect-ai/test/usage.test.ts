import { Response } from "@effect/ai"
import { describe, expect, it } from "@effect/vitest"
import { type CompletionRequest, Pricing } from "@fleetguard/core"
import { FastCheck as fc, Option } from "effect"
import { answerOf, boundedUsage, usageOf } from "../src/internal/usage.js"

const request: CompletionRequest = {
  model: "claude-haiku-4-5",
  maxTokens: 100,
  messages: [{ role: "user", content: "hello" }]
}

const finish = (
  usage: Partial<ConstructorParameters<typeof Response.Usage>[0]>,
  metadata: Response.FinishPart["metadata"] = {}
) =>
  Response.finishPart({
    reason: "stop",
    usage: new Response.Usage({ inputTokens: undefined, outputTokens: undefined, totalTokens: undefined, ...usage }),
    metadata
  })

describe("what a response says it used", () => {
  it("the Anthropic provider's own counts tell cache writes apart, 1-hour ones too", () => {
    const usage = usageOf(
      finish(
        { inputTokens: 10, outputTokens: 7, cachedInputTokens: 3 },
        {
          anthropic: {
            usage: {
              input_tokens: 10,
              output_tokens: 1,
              cache_creation_input_tokens: 40,
              cache_read_input_tokens: 3,
              cache_creation: { ephemeral_5m_input_tokens: 10, ephemeral_1h_input_tokens: 30 },
              server_tool_use: null,
              service_tier: "standard"
            }
          }
        }
      ),
      request
    )
    // Output is the finish part's: in a stream, the provider's metadata holds message_start's count.
    expect(usage).toEqual({
      inputTokens: 10,
      outputTokens: 7,
      cacheCreationInputTokens: 40,
      cacheReadInputTokens: 3,
      cacheCreation1hInputTokens: 30
    })
  })

  it.prop(
    "any other provider: its counts as reported, cached input as cache reads",
    { input: fc.nat(), output: fc.nat(), cached: fc.option(fc.nat(), { nil: undefined }) },
    ({ input, output, cached }) => {
      const reported = {
        inputTokens: input,
        outputTokens: output,
        ...(cached === undefined ? {} : { cachedInputTokens: cached })
      }
      expect(usageOf(finish(reported), request)).toEqual({
        inputTokens: input,
        outputTokens: output,
        cacheCreationInputTokens: 0,
        cacheReadInputTokens: cached ?? 0
      })
    }
  )

  it("a count left out is taken at its upper bound: input from the prompt's bytes, output at max tokens", () => {
    expect(usageOf(finish({}), request)).toEqual({
      inputTokens: Pricing.maxInputTokens(request),
      outputTokens: 100,
      cacheCreationInputTokens: 0,
      cacheReadInputTokens: 0
    })
  })

  it("a prompt nothing in it bounds (a PDF by URL): its input taken at the context window, never as infinite", () => {
    const unbounded: CompletionRequest = {
      ...request,
      messages: [
        { role: "user", content: [{ type: "document", source: { type: "url", url: "https://example.com/a.pdf" } }] }
      ]
    }
    expect(Pricing.maxInputTokens(unbounded)).toBe(Number.POSITIVE_INFINITY)
    expect(usageOf(finish({}), unbounded).inputTokens).toBe(Pricing.contextWindowTokens)
    expect(boundedUsage(unbounded, 10).inputTokens).toBe(Pricing.contextWindowTokens)
  })

  it.prop(
    "a stream cut short: output bounded by the bytes received and by max tokens",
    { bytes: fc.nat({ max: 1000 }) },
    ({ bytes }) => {
      expect(boundedUsage(request, bytes).outputTokens).toBe(Math.min(100, bytes))
    }
  )

  it("a response: its finish part's usage and the model its metadata reports; no finish part, the bound", () => {
    const metadata = Response.responseMetadataPart({
      id: Option.some("msg_1"),
      modelId: Option.some("claude-haiku-4-5-20251001"),
      timestamp: Option.none()
    })
    const text = Response.makePart("text", { text: "hi" })
    expect(answerOf([metadata, text, finish({ inputTokens: 2, outputTokens: 1 })], request)).toEqual({
      usage: { inputTokens: 2, outputTokens: 1, cacheCreationInputTokens: 0, cacheReadInputTokens: 0 },
      reportedModel: "claude-haiku-4-5-20251001"
    })
    expect(answerOf([text], request)).toEqual({ usage: boundedUsage(request, 100), reportedModel: undefined })
  })
})
