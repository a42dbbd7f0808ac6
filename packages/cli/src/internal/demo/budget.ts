/**
 * Scenario 2, per-agent caps without a fleet cap: 20 agents each work until they reach $0.50. The
 * naive fleet checks each agent against its own cap only, so together they spend twenty caps; the
 * guarded fleet also holds one $2 fleet limit, reserved before each call.
 *
 * @since 0.1.0
 */
import { Agent, LlmClient } from "@fleetguard/core"
import type { FakeAnthropic } from "@fleetguard/testing"
import { Effect } from "effect"
import { type Env, guards, range, request } from "./agents.js"
import { guarded, naive, result, side } from "./fleet.js"
import type { ScenarioResult } from "./scenario.js"
import { cost, count, traffic, usd } from "./table.js"

const agents = 20
const maxTokens = 1000
const agentCapUsd = guards.budget.perAgentLimitUsd ?? 0.5
// An agent with work left after its cap: only a limit stops it.
const maxSteps = 100

const server: FakeAnthropic.Options = { latency: "20 millis", outputTokens: maxTokens }

const ask = (agent: number, step: number) => request(`budget agent ${agent}, step ${step}`, maxTokens)

/** Each agent checks its own spend before each call, as a per-agent cap does. */
const naiveFleet = (env: Env) =>
  side(env.progress, "budget · naive", server, (fake, startedAt) =>
    Effect.promise(async () => {
      const client = naive(fake, env.pricing, startedAt)
      const agent = async (i: number) => {
        let spentUsd = 0
        for (let s = 0; s < maxSteps && spentUsd < agentCapUsd; s++) spentUsd += await client.complete(ask(i, s))
      }
      await Promise.all(range(agents).map(agent))
      return { charges: client.charges }
    })
  )

const guardedFleet = (env: Env) =>
  side(env.progress, "budget · guarded", server, (fake) =>
    guarded(
      fake,
      guards,
      Effect.forEach(
        range(agents),
        (i) =>
          Agent.run(
            `agent-${i}`,
            Effect.forEach(range(maxSteps), (s) => LlmClient.complete(ask(i, s)))
          ).pipe(Effect.either),
        { concurrency: "unbounded", discard: true }
      )
    )
  )

/**
 * Runs the budget scenario naive, then guarded.
 *
 * @since 0.1.0
 * @category scenarios
 */
export const run = (env: Env): Effect.Effect<ScenarioResult> =>
  Effect.gen(function* () {
    const n = yield* naiveFleet(env)
    const g = yield* guardedFleet(env)
    const limitUsd = guards.budget.limitUsd
    const about = {
      name: "budget",
      title: "2. Per-agent caps without a fleet cap",
      setup: `${agents} agents, each working until it reaches its ${usd(agentCapUsd)} cap; the guarded fleet also has a ${usd(limitUsd)} fleet limit.`
    } as const
    return result(
      about,
      (naive, guarded) => [
        ...traffic(naive, guarded).slice(0, 2),
        ["cap that stopped the fleet", `${agents} × ${usd(agentCapUsd)} per agent`, `${usd(limitUsd)} fleet limit`],
        ["exposure the caps allowed", usd(agents * agentCapUsd), usd(limitUsd)],
        ["calls charged", count(naive.charges.length), count(guarded.charges.length)],
        ...cost(naive, guarded, limitUsd)
      ],
      n,
      g
    )
  })
