import { describe, expect, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import { partialUsage } from "../src/internal/settle.js"

const usage = fc.record({
  inputTokens: fc.nat({ max: 1_000_000 }),
  outputTokens: fc.nat({ max: 100_000 }),
  cacheCreationInputTokens: fc.nat({ max: 1_000_000 }),
  cacheReadInputTokens: fc.nat({ max: 1_000_000 })
})

describe("partialUsage: what a stream cut short is charged", () => {
  it.prop(
    "never below what was reported or received (within maxTokens), never above maxTokens unless reported; input untouched",
    { reported: usage, bytes: fc.nat({ max: 1_000_000 }), maxTokens: fc.integer({ min: 1, max: 200_000 }) },
    ({ reported, bytes, maxTokens }) => {
      const charged = partialUsage(reported, false, bytes, maxTokens)
      expect(charged.inputTokens).toBe(reported.inputTokens)
      expect(charged.cacheCreationInputTokens).toBe(reported.cacheCreationInputTokens)
      expect(charged.outputTokens).toBeGreaterThanOrEqual(Math.min(reported.outputTokens, maxTokens))
      expect(charged.outputTokens).toBeGreaterThanOrEqual(Math.min(bytes, maxTokens))
      expect(charged.outputTokens).toBeLessThanOrEqual(maxTokens)
    }
  )

  it.prop("the final count is taken as it is", { reported: usage, bytes: fc.nat() }, ({ reported, bytes }) => {
    expect(partialUsage(reported, true, bytes, 1)).toEqual(reported)
  })
})
