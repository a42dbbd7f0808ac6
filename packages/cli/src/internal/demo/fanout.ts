/**
 * Scenario 3, fan-out: a research agent plans sub-queries and spawns a sub-agent for each, which
 * does the same, 3 levels below the root and 6 wide. The guarded fleet runs the same code under
 * `maxDepth: 3, maxFanOut: 4`: each fan-out runs 4 branches, and agents run at depths 0 to 2.
 *
 * @since 0.1.0
 */
import { Agent, type CompletionRequest, Depth, LlmClient } from "@fleetguard/core"
import type { FakeAnthropic } from "@fleetguard/testing"
import { Effect } from "effect"
import { type Env, guards, range, request } from "./agents.js"
import { guarded, guardedSide, naive, naiveSide, side } from "./fleet.js"
import { pauses, refusals } from "./measure.js"
import type { Row, ScenarioResult } from "./scenario.js"
import { cost, count, traffic } from "./table.js"

const levels = 3
const width = 6
const maxTokens = 400

const server: FakeAnthropic.Options = { latency: "30 millis", outputTokens: maxTokens }

const ask = (path: string) => request(`sub-query ${path}`, maxTokens)

/**
 * Agents spawned at each depth, counted as each one starts its work.
 *
 * @since 0.1.0
 * @category agents
 */
export const perLevel = () => range(levels + 1).map(() => 0)

const naiveFleet = (env: Env) =>
  side(env.progress, "fanout · naive", server, (fake, startedAt) =>
    Effect.promise(async () => {
      const client = naive(fake, env.pricing, startedAt)
      const spawned = perLevel()
      const agent = async (level: number, path: string): Promise<void> => {
        spawned[level] = (spawned[level] ?? 0) + 1
        await client.complete(ask(path))
        if (level < levels) await Promise.all(range(width).map((b) => agent(level + 1, `${path}.${b}`)))
      }
      await agent(0, "0")
      return { spawned, charges: client.charges }
    })
  )

/**
 * The guarded research tree, counting in `spawned` the agents that ran at each depth.
 *
 * @since 0.1.0
 * @category agents
 */
export const guardedTree = (ask: (path: string) => CompletionRequest, spawned: Array<number>) => {
  const agent = (level: number, path: string): Effect.Effect<void, unknown, LlmClient | Depth> =>
    Agent.run(
      `agent-${path}`,
      Effect.gen(function* () {
        spawned[level] = (spawned[level] ?? 0) + 1
        yield* LlmClient.complete(ask(path))
        // The same plan as the naive agent's; Depth decides how much of it runs.
        if (level < levels) yield* Depth.fanOut(range(width), (b) => agent(level + 1, `${path}.${b}`))
      })
    )
  return Effect.either(agent(0, "0"))
}

const guardedFleet = (env: Env) =>
  side(env.progress, "fanout · guarded", server, (fake) => {
    const spawned = perLevel()
    return Effect.map(guarded(fake, guards, guardedTree(ask, spawned)), (run) => ({ ...run, spawned }))
  })

const levelRows = (naiveSpawned: ReadonlyArray<number>, guardedSpawned: ReadonlyArray<number>): ReadonlyArray<Row> => [
  ...range(levels + 1).map(
    (level) =>
      [`agents run at depth ${level}`, count(naiveSpawned[level] ?? 0), count(guardedSpawned[level] ?? 0)] as const
  ),
  [
    "agents run in all",
    count(naiveSpawned.reduce((a, b) => a + b, 0)),
    count(guardedSpawned.reduce((a, b) => a + b, 0))
  ]
]

/**
 * Runs the fan-out scenario naive, then guarded.
 *
 * @since 0.1.0
 * @category scenarios
 */
export const run = (env: Env): Effect.Effect<ScenarioResult> =>
  Effect.gen(function* () {
    const n = yield* naiveFleet(env)
    const g = yield* guardedFleet(env)
    const [naiveRecord, guardedRecord] = [naiveSide(n), guardedSide(g)]
    return {
      name: "fanout",
      title: "3. Fan-out",
      setup: `A research agent spawns ${width} sub-agents that do the same, ${levels} levels below it; guarded: maxDepth ${guards.depth.maxDepth}, maxFanOut ${guards.depth.maxFanOut}.`,
      rows: [
        ...levelRows(n.result.spawned, g.result.spawned),
        ...traffic(naiveRecord, guardedRecord).slice(0, 2),
        ...cost(naiveRecord, guardedRecord, guards.budget.limitUsd)
      ],
      refused: refusals(g.result.events),
      pauses: pauses(g.result.events),
      limitUsd: guards.budget.limitUsd,
      naive: naiveRecord,
      guarded: guardedRecord
    }
  })
