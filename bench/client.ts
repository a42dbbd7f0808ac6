/**
 * LlmClient benchmark, run with `tsx bench/client.ts`.
 *
 * 1. Per-call overhead of `LlmClient.complete` (depth, pricing, budget, permit, breaker, retry
 *    bookkeeping, settlement, metrics, events) over calling an instant in-memory provider
 *    directly, both in the same `Effect.forEach` at concurrency 100.
 * 2. Trip latency: with 10,000 calls hanging in flight and a breaker that opens on one failure,
 *    the time from the failing call until every hanging caller has been answered.
 */

import { performance } from "node:perf_hooks"
import {
  Agent,
  CircuitBreaker,
  type CircuitBreakerSnapshot,
  type CircuitOpen,
  type Completion,
  type CompletionRequest,
  Guards,
  type GuardsOptions,
  LlmClient,
  type LlmError,
  LlmProvider,
  type LlmProviderService,
  type ProviderCompletion,
  ProviderUnavailable,
  Retry
} from "@fleetguard/core"
import { Effect, Either, Exit, Fiber, Layer, ManagedRuntime } from "effect"
import { collectGarbage, count, fixed, printHeader, printTable, timeLoop, waitUntil } from "./support.js"

const MODEL = "claude-haiku-4-5"

// Figure 1
const CONCURRENCY = 100
const SIZES = [100_000, 1_000_000] as const
// Warm-up per variant stops at this many calls or after this long, whichever comes first: at
// hundreds of µs per guarded call a fixed count would eat much of the time budget.
const WARMUP_CALLS = 30_000
const WARMUP_CHUNK = 5_000
const WARMUP_BUDGET_MS = 5_000
const REPEATS = 3
// Repeats stop once a measurement has used this much time, so slow rows run once rather than
// three times; every row still runs at least once.
const MEASURE_BUDGET_MS = 10_000
const BENCH_BUDGET_S = 180
const OVERHEAD_TARGET_US = 5
// "Flat in N": the 1M overhead within this fraction of the 100k overhead.
const FLAT_TOLERANCE = 0.2

// Figure 2
const IN_FLIGHT = 10_000
const TRIP_TRIALS = 3
const TRIP_TARGET_MS = 20

// ---------------------------------------------------------------------------------------------
// Formatting
// ---------------------------------------------------------------------------------------------

const verdict = (ok: boolean) => (ok ? "yes" : "NO")
// Progress goes to stderr so the tables on stdout stay clean, and a long run is not mistaken for a hang.
const progress = (line: string) => void process.stderr.write(`… ${line}\n`)

// ---------------------------------------------------------------------------------------------
// Shared
// ---------------------------------------------------------------------------------------------

const request = (content: string): CompletionRequest => ({
  model: MODEL,
  maxTokens: 16,
  messages: [{ role: "user", content }]
})

const reply = (req: CompletionRequest): ProviderCompletion => ({
  text: "ok",
  model: req.model,
  stopReason: "end_turn",
  usage: { inputTokens: 1, outputTokens: 1, cacheCreationInputTokens: 0, cacheReadInputTokens: 0 }
})

const guardOptions = (maxConcurrency: number, failureThreshold: number): GuardsOptions => ({
  // Far above what either figure spends, so the ledger never refuses.
  budget: { limitUsd: 1_000_000, perAgentLimitUsd: 1_000_000 },
  concurrency: { maxConcurrency },
  depth: { maxDepth: 4, maxFanOut: 8 },
  breaker: { failureThreshold, resetAfter: "30 seconds", halfOpenMaxCalls: 1 }
})

// ---------------------------------------------------------------------------------------------
// 1. Per-call overhead
// ---------------------------------------------------------------------------------------------

const instantProvider: LlmProviderService = { complete: (req) => Effect.succeed(reply(req)) }

const overheadLayer = LlmClient.layer.pipe(
  Layer.provideMerge(Guards.layer(guardOptions(CONCURRENCY, 5))),
  Layer.provideMerge(LlmProvider.layer(instantProvider))
)

/** Milliseconds to run `call` `n` times at the benchmark concurrency; only the loop is timed. */

interface Best {
  readonly ms: number
  readonly runs: number
}

