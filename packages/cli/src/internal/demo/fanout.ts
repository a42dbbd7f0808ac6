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
import { type Env, range, request } from "./agents.js"
import { guarded, type Naive, naive, result, side } from "./fleet.js"
import type { Row, ScenarioResult } from "./scenario.js"
import { cost, count, traffic } from "./table.js"

const levels = 3
const width = 6
const maxTokens = 400

const server: FakeAnthropic.Options = { latency: "30 millis", outputTokens: maxTokens }

const ask = (path: string) => request(`sub-query ${path}`, maxTokens)

/**
 * A research tree: each agent asks, then spawns `width` sub-agents, down to `levels` below the root,
 * counting in `spawned` the agents that ran at each depth, and in `finished` those that ran to
 * their end without failing.
 *
 * @since 0.1.0
 * @category agents
 */
export interface Tree {
  readonly levels: number
  readonly ask: (path: string) => CompletionRequest
  readonly spawned: Array<number>
  finished: number
}

/** @since 0.1.0 @category agents */
export const tree = (levels: number, ask: (path: string) => CompletionRequest): Tree => ({
  levels,
  ask,
  spawned: range(levels + 1).map(() => 0),
  finished: 0
})

/** The agents a tree of `levels` plans: 1 + width + width² … @since 0.1.0 @category agents */
export const planned = (levels: number): number => range(levels + 1).reduce((n, level) => n + width ** level, 0)

const finish = (t: Tree) => {
  t.finished++
}

const spawn = (t: Tree, level: number) => {
  t.spawned[level] = (t.spawned[level] ?? 0) + 1
}

/**
 * The tree as plain code writes it: `Promise.all` over every sub-query planned.
 *
 * @since 0.1.0
 * @category agents
 */
export const naiveTree = (client: Naive, t: Tree, path: string, level = 0): Promise<void> => {
  spawn(t, level)
  return client
    .complete(t.ask(path))
    .then(() =>
      level < t.levels
        ? Promise.all(range(width).map((b) => naiveTree(client, t, `${path}.${b}`, level + 1))).then(() => undefined)
        : undefined
    )
    .then(() => finish(t))
}

/**
 * The same tree through fleetguard: the same plan, each sub-agent an agent of its own, and `Depth`
 * deciding how much of the plan runs.
 *
 * @since 0.1.0
 * @category agents
 */
export const guardedTree = (t: Tree, path: string, level = 0): Effect.Effect<void, unknown, LlmClient | Depth> =>
  Agent.run(
    `agent-${path}`,
    Effect.gen(function* () {
      spawn(t, level)
      yield* LlmClient.complete(t.ask(path))
      if (level < t.levels) yield* Depth.fanOut(range(width), (b) => guardedTree(t, `${path}.${b}`, level + 1))
      finish(t)
    })
  )

const naiveFleet = (env: Env) =>
  side(env.progress, "fanout · naive", server, (fake, startedAt) =>
    Effect.promise(async () => {
      const client = naive(fake, env.pricing, startedAt)
      const t = tree(levels, ask)
      await naiveTree(client, t, "0").catch(() => undefined)
      return { client, spawned: t.spawned, finished: t.finished }
    })
  )

const guardedFleet = (env: Env) =>
  side(env.progress, "fanout · guarded", server, (fake, startedAt) => {
    const t = tree(levels, ask)
    return Effect.map(guarded(fake, startedAt, env.guards, Effect.either(guardedTree(t, "0"))), (run) => ({
      ...run,
      result: { finished: t.finished },
      spawned: t.spawned
    }))
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
    const about = {
      name: "fanout",
      title: "3. Fan-out",
      setup: `A research agent spawns ${width} sub-agents that do the same, ${levels} levels below it; guarded: maxDepth ${env.guards.depth.maxDepth}, maxFanOut ${env.guards.depth.maxFanOut}.`,
      agents: planned(levels)
    } as const
    return result(
      about,
      env.guards.budget.limitUsd,
      (naive, guarded) => [
        ...levelRows(n.result.spawned, g.result.spawned),
        ["agents that finished", count(naive.finished), count(guarded.finished)],
        ...traffic(naive, guarded).slice(0, 2),
        ...cost(naive, guarded, env.guards.budget.limitUsd)
      ],
      n,
      g
    )
  })
