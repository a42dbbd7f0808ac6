/**
 * Scenario 3, fan-out: a research agent plans through a tool call (6 sub-queries), spawns a
 * sub-agent for each, which does the same, 3 levels below the root, and answers from what they
 * found (research.ts). The guarded fleet runs the same agent under `maxDepth: 3, maxFanOut: 4`:
 * each fan-out runs 4 branches, and agents run at depths 0 to 2.
 *
 * @since 0.1.0
 */
import type { FakeAnthropic } from "@fleetguard/testing"
import { Effect } from "effect"
import { type Env, model, range } from "./agents.js"
import { guarded, naive, result, side } from "./fleet.js"
import { answers, guardedResearcher, naiveResearcher, planned, tree, width } from "./research.js"
import type { Row, ScenarioResult } from "./scenario.js"
import { cost, count, traffic } from "./table.js"

const levels = 3
const maxTokens = 400

const server: FakeAnthropic.Options = { latency: "30 millis", outputTokens: maxTokens, answer: answers }

const research = () => tree(levels, model, maxTokens)

const naiveFleet = (env: Env) =>
  side(env.progress, "fanout · naive", server, (fake, startedAt) =>
    Effect.promise(async () => {
      const client = naive(fake, env.pricing, startedAt)
      const t = research()
      await naiveResearcher(client, t, "0", "topic 0").catch(() => undefined)
      return { client, spawned: t.spawned, finished: t.finished }
    })
  )

const guardedFleet = (env: Env) =>
  side(env.progress, "fanout · guarded", server, (fake, startedAt) => {
    const t = research()
    return Effect.map(
      guarded(fake, startedAt, env.guards, Effect.either(guardedResearcher(t, "0", "topic 0"))),
      (run) => ({
        ...run,
        result: { finished: t.finished },
        spawned: t.spawned
      })
    )
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
      setup: `A research agent plans ${width} sub-queries through a tool call and spawns a sub-agent for each, which does the same, ${levels} levels below it, then answers from their findings; guarded: maxDepth ${env.guards.depth.maxDepth}, maxFanOut ${env.guards.depth.maxFanOut}.`,
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
