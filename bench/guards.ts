/**
 * Guard overhead benchmark, run with `pnpm bench`.
 *
 * A. Memory held by 100,000 callers queued on the concurrency semaphore.
 * B. Per-call cost of the full guard stack (permit, depth check, budget reserve/commit) against a
 *    bare `Effect.forEach` of no-ops, both at concurrency 100.
 */

import { performance } from "node:perf_hooks"
import { Budget, type BudgetService, Concurrency, Depth } from "@fleetguard/core"
import { Effect, Fiber, Layer, ManagedRuntime } from "effect"
import { collectGarbage, count, fixed, printHeader, printTable, timeLoop, waitUntil } from "./support.js"

const CONCURRENCY = 100
const SIZES = [10_000, 100_000, 1_000_000] as const
const WARMUP_SIZE = 10_000
const WARMUP_PASSES = 2
const REPEATS = 3
// Repeats stop once a measurement has used this much time, so the slow rows still finish in ~3 min.
const MEASURE_BUDGET_MS = 8_000
const WAITERS = 100_000
const AGENT_ID = "bench"
// Tiny against the limits below, so the ledger never refuses and never crosses the alert threshold.
const USD = 1e-6

// ---------------------------------------------------------------------------------------------
// Formatting
// ---------------------------------------------------------------------------------------------

const mb = (bytes: number) => fixed(bytes / (1024 * 1024), 1)

// ---------------------------------------------------------------------------------------------
// B. Per-call overhead
// ---------------------------------------------------------------------------------------------

const guardsLayer = Layer.mergeAll(
  Concurrency.layer({ maxConcurrency: CONCURRENCY }),
  Budget.layer({ limitUsd: 1_000_000, perAgentLimitUsd: 1_000_000 }),
  Depth.layer({ maxDepth: 4, maxFanOut: 8 })
)

const bareCall = () => Effect.void

// Built per call, as an application would, so constructing the guarded effect is part of the cost.
const guardedCall = (budget: BudgetService) => () =>
  Concurrency.withPermit(
    Effect.zipRight(
      Depth.check,
      Effect.flatMap(budget.reserve(AGENT_ID, USD), (reservation) =>
        Effect.zipRight(Effect.void, budget.commit(reservation, USD))
      )
    )
  )

/** Milliseconds to run `call` `n` times at the benchmark concurrency; only the loop is timed. */

interface Best {
  readonly ms: number
  readonly runs: number
}

/**
 * Best of up to `REPEATS` runs (at least one), within `MEASURE_BUDGET_MS`. A collection between
 * runs keeps one run's garbage out of the next.
 */
const best = <E, R>(n: number, call: () => Effect.Effect<void, E, R>): Effect.Effect<Best, E, R> =>
  Effect.gen(function* () {
    let ms = Number.POSITIVE_INFINITY
    let spent = 0
    let runs = 0
    while (runs < REPEATS && (runs === 0 || spent < MEASURE_BUDGET_MS)) {
      collectGarbage.run()
      const elapsed = yield* timeLoop(n, CONCURRENCY, call)
      ms = Math.min(ms, elapsed)
      spent += elapsed
      runs++
    }
    return { ms, runs }
  })

const overhead = Effect.gen(function* () {
  const budget = yield* Budget
  const guarded = guardedCall(budget)

  for (let i = 0; i < WARMUP_PASSES; i++) {
    yield* timeLoop(WARMUP_SIZE, CONCURRENCY, bareCall)
    yield* timeLoop(WARMUP_SIZE, CONCURRENCY, guarded)
  }

  const rows: Array<Array<string>> = []
  for (const n of SIZES) {
    const bare = yield* best(n, bareCall)
    const guardedBest = yield* best(n, guarded)
    rows.push([
      count(n),
      fixed((bare.ms * 1000) / n, 3),
      fixed((guardedBest.ms * 1000) / n, 3),
      `${fixed(guardedBest.ms / bare.ms, 1)}x`,
      fixed(bare.ms, 0),
      fixed(guardedBest.ms, 0),
      `${bare.runs}/${guardedBest.runs}`
    ])
  }
  const snapshot = yield* budget.snapshot
  return { rows, spentUsd: snapshot.spentUsd, reservedUsd: snapshot.reservedUsd }
})

