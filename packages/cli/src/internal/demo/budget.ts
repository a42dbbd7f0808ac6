/**
 * Scenario 2, per-agent caps without a fleet cap: 20 agents each work until they reach their cap.
 * The naive fleet checks each agent against its own cap only, so together they spend twenty caps;
 * the guarded fleet also holds one fleet limit, reserved before each call.
 *
 * @since 0.1.0
 */
import type { FakeAnthropic } from "@fleetguard/testing"
import { Effect } from "effect"
import { type Env, range, request, stepping } from "./agents.js"
import { guarded, naive, result, side } from "./fleet.js"
import type { ScenarioResult } from "./scenario.js"
import { cost, count, traffic, usd } from "./table.js"

const agents = 20
const maxTokens = 4000
// An agent with work left after its cap: only a limit stops it.
const maxSteps = 100

const server: FakeAnthropic.Options = { latency: "20 millis", outputTokens: maxTokens }

const ask = (agent: number, step: number) => request(`budget agent ${agent}, step ${step}`, maxTokens)

/** The agents' cap: the guarded fleet's per-agent limit. */
const capOf = (env: Env) => env.guards.budget.perAgentLimitUsd ?? env.guards.budget.limitUsd

/** Each agent checks its own spend before each call, as a per-agent cap does. */
const naiveFleet = (env: Env) =>
  side(env.progress, "budget · naive", server, (fake, startedAt) =>
    Effect.promise(async () => {
      const client = naive(fake, env.pricing, startedAt)
      const agent = async (i: number) => {
        let spentUsd = 0
        for (let s = 0; s < maxSteps && spentUsd < capOf(env); s++) spentUsd += await client.complete(ask(i, s))
      }
      const outcomes = await Promise.allSettled(range(agents).map(agent))
      return { client, finished: outcomes.filter((o) => o.status === "fulfilled").length }
    })
  )

const guardedFleet = (env: Env) =>
  side(env.progress, "budget · guarded", server, (fake, startedAt) =>
    guarded(fake, startedAt, env.guards, stepping(agents, maxSteps, ask))
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
    const limitUsd = env.guards.budget.limitUsd
    const cap = capOf(env)
    const about = {
      name: "budget",
      title: "2. Per-agent caps without a fleet cap",
      setup: `${agents} agents, each working until it reaches its ${usd(cap)} cap; the guarded fleet also has a ${usd(limitUsd)} fleet limit.`,
      agents
    } as const
    return result(
      about,
      limitUsd,
      (naive, guarded) => [
        ...traffic(naive, guarded).slice(0, 2),
        ["cap that stopped the fleet", `${agents} × ${usd(cap)} per agent`, `${usd(limitUsd)} fleet limit`],
        ["exposure the caps allowed", usd(agents * cap), usd(limitUsd)],
        ["calls charged", count(naive.reported.length), count(guarded.charged?.charges.length ?? 0)],
        ["agents that finished", `${naive.finished} of ${agents}`, `${guarded.finished} of ${agents}`],
        ...cost(naive, guarded, limitUsd)
      ],
      n,
      g
    )
  })
