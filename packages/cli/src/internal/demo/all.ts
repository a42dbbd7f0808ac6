/**
 * Scenario 5, all at once, as the seed article's fleet meets them: 20 research agents start
 * together, each planning sub-queries through a tool call, 6 wide and 2 levels deep (research.ts); the API rate-limits the start, and
 * fails every request once it has answered enough of them. Naive: per-agent caps only, the SDK's retries, `Promise.all`. Guarded:
 * the same agents under the one guard configuration.
 *
 * @since 0.1.0
 */
import { FakeAnthropic } from "@fleetguard/testing"
import { Effect } from "effect"
import { type Env, model, range } from "./agents.js"
import { guarded, naive, result, side } from "./fleet.js"
import { madeWhileWaiting, trips } from "./measure.js"
import { answers, guardedResearcher, naiveResearcher, planned, type Tree, tree } from "./research.js"
import type { Row, ScenarioResult, Side } from "./scenario.js"
import { cost, count, startedAfter, traffic } from "./table.js"

const agents = 20
const levels = 2
const maxTokens = 800
const retryAfterMillis = 1000
const rateLimited = { from: 0, until: 1500 }
// The upstream fails after this much work (answers), not after a time: a fleet that waits out the
// 429s must not meet the outage earlier for it.
const failingAfter = 330

/** Every request fails once `failingAfter` were answered (a count of its own per server). */
const outageAfter = (answers: number): FakeAnthropic.Script => {
  let answered = 0
  return () => (answered++ < answers ? undefined : FakeAnthropic.status(500, "api_error"))
}

const server = (): FakeAnthropic.Options => ({
  latency: "40 millis",
  outputTokens: maxTokens,
  answer: answers,
  script: FakeAnthropic.sequence(
    FakeAnthropic.during(
      rateLimited.from,
      rateLimited.until,
      FakeAnthropic.rateLimited({ seconds: retryAfterMillis / 1000 })
    ),
    outageAfter(failingAfter)
  )
})

const research = () => tree(levels, model, maxTokens)

const naiveFleet = (env: Env) =>
  side(env.progress, "all · naive", server(), (fake, startedAt) =>
    Effect.promise(async () => {
      const client = naive(fake, env.pricing, startedAt)
      const t = research()
      await Promise.allSettled(range(agents).map((r) => naiveResearcher(client, t, `${r}`, `topic ${r}`)))
      return { client, spawned: t.spawned, finished: t.finished, rateLimited }
    })
  )

const guardedFleet = (env: Env) =>
  side(env.progress, "all · guarded", server(), (fake, startedAt) => {
    const t = research()
    const fleet = Effect.forEach(range(agents), (r) => Effect.either(guardedResearcher(t, `${r}`, `topic ${r}`)), {
      concurrency: "unbounded",
      discard: true
    })
    return Effect.map(guarded(fake, startedAt, env.guards, fleet), (run) => ({
      ...run,
      result: { finished: t.finished, rateLimited },
      spawned: t.spawned
    }))
  })

const rows = (
  n: Side,
  g: Side,
  trees: readonly [Tree["spawned"], Tree["spawned"]],
  trips: readonly [number, number]
): ReadonlyArray<Row> => [
  [
    "calls sent while a 429 the client had seen said wait",
    count(madeWhileWaiting(n.sent, n.waits)),
    count(madeWhileWaiting(g.sent, g.waits))
  ],
  ...range(levels + 1).map(
    (level) => [`agents run at depth ${level}`, count(trees[0][level] ?? 0), count(trees[1][level] ?? 0)] as const
  ),
  ["agents that finished", count(n.finished), count(g.finished)],
  ["requests started after the trip", startedAfter(n.calls, trips[0]), startedAfter(g.calls, trips[1])]
]

/**
 * Runs every failure mode at once, naive then guarded.
 *
 * @since 0.1.0
 * @category scenarios
 */
export const run = (env: Env): Effect.Effect<ScenarioResult> =>
  Effect.gen(function* () {
    const n = yield* naiveFleet(env)
    const g = yield* guardedFleet(env)
    const tripped = trips(n.calls, { ...g.result, startedAt: g.startedAt }, env.guards.breaker.failureThreshold)
    const about = {
      name: "all",
      title: "5. All at once",
      setup: `${agents} research agents start together, each planning through a tool call and spawning sub-agents 6 wide, ${levels} levels deep; 429s (retry-after ${retryAfterMillis / 1000} s) for the first ${rateLimited.until / 1000} s, then every request fails once ${failingAfter} were answered. Naive: only per-agent caps.`,
      agents: agents * planned(levels)
    } as const
    return result(
      about,
      env.guards.budget.limitUsd,
      (naive, guarded) => [
        ...traffic(naive, guarded),
        ...rows(naive, guarded, [n.result.spawned, g.result.spawned], tripped),
        ...cost(naive, guarded, env.guards.budget.limitUsd)
      ],
      n,
      g
    )
  })
