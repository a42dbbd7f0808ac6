/**
 * The demo's research agent, as each side writes it. It plans through a tool call: its first
 * request offers a `plan` tool (`{ queries: string[] }`) and makes the model call it; it runs the
 * tool by spawning one sub-agent per sub-query the model wrote, sends what they found back as the
 * tool's result, and answers. A sub-agent on the tree's last level researches its query in one
 * call. Naive: the Anthropic SDK as its documentation writes a tool loop, and `Promise.all`.
 * Guarded: `LlmClient`, and `Depth.fanOut` deciding how much of each plan runs.
 *
 * @since 0.2.0
 */
import type Anthropic from "@anthropic-ai/sdk"
import { Agent, type CompletionRequest, Depth, type FanOutResult, LlmClient, type Tool } from "@fleetguard/core"
import { FakeAnthropic } from "@fleetguard/testing"
import { Effect, Exit, Option, Schema } from "effect"
import { range } from "./agents.js"
import type { Naive } from "./fleet.js"

/** The sub-queries FakeAnthropic plans for each topic. @since 0.2.0 @category constants */
export const width = 6

// One schema for both sides: fleetguard's `inputSchema`, the SDK's `input_schema`.
const inputSchema = {
  type: "object" as const,
  properties: { queries: { type: "array", items: { type: "string" }, description: "One sub-query each." } },
  required: ["queries"]
}

const plan = {
  name: "plan",
  description: "Split the research into sub-queries; each is researched by a sub-agent of its own.",
  inputSchema
} satisfies Tool

const planning = (topic: string) =>
  `Research ${topic}: plan sub-queries with the plan tool, then report what they found.`
const researching = (topic: string) => `Research ${topic} and report what you find.`

/**
 * A research tree: how many levels below the root plan sub-queries, each call's model and
 * `maxTokens`, and, as it runs, the agents spawned at each depth (`spawned`) and those that ran to
 * their end without failing (`finished`).
 *
 * @since 0.1.0
 * @category agents
 */
export interface Tree {
  readonly levels: number
  readonly model: string
  readonly maxTokens: number
  readonly spawned: Array<number>
  finished: number
}

/** @since 0.1.0 @category agents */
export const tree = (levels: number, model: string, maxTokens: number): Tree => ({
  levels,
  model,
  maxTokens,
  spawned: range(levels + 1).map(() => 0),
  finished: 0
})

/** The agents a tree of `levels` plans: 1 + width + width² … @since 0.1.0 @category agents */
export const planned = (levels: number): number => range(levels + 1).reduce((n, level) => n + width ** level, 0)

const spawn = (t: Tree, level: number) => {
  t.spawned[level] = (t.spawned[level] ?? 0) + 1
}

const Plan = Schema.Struct({ queries: Schema.Array(Schema.String) })

/** The sub-queries of a plan tool call's input, as the model wrote it (none when it is malformed). */
const queriesOf = (input: unknown): ReadonlyArray<string> =>
  Option.match(Schema.decodeUnknownOption(Plan)(input), { onNone: () => [], onSome: (decoded) => decoded.queries })

/** The plan tool's result: what the sub-agents found, and what did not run (an error when nothing did). */
const report = (found: ReadonlyArray<string>, notRun: ReadonlyArray<string>) => ({
  content: [...found.map((text, i) => `Finding ${i + 1}: ${text}`), ...notRun].join("\n\n"),
  isError: found.length === 0
})

/**
 * FakeAnthropic's answers to the research agents: a plan request gets a `plan` tool call of
 * `width` sub-queries of its topic, the request holding the plan's result a short report; the
 * rest (a sub-query researched) the server's default answer.
 *
 * @since 0.2.0
 * @category agents
 */
export const answers: FakeAnthropic.AnswerScript = ({ body }) => {
  const request = body as { tool_choice?: { name?: unknown }; messages?: ReadonlyArray<{ content?: unknown }> }
  const messages = request.messages ?? []
  const asked = messages[0]?.content
  const topic = typeof asked === "string" ? (/^Research (.+?): plan/.exec(asked)?.[1] ?? "it") : "it"
  if (request.tool_choice?.name === plan.name) {
    return [FakeAnthropic.toolUse(plan.name, { queries: range(width).map((i) => `${topic}/${i + 1}`) })]
  }
  const last = messages[messages.length - 1]?.content
  const answersTool = Array.isArray(last) && last.some((block) => block?.type === "tool_result")
  return answersTool
    ? [FakeAnthropic.text(`What the sub-queries of ${topic} found, weighed and summed up.`)]
    : undefined
}