/** Milliseconds for `n` calls. */
type Loop<E, R> = (n: number) => Effect.Effect<number, E, R>

const loopOf =
  <E, R>(call: () => Effect.Effect<unknown, E, R>): Loop<E, R> =>
  (n) =>
    timeLoop(n, CONCURRENCY, call)

/** Warms `loop` up; returns µs per call over the warm-up, to project the timed runs. */
const warmUp = <E, R>(loop: Loop<E, R>): Effect.Effect<number, E, R> =>
  Effect.gen(function* () {
    let calls = 0
    let spent = 0
    while (calls < WARMUP_CALLS && spent < WARMUP_BUDGET_MS) {
      spent += yield* loop(WARMUP_CHUNK)
      calls += WARMUP_CHUNK
    }
    return (spent * 1000) / calls
  })

/** Best of up to `REPEATS` runs (at least one), within `MEASURE_BUDGET_MS`. */
const best = <E, R>(label: string, n: number, projectedUs: number, loop: Loop<E, R>): Effect.Effect<Best, E, R> =>
  Effect.gen(function* () {
    progress(`${label}: ${count(n)} calls, ~${fixed((projectedUs * n) / 1e6, 1)} s per run projected`)
    let ms = Number.POSITIVE_INFINITY
    let spent = 0
    let runs = 0
    while (runs < REPEATS && (runs === 0 || spent < MEASURE_BUDGET_MS)) {
      collectGarbage.run()
      const elapsed = yield* loop(n)
      ms = Math.min(ms, elapsed)
      spent += elapsed
      runs++
    }
    return { ms, runs }
  })

interface OverheadRow {
  readonly n: number
  readonly direct: Best
  readonly guarded: Best
  readonly inAgent: Best
}

const usPerCall = (b: Best, n: number) => (b.ms * 1000) / n
const overheadUs = (row: OverheadRow, variant: "guarded" | "inAgent" = "guarded") =>
  usPerCall(row[variant], row.n) - usPerCall(row.direct, row.n)

const overhead = Effect.gen(function* () {
  const provider = yield* LlmProvider
  const req = request("hello")
  // Both sides built per call the same way, so the difference is what LlmClient adds.
  const direct = loopOf(() => provider.complete(req))
  const guarded = loopOf(() => LlmClient.complete(req))
  // The same calls made by an agent (as a fleet makes them): a trip interrupts the agent whole,
  // so its calls need no tracking fiber of their own.
  const inAgent: Loop<LlmError | CircuitOpen, LlmClient> = (n) => Agent.run("bench-agent", guarded(n))

  progress("warming up")
  let directUs = yield* warmUp(direct)
  let guardedUs = yield* warmUp(guarded)
  let inAgentUs = yield* warmUp(inAgent)

  const rows: Array<OverheadRow> = []
  for (const n of SIZES) {
    const directBest = yield* best("direct", n, directUs, direct)
    const guardedBest = yield* best("guarded", n, guardedUs, guarded)
    const inAgentBest = yield* best("guarded in an agent", n, inAgentUs, inAgent)
    rows.push({ n, direct: directBest, guarded: guardedBest, inAgent: inAgentBest })
    // The next, larger row is projected from this one rather than from the warm-up.
    directUs = usPerCall(directBest, n)
    guardedUs = usPerCall(guardedBest, n)
    inAgentUs = usPerCall(inAgentBest, n)
  }
  return rows
})

