import { describe, expect, it } from "@effect/vitest"
import { Pricing } from "@fleetguard/core"
import { FakeAnthropic } from "@fleetguard/testing"
import { Effect } from "effect"
import { guardsOf, model, settings } from "../src/internal/demo/agents.js"
import { guarded, naive } from "../src/internal/demo/fleet.js"
import { answers, guardedResearcher, naiveResearcher, tree } from "../src/internal/demo/research.js"

// The research agent's loop as FakeAnthropic records it, one level deep: a plan request that makes
// the model call `plan`, one request per sub-query it ran, then the plan's result sent back.
interface Body {
  readonly tools?: ReadonlyArray<{ readonly name: string; readonly input_schema: unknown }>
  readonly tool_choice?: { readonly type: string; readonly name?: string }
  readonly messages: ReadonlyArray<{ readonly role: string; readonly content: unknown }>
}

const bodies = (fake: FakeAnthropic.FakeAnthropicService) =>
  Effect.map(fake.requests, (requests) => requests.map((r) => r.body as Body))

/** The tool_use the server answered the plan with, and the tool_result the agent sent back. */
const loop = (all: ReadonlyArray<Body>) => {
  const [first, ...rest] = all
  const last = rest[rest.length - 1]
  const [, assistant, result] = last?.messages ?? []
  const [toolResult] = (result?.content ?? []) as ReadonlyArray<Record<string, unknown>>
  return { first, subQueries: rest.slice(0, -1), last, assistant, toolResult }
}

const toolUseOf = (content: unknown) =>
  (content as ReadonlyArray<{ type: string; id: string; input: unknown }>).find((b) => b.type === "tool_use")

describe("the demo's research agent", () => {
  it.live("naive: plans through the plan tool, researches every sub-query, sends their findings back", () =>
    Effect.gen(function* () {
      const fake = yield* FakeAnthropic.make({ outputTokens: 5, answer: answers })
      const t = tree(1, model, 200)
      const client = naive(fake, yield* Pricing.make(), 0)
      const report = yield* Effect.promise(() => naiveResearcher(client, t, "0", "topic 0"))
      const { first, subQueries, last, assistant, toolResult } = loop(yield* bodies(fake))
      expect(first?.tools?.map((tool) => tool.name)).toEqual(["plan"])
      expect(first?.tool_choice).toEqual({ type: "tool", name: "plan" })
      expect(subQueries.map((b) => b.messages[0]?.content)).toEqual(
        [1, 2, 3, 4, 5, 6].map((i) => `Research topic 0/${i} and report what you find.`)
      )
      expect(last?.tool_choice).toEqual({ type: "none" })
      const call = toolUseOf(assistant?.content)
      expect(call?.input).toEqual({ queries: [1, 2, 3, 4, 5, 6].map((i) => `topic 0/${i}`) })
      expect(toolResult).toMatchObject({ type: "tool_result", tool_use_id: call?.id, is_error: false })
      expect(String(toolResult?.content).match(/^Finding \d: lorem ipsum dolor sit amet$/gm)).toHaveLength(6)
      expect(report).toBe("What the sub-queries of topic 0 found, weighed and summed up.")
      expect([t.spawned, t.finished]).toEqual([[1, 6], 7])
    }).pipe(Effect.scoped)
  )

  it.live("guarded: the same loop through LlmClient, Depth.fanOut running 4 of the 6 sub-queries", () =>
    Effect.gen(function* () {
      const fake = yield* FakeAnthropic.make({ outputTokens: 5, answer: answers })
      const t = tree(1, model, 200)
      const { result: report } = yield* guarded(
        fake,
        0,
        yield* guardsOf(settings),
        guardedResearcher(t, "0", "topic 0")
      )
      const { first, subQueries, last, assistant, toolResult } = loop(yield* bodies(fake))
      expect(first?.tool_choice).toEqual({ type: "tool", name: "plan" })
      expect(subQueries).toHaveLength(4)
      expect(toolResult).toMatchObject({ type: "tool_result", tool_use_id: toolUseOf(assistant?.content)?.id })
      expect(String(toolResult?.content)).toMatch(
        /^(Finding \d: lorem ipsum dolor sit amet\n\n){4}2 sub-queries were not run/
      )
      expect(last?.tool_choice).toEqual({ type: "none" })
      expect(report).toBe("What the sub-queries of topic 0 found, weighed and summed up.")
      expect([t.spawned, t.finished]).toEqual([[1, 4], 5])
    }).pipe(Effect.scoped)
  )
})