/**
 * The tree as plain code writes it with the SDK: the plan tool call answered with `Promise.all`
 * over every sub-query planned, down to the tree's last level. Resolves with the agent's report.
 *
 * @since 0.2.0
 * @category agents
 */
export const naiveResearcher = async (
  client: Naive,
  t: Tree,
  path: string,
  topic: string,
  level = 0
): Promise<string> => {
  spawn(t, level)
  const found =
    level < t.levels
      ? await naivePlanned(client, t, path, topic, level)
      : textOf(await client.create({ model: t.model, max_tokens: t.maxTokens, messages: [user(researching(topic))] }))
  t.finished++
  return found
}

const user = (content: string): Anthropic.MessageParam => ({ role: "user", content })

const textOf = (message: Anthropic.Message) =>
  message.content.flatMap((block) => (block.type === "text" ? [block.text] : [])).join("")

const naivePlanned = async (client: Naive, t: Tree, path: string, topic: string, level: number) => {
  const asked = {
    model: t.model,
    max_tokens: t.maxTokens,
    tools: [{ name: plan.name, description: plan.description, input_schema: inputSchema }],
    messages: [user(planning(topic))]
  }
  const planned = await client.create({ ...asked, tool_choice: { type: "tool", name: plan.name } })
  const call = planned.content.find((block) => block.type === "tool_use")
  if (call === undefined) return textOf(planned)
  const found = await Promise.all(
    queriesOf(call.input).map((query, i) => naiveResearcher(client, t, `${path}.${i}`, query, level + 1))
  )
  const { content, isError } = report(found, [])
  const result: Anthropic.ToolResultBlockParam = {
    type: "tool_result",
    tool_use_id: call.id,
    content,
    is_error: isError
  }
  const answer = await client.create({
    ...asked,
    tool_choice: { type: "none" },
    messages: [...asked.messages, { role: "assistant", content: planned.content }, { role: "user", content: [result] }]
  })
  return textOf(answer)
}

/**
 * The same tree through fleetguard: the same plan tool and loop, each sub-agent an agent of its
 * own, and `Depth.fanOut` running at most `maxFanOut` sub-queries of a plan, none past `maxDepth`.
 * Succeeds with the agent's report.
 *
 * @since 0.2.0
 * @category agents
 */
export const guardedResearcher = (
  t: Tree,
  path: string,
  topic: string,
  level = 0
): Effect.Effect<string, unknown, LlmClient | Depth> =>
  Agent.run(
    `agent-${path}`,
    Effect.gen(function* () {
      spawn(t, level)
      const found =
        level < t.levels
          ? yield* guardedPlanned(t, path, topic, level)
          : (yield* LlmClient.complete(ask(t, [{ role: "user", content: researching(topic) }]))).text
      t.finished++
      return found
    })
  )

const ask = (t: Tree, messages: CompletionRequest["messages"]): CompletionRequest => ({
  model: t.model,
  maxTokens: t.maxTokens,
  messages
})

const guardedPlanned = (t: Tree, path: string, topic: string, level: number) =>
  Effect.gen(function* () {
    const asked = { ...ask(t, [{ role: "user", content: planning(topic) }]), tools: [plan] }
    const planned = yield* LlmClient.complete({ ...asked, toolChoice: { type: "tool", name: plan.name } })
    const call = planned.content.find((block) => block.type === "tool_use")
    if (call === undefined) return planned.text
    const ran = yield* Depth.fanOut(queriesOf(call.input), (query, i) =>
      guardedResearcher(t, `${path}.${i}`, query, level + 1)
    )
    const answer = yield* LlmClient.complete({
      ...asked,
      toolChoice: { type: "none" },
      messages: [
        ...asked.messages,
        { role: "assistant", content: planned.content },
        { role: "user", content: [{ type: "tool_result", toolUseId: call.id, ...outcome(ran) }] }
      ]
    })
    return answer.text
  })

/** What a fan-out found, and what it did not run: refused (by its reason) or dropped by maxFanOut. */
const outcome = (ran: FanOutResult<string, unknown>) => {
  const found = ran.results.flatMap((exit) => (Exit.isSuccess(exit) ? [exit.value] : []))
  const refused = ran.results.length - found.length
  const notRun = [
    ...(refused > 0 ? [`${refused} sub-queries failed or were refused.`] : []),
    ...(ran.dropped > 0 ? [`${ran.dropped} sub-queries were not run (too many at once).`] : [])
  ]
  return report(found, notRun)
}