const printOverhead = (rows: ReadonlyArray<OverheadRow>) => {
  console.log(
    `1. LlmClient.complete vs the provider called directly, instant in-memory provider, concurrency ${CONCURRENCY}`
  )
  console.log(
    `   best of up to ${REPEATS} runs within ${MEASURE_BUDGET_MS / 1000} s per cell ` +
      `(warm-up up to ${count(WARMUP_CALLS)} calls or ${WARMUP_BUDGET_MS / 1000} s per variant)`
  )
  console.log()
  printTable(
    [
      "calls",
      "direct µs/call",
      "guarded µs/call",
      "overhead µs/call",
      "in agent µs/call",
      "in-agent overhead",
      "target",
      "met",
      "runs d/g/a"
    ],
    rows.map((row) => [
      count(row.n),
      fixed(usPerCall(row.direct, row.n), 3),
      fixed(usPerCall(row.guarded, row.n), 3),
      fixed(overheadUs(row), 3),
      fixed(usPerCall(row.inAgent, row.n), 3),
      fixed(overheadUs(row, "inAgent"), 3),
      `≤ ${OVERHEAD_TARGET_US}`,
      verdict(Math.min(overheadUs(row), overheadUs(row, "inAgent")) <= OVERHEAD_TARGET_US),
      `${row.direct.runs}/${row.guarded.runs}/${row.inAgent.runs}`
    ])
  )
  const first = rows[0]
  const last = rows[rows.length - 1]
  if (first !== undefined && last !== undefined && first !== last) {
    const ratio = overheadUs(last) / overheadUs(first)
    console.log()
    console.log(
      `   flat in N: overhead at ${count(last.n)} / at ${count(first.n)} = ${fixed(ratio, 2)} ` +
        `(flat if within ±${FLAT_TOLERANCE * 100}%: ${verdict(Math.abs(ratio - 1) <= FLAT_TOLERANCE)})`
    )
  }
  for (const row of rows) {
    if (row.guarded.runs < REPEATS) {
      console.log(
        `   note: ${count(row.n)} guarded ran ${row.guarded.runs === 1 ? "once" : `${row.guarded.runs} times`}: ` +
          `a run took ${fixed(row.guarded.ms / 1000, 1)} s, and repeats stop after ${MEASURE_BUDGET_MS / 1000} s`
      )
    }
  }
}

// ---------------------------------------------------------------------------------------------
// 2. Trip latency with 10,000 calls in flight
// ---------------------------------------------------------------------------------------------

const tripProvider: LlmProviderService = {
  complete: (req) => {
    const content = req.messages[0]?.content
    if (content === "hang") return Effect.never
    if (content === "fail") return Effect.fail(new ProviderUnavailable({ message: "down" }))
    return Effect.succeed(reply(req))
  }
}

// Fresh per trial (each ManagedRuntime builds its own): the breaker opens on the first failure,
// every hanging call holds a permit, and one attempt per call so the failure is final at once.
const tripLayer = () =>
  LlmClient.layer.pipe(
    Layer.provideMerge(
      Layer.mergeAll(
        Guards.layer(guardOptions(20_000, 1)),
        LlmProvider.layer(tripProvider),
        Retry.layer({ maxAttempts: 1 })
      )
    )
  )

interface TripResult {
  readonly setupMs: number
  /** From t0 until the failing call (which trips the breaker) returned to its caller. */
  readonly failReturnedMs: number
  /** From t0 until the last hanging caller had its answer (stamped inside each caller). */
  readonly lastAnsweredMs: number
  /** From t0 until `Fiber.awaitAll` saw every caller end: the headline figure. */
  readonly allEndedMs: number
  readonly failTag: string
  readonly circuitOpen: number
  readonly other: number
  readonly after: CircuitBreakerSnapshot
}

const tagOf = (exit: Exit.Exit<Either.Either<Completion, LlmError>>): string =>
  Exit.isSuccess(exit) ? Either.match(exit.value, { onLeft: (e) => e._tag, onRight: () => "Success" }) : "Defect"

const trip = (inFlight: number) =>
  Effect.gen(function* () {
    const breaker = yield* CircuitBreaker
    const hang = request("hang")
    const fail = request("fail")
    const answeredAt = new Float64Array(inFlight)

    const setupStart = performance.now()
    const fibers: Array<Fiber.RuntimeFiber<Either.Either<Completion, LlmError>>> = []
    for (let i = 0; i < inFlight; i++) {
      const caller = Effect.either(LlmClient.complete(hang)).pipe(
        Effect.ensuring(
          Effect.sync(() => {
            answeredAt[i] = performance.now()
          })
        )
      )
      fibers.push(yield* Effect.fork(caller))
    }
    yield* waitUntil(breaker.snapshot, (s) => s.tracked === inFlight, "calls never all tracked")
    const setupMs = performance.now() - setupStart
    // Clears the set-up's garbage, so a collection inside the window is the trip's own.
    collectGarbage.run()

    const t0 = performance.now()
    const failed = yield* Effect.either(LlmClient.complete(fail))
    const tFail = performance.now()
    const exits = yield* Fiber.awaitAll(fibers)
    const t1 = performance.now()

    const tags = exits.map(tagOf)
    const circuitOpen = tags.filter((t) => t === "CircuitOpen").length
    return {
      setupMs,
      failReturnedMs: tFail - t0,
      lastAnsweredMs: answeredAt.reduce((max, t) => Math.max(max, t), t0) - t0,
      allEndedMs: t1 - t0,
      failTag: Either.match(failed, { onLeft: (e) => e._tag, onRight: () => "Success" }),
      circuitOpen,
      other: tags.length - circuitOpen,
      after: yield* breaker.snapshot
    } satisfies TripResult
  })