// ---------------------------------------------------------------------------------------------
// A. Memory of queued callers
// ---------------------------------------------------------------------------------------------

const waiterMemory = Effect.gen(function* () {
  const concurrency = yield* Concurrency
  const holder = yield* Effect.fork(concurrency.withPermit(Effect.never))
  yield* waitUntil(concurrency.snapshot, (s) => s.inFlight === 1, "waiters never settled")

  // Allocated before the baseline: the handles are the bench's, not the waiters' cost.
  const fibers = new Array<Fiber.RuntimeFiber<void, unknown>>(WAITERS)
  collectGarbage.run()
  const before = process.memoryUsage()

  const forkStart = performance.now()
  for (let i = 0; i < WAITERS; i++) fibers[i] = yield* Effect.fork(concurrency.withPermit(Effect.void))
  const queued = yield* waitUntil(concurrency.snapshot, (s) => s.waiting === WAITERS, "waiters never settled")
  const queueMs = performance.now() - forkStart
  // `waiting` is counted just before a caller parks on the semaphore; let the last ones park.
  for (let i = 0; i < 10; i++) yield* Effect.yieldNow()

  collectGarbage.run()
  const after = process.memoryUsage()

  yield* Fiber.interruptAll(fibers)
  yield* Fiber.interrupt(holder)
  const drained = yield* concurrency.snapshot
  return { before, after, queued, queueMs, drained }
})

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

const main = async () => {
  printHeader("fleetguard guard benchmark")
  console.log()

  // Memory first: after the timing runs the process keeps hundreds of MB of freed heap as RSS,
  // which would hide most of the waiters' RSS growth.
  const gate = ManagedRuntime.make(Concurrency.layer({ maxConcurrency: 1 }))
  try {
    const m = await gate.runPromise(waiterMemory)
    const rss = m.after.rss - m.before.rss
    const heap = m.after.heapUsed - m.before.heapUsed
    console.log(`A. Memory with ${count(WAITERS)} callers waiting on one permit (run first, for a clean RSS baseline)`)
    console.log(
      `   queued in ${fixed(m.queueMs, 0)} ms (snapshot: inFlight ${m.queued.inFlight}, waiting ${count(m.queued.waiting)})`
    )
    console.log()
    printTable(
      ["", "before MB", "after MB", "delta MB", "bytes/waiter"],
      [
        ["rss", mb(m.before.rss), mb(m.after.rss), mb(rss), fixed(rss / WAITERS, 0)],
        ["heapUsed", mb(m.before.heapUsed), mb(m.after.heapUsed), mb(heap), fixed(heap / WAITERS, 0)]
      ]
    )
    console.log()
    console.log(`   after interrupting: inFlight ${m.drained.inFlight}, waiting ${m.drained.waiting}`)
    console.log()
  } finally {
    await gate.dispose()
  }

  const guards = ManagedRuntime.make(guardsLayer)
  try {
    const result = await guards.runPromise(overhead)
    console.log(
      `B. Per-call cost, concurrency ${CONCURRENCY}, best of up to ${REPEATS} runs within ${MEASURE_BUDGET_MS / 1000} s (warm-up ${WARMUP_PASSES} × ${count(WARMUP_SIZE)})`
    )
    console.log("   guarded = Concurrency.withPermit(Depth.check → reserve → no-op → commit)")
    console.log()
    printTable(
      ["calls", "bare µs/call", "guarded µs/call", "guarded/bare", "bare ms", "guarded ms", "runs b/g"],
      result.rows
    )
    console.log()
    console.log(`   ledger after the runs: spent ${result.spentUsd} USD, reserved ${result.reservedUsd} USD`)
  } finally {
    await guards.dispose()
  }
}

await main()
