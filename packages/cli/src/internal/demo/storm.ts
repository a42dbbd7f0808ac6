/**
 * Scenario 1, the retry storm: 20 agents work through their calls together when the API starts
 * answering 429 (retry-after 1 s), for longer than the SDK's own retries last. Naive agents each
 * obey their own 429, fire again together, and give up when the SDK does: the work they had paid
 * for is wasted. Guarded agents share one gate that a 429 closes for everyone, wait it out, and finish.
 *
 * @since 0.1.0
 */
import type { CompletionRequest } from "@fleetguard/core"
import { FakeAnthropic } from "@fleetguard/testing"
import { Effect } from "effect"
import { type Env, range, request, stepping } from "./agents.js"
import { guarded, naive, result, side } from "./fleet.js"
import {
  bursts,
  chargedTo,
  endOfFirstWait,
  firstWave,
  instantMillis,
  madeWhileWaiting,
  spent,
  spread
} from "./measure.js"
import type { Row, ScenarioResult, Side } from "./scenario.js"
import { cost, count, traffic, usd } from "./table.js"

const agents = 20
const steps = 5
const maxTokens = 100
const retryAfterSeconds = 1
// The window opens once the fleet has been answered 2 calls per agent (3 left each, on average).
const callsBefore = 2 * agents
// The SDK gives a call 3 attempts, 2 retry-afters apart (2 × (1 s + a round trip)): a window this
// long fails every naive call that meets it as it opens, for round trips up to 1.3 s (a loaded
// machine). The guarded fleet waits out any window shorter than the gate's maxPause (60 s).
const windowMillis = 4000

/**
 * A server that answers 429 for `windowMillis` once it has let `callsBefore` calls through, and
 * says when that was, in millis since a side started at `startedAt`.
 */
const stormServer = () => {
  let through = 0
  let openedAt: number | undefined
  const script: FakeAnthropic.Script = () => {
    if (openedAt === undefined && through++ < callsBefore) return undefined
    openedAt ??= Date.now()
    return Date.now() < openedAt + windowMillis ? FakeAnthropic.rateLimited({ seconds: retryAfterSeconds }) : undefined
  }
  const options: FakeAnthropic.Options = { latency: "50 millis", outputTokens: maxTokens, script }
  const window = (startedAt: number) =>
    openedAt === undefined ? undefined : { from: openedAt - startedAt, until: openedAt + windowMillis - startedAt }
  return { options, window }
}

const ask = (agent: number, step: number) => request(`storm agent ${agent}, step ${step}`, maxTokens)

/** Each agent's steps one after the other, all agents at once; an agent whose call fails stops. */
const naiveFleet = (env: Env) => {
  const server = stormServer()
  return side(env.progress, "storm · naive", server.options, (fake, startedAt) =>
    Effect.promise(async () => {
      const client = naive(fake, env.pricing, startedAt)
      const agent = async (i: number) => {
        let spentUsd = 0
        try {
          for (const s of range(steps)) spentUsd += await client.complete(ask(i, s))
          return { finished: true, spentUsd }
        } catch {
          return { finished: false, spentUsd }
        }
      }
      const outcomes = await Promise.all(range(agents).map(agent))
      const failed = outcomes.filter((o) => !o.finished)
      return {
        client,
        finished: agents - failed.length,
        wastedUsd: spent(failed.map((o) => ({ at: 0, usd: o.spentUsd }))),
        rateLimited: server.window(startedAt)
      }
    })
  )
}

/**
 * The guarded agents: each its steps in turn, all at once. Succeeds with how many finished, and
 * the agents that failed.
 *
 * @since 0.1.0
 * @category agents
 */
export const guardedAgents = (ask: (agent: number, step: number) => CompletionRequest) => stepping(agents, steps, ask)

const guardedFleet = (env: Env) => {
  const server = stormServer()
  return side(env.progress, "storm · guarded", server.options, (fake, startedAt) =>
    Effect.map(guarded(fake, startedAt, env.guards, guardedAgents(ask)), (run) => ({
      ...run,
      result: { ...run.result, rateLimited: server.window(startedAt) }
    }))
  )
}

const waitRows = (naive: Side, guarded: Side): ReadonlyArray<Row> => {
  const wave = (s: Side) => firstWave(s.calls, endOfFirstWait(s.waits), agents)
  const [n, g] = [wave(naive), wave(guarded)]
  const [nb, gb] = [bursts(n), bursts(g)]
  return [
    [
      "calls sent while a 429 the client had seen said wait",
      count(madeWhileWaiting(naive.sent, naive.waits)),
      count(madeWhileWaiting(guarded.sent, guarded.waits))
    ],
    [`first ${agents} calls after the first wait: fired over`, `${spread(n)} ms`, `${spread(g)} ms`],
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
    const wasted = { naive: n.result.wastedUsd, guarded: chargedTo(g.result.events, g.result.result.failed) }
    const about = {
      name: "storm",
      title: "1. Retry storm",
      setup: `${agents} agents, ${steps} calls each one after the other; once ${callsBefore} calls were answered, the API answers 429 (retry-after ${retryAfterSeconds} s) for ${windowMillis / 1000} s, longer than the SDK's 2 retries wait.`,
      agents,
      wasted
    } as const
    return result(
      about,
      env.guards.budget.limitUsd,
      (naive, guarded) => [
        ...traffic(naive, guarded),
        ...waitRows(naive, guarded),
        ["agents that finished", `${naive.finished} of ${agents}`, `${guarded.finished} of ${agents}`],
        ["  spend wasted: what the agents that failed had spent", usd(wasted.naive), usd(wasted.guarded)],
        ...cost(naive, guarded, env.guards.budget.limitUsd)
      ],
      n,
      g
    )
  })