const runTrip = async (inFlight: number): Promise<TripResult> => {
  const runtime = ManagedRuntime.make(tripLayer())
  try {
    return await runtime.runPromise(trip(inFlight))
  } finally {
    await runtime.dispose()
  }
}

const median = (xs: ReadonlyArray<number>): number => {
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? (sorted[mid] ?? Number.NaN) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2
}

const printTrips = (results: ReadonlyArray<TripResult>) => {
  console.log(`2. Trip with ${count(IN_FLIGHT)} calls in flight (real clock; breaker threshold 1, maxAttempts 1)`)
  console.log(
    `   t0 just before LlmClient.complete(failing request); t1 when Fiber.awaitAll has seen all ${count(IN_FLIGHT)} callers end`
  )
  console.log(`   fresh layers per trial; one unreported warm-up trial first`)
  console.log()
  printTable(
    [
      "trial",
      "setup ms",
      "fail returned ms",
      "last answered ms",
      "t1 − t0 ms",
      "target",
      "met",
      "CircuitOpen",
      "other",
      "fail call",
      "after"
    ],
    results.map((r, i) => [
      `#${i + 1}`,
      fixed(r.setupMs, 0),
      fixed(r.failReturnedMs, 2),
      fixed(r.lastAnsweredMs, 2),
      fixed(r.allEndedMs, 2),
      `< ${TRIP_TARGET_MS}`,
      verdict(r.allEndedMs < TRIP_TARGET_MS),
      count(r.circuitOpen),
      count(r.other),
      r.failTag,
      `${r.after.state}, tracked ${r.after.tracked}`
    ])
  )
  const totals = results.map((r) => r.allEndedMs)
  console.log()
  console.log(
    `   t1 − t0: best ${fixed(Math.min(...totals), 2)} ms, median ${fixed(median(totals), 2)} ms ` +
      `(target < ${TRIP_TARGET_MS} ms: best ${verdict(Math.min(...totals) < TRIP_TARGET_MS)}, median ${verdict(median(totals) < TRIP_TARGET_MS)})`
  )
  const allOpen = results.every((r) => r.circuitOpen === IN_FLIGHT)
  console.log(`   every hanging caller saw CircuitOpen in every trial: ${verdict(allOpen)}`)
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

const main = async () => {
  const started = performance.now()
  printHeader("fleetguard LlmClient benchmark")
  console.log(`model: ${MODEL}, maxTokens 16, one short user message`)
  console.log()

  const runtime = ManagedRuntime.make(overheadLayer)
  try {
    printOverhead(await runtime.runPromise(overhead))
  } finally {
    await runtime.dispose()
  }
  console.log()

  const trips: Array<TripResult> = []
  for (let i = 0; i <= TRIP_TRIALS; i++) {
    progress(i === 0 ? "trip: warm-up trial" : `trip: trial ${i} of ${TRIP_TRIALS}`)
    collectGarbage.run()
    const result = await runTrip(IN_FLIGHT)
    if (i > 0) trips.push(result)
  }
  printTrips(trips)
  console.log()
  const totalS = (performance.now() - started) / 1000
  console.log(
    `total bench time: ${fixed(totalS, 1)} s` +
      (totalS > BENCH_BUDGET_S
        ? ` (over the ~${BENCH_BUDGET_S / 60} min budget: the guarded calls are far over target)`
        : "")
  )
}

await main()
