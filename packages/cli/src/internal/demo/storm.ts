/**
 * Scenario 1, the retry storm: 20 agents start together and the API answers 429 with a
 * retry-after for a window. Naive agents each obey their own 429 and fire again together;
 * guarded agents share one gate that a 429 closes for everyone and reopens gradually.
 *
 * @since 0.1.0
 */
import { Agent, type CompletionRequest, LlmClient } from "@fleetguard/core"
import { FakeAnthropic } from "@fleetguard/testing"
import { Effect } from "effect"
import { type Env, guards, range, request } from "./agents.js"
import { guarded, naive, result, side } from "./fleet.js"
import { bursts, firstWave, instantMillis, madeWhileWaiting, spread } from "./measure.js"
import type { Call, Row, ScenarioResult } from "./scenario.js"
import { cost, count, traffic } from "./table.js"

const agents = 20
const steps = 2
const maxTokens = 100
const retryAfterMillis = 1000
const incidentMillis = 2200

const server: FakeAnthropic.Options = {
  latency: "50 millis",
  outputTokens: maxTokens,
  script: FakeAnthropic.during(0, incidentMillis, FakeAnthropic.rateLimited({ seconds: retryAfterMillis / 1000 }))
}

const ask = (agent: number, step: number) => request(`storm agent ${agent}, step ${step}`, maxTokens)

/** Each agent's steps one after the other, all agents at once; an agent whose call fails stops. */
const naiveFleet = (env: Env) =>
  side(env.progress, "storm · naive", server, (fake, startedAt) =>
    Effect.promise(async () => {
      const client = naive(fake, env.pricing, startedAt)
      const agent = async (i: number) => {
        for (const s of range(steps)) await client.complete(ask(i, s))
      }
      const outcomes = await Promise.allSettled(range(agents).map(agent))
      return { failed: outcomes.filter((o) => o.status === "rejected").length, charges: client.charges }
    })
  )

/**
 * The guarded agents: each its steps in turn, all at once. Succeeds with how many agents failed.
 *
 * @since 0.1.0
 * @category agents
 */
export const guardedAgents = (ask: (agent: number, step: number) => CompletionRequest) =>
  Effect.forEach(
    range(agents),
    (i) =>
      Agent.run(
        `agent-${i}`,
        Effect.forEach(range(steps), (s) => LlmClient.complete(ask(i, s)))
      ).pipe(Effect.either),
    { concurrency: "unbounded" }
  ).pipe(Effect.map((outcomes) => outcomes.filter((o) => o._tag === "Left").length))

const guardedFleet = (env: Env) =>
  side(env.progress, "storm · guarded", server, (fake) => guarded(fake, guards, guardedAgents(ask)))

const waitRows = (naiveCalls: ReadonlyArray<Call>, guardedCalls: ReadonlyArray<Call>): ReadonlyArray<Row> => {
  const [n, g] = [naiveCalls, guardedCalls].map((calls) => firstWave(calls, retryAfterMillis, agents))
  const [nb, gb] = [bursts(n ?? []), bursts(g ?? [])]
  return [
    [
      "calls made while a 429 said wait",
      count(madeWhileWaiting(naiveCalls, retryAfterMillis)),
      count(madeWhileWaiting(guardedCalls, retryAfterMillis))
    ],
    [`first ${agents} calls after the wait: fired over`, `${spread(n ?? [])} ms`, `${spread(g ?? [])} ms`],
    [`  at distinct ${instantMillis} ms instants`, count(nb.length), count(gb.length)],
    ["  most calls in one instant", count(nb[0] ?? 0), count(gb[0] ?? 0)]
  ]
}

/**
 * Runs the storm naive, then guarded.
 *
 * @since 0.1.0
 * @category scenarios
 */
export const run = (env: Env): Effect.Effect<ScenarioResult> =>
  Effect.gen(function* () {
    const n = yield* naiveFleet(env)
    const g = yield* guardedFleet(env)
    const about = {
      name: "storm",
      title: "1. Retry storm",
      setup: `${agents} agents start together, ${steps} calls each; the API answers 429 (retry-after ${retryAfterMillis / 1000} s) for the first ${incidentMillis / 1000} s.`
    } as const
    return result(
      about,
      (naive, guarded) => [
        ...traffic(naive, guarded),
        ...waitRows(n.calls, g.calls),
        ["agents that failed", `${n.result.failed} of ${agents}`, `${g.result.result} of ${agents}`],
        ...cost(naive, guarded, guards.budget.limitUsd)
      ],
      n,
      g
    )
  })
