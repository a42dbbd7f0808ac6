/**
 * Scenario 4, a trip with 15 calls in flight: 15 agents stream long answers while 5 workers make
 * short calls; then every new request to the upstream fails. The naive fleet lets the streams run
 * to the end and its workers keep calling; the guarded breaker trips at its threshold and
 * interrupts everything it tracks, the streams included: their answers are lost, and each is
 * charged the most the API may bill for it.
 *
 * @since 0.1.0
 */
import { Agent, type Events, LlmClient } from "@fleetguard/core"
import { FakeAnthropic } from "@fleetguard/testing"
import { Effect, Stream } from "effect"
import { type Env, range, request } from "./agents.js"
import { guarded, naive, result, side } from "./fleet.js"
import { chargedTo, reported, settledBy, spent, trips } from "./measure.js"
import type { Call, Lane, Row, ScenarioResult } from "./scenario.js"
import { chargedLabel, cost, count, reportedLabel, startedAfter, traffic, usd } from "./table.js"

const readers = 15
const workers = 5
const streamTokens = 120
// The upstream fails from this long after the last long call arrived: all of them are streaming.
const failAfterMillis = 400
const workerPauseMillis = 100

/** Every request fails once the long calls are all streaming (a script of its own per server). */
const failOnceStreaming = (): FakeAnthropic.Script => {
  let streams = 0
  let failFrom = Number.POSITIVE_INFINITY
  return (call) => {
    if (call.stream && ++streams === readers) failFrom = call.elapsedMillis + failAfterMillis
    return call.elapsedMillis >= failFrom ? FakeAnthropic.status(500, "api_error") : undefined
  }
}

const server = (): FakeAnthropic.Options => ({
  latency: "20 millis",
  deltaInterval: "25 millis",
  outputTokens: streamTokens,
  script: failOnceStreaming()
})

const long = (i: number) => request(`a long report, reader ${i}`, streamTokens)
const short = (i: number, step: number) => request(`a quick check, worker ${i}, step ${step}`, 20)

const sleep = (millis: number) => new Promise((resolve) => setTimeout(resolve, millis))

/** Readers stream; workers call until the readers are done, carrying on past a failed call. */
const naiveFleet = (env: Env) =>
  side(env.progress, "trip · naive", server(), (fake, startedAt) =>
    Effect.promise(async () => {
      const client = naive(fake, env.pricing, startedAt)
      let done = false
      const worker = async (i: number) => {
        for (let s = 0; !done; s++) {
          await client.complete(short(i, s)).catch(() => 0)
          await sleep(workerPauseMillis)
        }
      }
      const streams = Promise.allSettled(range(readers).map((i) => client.stream(long(i))))
      const working = Promise.all(range(workers).map(worker))
      const read = await streams.finally(() => {
        done = true
      })
      await working
      const answered = read.flatMap((o) => (o.status === "fulfilled" ? [{ at: 0, usd: o.value }] : []))
      return { client, finished: answered.length + workers, streamsUsd: spent(answered) }
    })
  )

const guardedFleet = (env: Env) =>
  side(env.progress, "trip · guarded", server(), (fake, startedAt) => {
    let done = false
    const reader = (i: number) => Agent.run(`reader-${i}`, Stream.runDrain(LlmClient.stream(long(i))))
    const worker = (i: number) =>
      Agent.run(
        `worker-${i}`,
        Effect.iterate(0, {
          while: () => !done,
          body: (s) =>
            Effect.as(
              Effect.zipRight(Effect.ignore(LlmClient.complete(short(i, s))), Effect.sleep(workerPauseMillis)),
              s + 1
            )
        })
      )
    const readersDone = Effect.ensuring(
      Effect.forEach(range(readers), (i) => Effect.either(reader(i)), { concurrency: "unbounded" }),
      Effect.sync(() => {
        done = true
      })
    )
    const workersDone = Effect.forEach(range(workers), (i) => Effect.either(worker(i)), { concurrency: "unbounded" })
    const finished = Effect.map(Effect.all([readersDone, workersDone], { concurrency: "unbounded" }), (outcomes) => ({
      finished: outcomes.flat().filter((o) => o._tag === "Right").length
    }))
    return guarded(fake, startedAt, env.guards, finished)
  })

const readerIds = new Set(range(readers).map((i) => `reader-${i}`))

const lanesOf = (calls: ReadonlyArray<Call>, trip: number): Array<Lane> =>
  calls
    .filter((c) => c.stream)
    .map((c) => ({ start: c.at - trip, end: (c.endedAt ?? c.at) - trip, interrupted: c.outcome === "client-closed" }))

/** What the API reported for the guarded readers' streams: those it finished. */
const readersReported = (events: ReadonlyArray<Events.GuardEvent>) => spent(reported(settledBy(events, readerIds), 0))

const span = (lanes: ReadonlyArray<Lane>) => {
  const ends = lanes.map((l) => l.end)
  return ends.length === 0 ? "—" : `+${Math.min(...ends)} to +${Math.max(...ends)} ms`
}

const tripRows = (n: ReadonlyArray<Lane>, g: ReadonlyArray<Lane>): ReadonlyArray<Row> => [
  [
    "long streams in flight at the trip",
    count(n.filter((l) => l.start < 0 && l.end > 0).length),
    count(g.filter((l) => l.start < 0 && l.end > 0).length)
  ],
  ["  interrupted", count(n.filter((l) => l.interrupted).length), count(g.filter((l) => l.interrupted).length)],
  ["  ended, after the trip", span(n), span(g)]
]

/**
 * Runs the trip scenario naive, then guarded.
 *
 * @since 0.1.0
 * @category scenarios
 */
export const run = (env: Env): Effect.Effect<ScenarioResult> =>
  Effect.gen(function* () {
    const n = yield* naiveFleet(env)
    const g = yield* guardedFleet(env)
    const threshold = env.guards.breaker.failureThreshold
    const [naiveTrip, guardedTrip] = trips(n.calls, { ...g.result, startedAt: g.startedAt }, threshold)
    const lanes = { naive: lanesOf(n.calls, naiveTrip), guarded: lanesOf(g.calls, guardedTrip) }
    const about = {
      name: "trip",
      title: "4. A trip with 15 calls in flight",
      setup: `${readers} agents stream long answers while ${workers} workers make short calls; every request from ${failAfterMillis} ms after the last of them started fails with 500. The breaker trips after ${threshold} failures (its default); the naive side's "trip" is when its ${threshold} failures had been answered.`,
      agents: readers + workers,
      lanes
    } as const
    return result(
      about,
      env.guards.budget.limitUsd,
      (naive, guarded) => [
        ...tripRows(lanes.naive, lanes.guarded),
        ["requests started after the trip", startedAfter(n.calls, naiveTrip), startedAfter(g.calls, guardedTrip)],
        [
          "agents that finished",
          `${naive.finished} of ${readers + workers}`,
          `${guarded.finished} of ${readers + workers}`
        ],
        [`the long streams, ${reportedLabel}`, usd(n.result.streamsUsd), usd(readersReported(g.result.events))],
        [`the long streams, ${chargedLabel}`, "— (no ledger)", usd(chargedTo(g.result.events, readerIds))],
        ...traffic(naive, guarded),
        ...cost(naive, guarded, env.guards.budget.limitUsd)
      ],
      n,
      g
    )
  })
