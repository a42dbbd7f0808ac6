/**
 * The guards' costs, run with `pnpm bench` (about a minute; `--full` for 1,000,000 calls a row).
 *
 * 1. Per call: each guard alone and the full stacks (`Guards.wrap`, `LlmClient.complete`, inside
 *    and outside an agent) over a no-op, against a bare `Effect.forEach` of the same no-op and
 *    against `Effect.fork` + `Fiber.await`, all at concurrency 100 in one process. Rows are run in
 *    turn, three rounds, and each figure is the median of its rounds.
 * 2. Memory held by 100,000 callers queued on one permit, against an Effect Semaphore waiter and an
 *    idle fiber.
 * 3. A trip with 10,000 calls in flight: how long until every caller has its `CircuitOpen`, through
 *    `CircuitBreaker.protect` and through `Guards.wrap`, against interrupting 10,000 bare fibers.
 */

import { performance } from "node:perf_hooks"
import {
  Agent,
  Budget,
  CircuitBreaker,
  type CompletionRequest,
  Concurrency,
  Depth,
  Guards,
  type GuardsOptions,
  LlmClient,
  LlmProvider,
  Overloaded,
  type ProviderCompletion
} from "@fleetguard/core"
import { Effect, Either, Exit, Fiber, Layer, ManagedRuntime } from "effect"
import {
  collectGarbage,
  count,
  FULL,
  fixed,
  median,
  printHeader,
  printTable,
  progress,
  timeLoop,
  waitUntil
} from "./support.js"

const CALLS = FULL ? 1_000_000 : 100_000
const WARMUP_CALLS = 20_000
const ROUNDS = 3
const CONCURRENCY = 100
const WAITERS = 100_000
const IN_FLIGHT = 10_000
const TRIALS = 3
const AGENT = "bench"
// Tiny against the limits, so the ledger never refuses and never crosses the alert threshold.
const USD = 1e-9

const guardOptions = (maxConcurrency: number, failureThreshold: number): GuardsOptions => ({
  budget: { limitUsd: 1_000_000, perAgentLimitUsd: 1_000_000 },
  concurrency: { maxConcurrency },
  depth: { maxDepth: 4, maxFanOut: 8 },
  breaker: { failureThreshold, resetAfter: "30 seconds", halfOpenMaxCalls: 1 }
})

// ---------------------------------------------------------------------------------------------
// 1. Per call
// ---------------------------------------------------------------------------------------------

const request: CompletionRequest = {
  model: "claude-haiku-4-5",
  maxTokens: 16,
  messages: [{ role: "user", content: "hi" }]
}
const answer: ProviderCompletion = {
  text: "ok",
  content: [{ type: "text", text: "ok" }],
  model: request.model,
  stopReason: "end_turn",
  usage: { inputTokens: 1, outputTokens: 1, cacheCreationInputTokens: 0, cacheReadInputTokens: 0 }
}

const perCallLayer = LlmClient.layer.pipe(
  Layer.provideMerge(Guards.layer(guardOptions(CONCURRENCY, 5))),
  Layer.provideMerge(LlmProvider.layer({ complete: () => Effect.succeed(answer) }))
)
type Services = Layer.Layer.Success<typeof perCallLayer>

/** How a row's µs per call is judged: a multiple of bare, plus one fork where a fork is allowed. */
interface Target {
  readonly times: number
  readonly plusFork: boolean
}

interface Row {
  readonly label: string
  /** One call, built per call as an application would build it. */
  readonly call: () => Effect.Effect<unknown, unknown, Services>
  /** The whole loop runs inside one `Agent.run`, as an agent's calls do. */
  readonly inAgent: boolean
  readonly target?: Target | undefined
}

const rows: ReadonlyArray<Row> = [
  { label: "bare Effect.forEach", call: () => Effect.void, inAgent: false },
  {
    label: "Effect.fork + Fiber.await",
    call: () => Effect.flatMap(Effect.fork(Effect.void), Fiber.await),
    inAgent: false
  },
  { label: "Depth.check", call: () => Depth.check, inAgent: false },
  {
    label: "Budget reserve + commit",
    call: () => Effect.flatMap(Budget.reserve(AGENT, USD), (r) => Budget.commit(r, USD)),
    inAgent: false
  },
  {
    label: "Concurrency.withPermit",
    call: () => Concurrency.withPermit(Effect.void),
    inAgent: false,
    target: { times: 1.5, plusFork: false }
  },
  { label: "CircuitBreaker.protect outside an agent", call: () => CircuitBreaker.protect(Effect.void), inAgent: false },
  { label: "CircuitBreaker.protect inside an agent", call: () => CircuitBreaker.protect(Effect.void), inAgent: true },
  {
    label: "Guards.wrap inside Agent.run",
    call: () => Guards.wrap(Effect.void, { estimateUsd: USD, actualUsd: () => USD }),
    inAgent: true,
    target: { times: 3, plusFork: false }
  },
  {
    label: "Guards.wrap outside an agent",
    call: () => Guards.wrap(Effect.void, { estimateUsd: USD, actualUsd: () => USD }),
    inAgent: false,
    target: { times: 3, plusFork: true }
  },
  {
    label: "LlmClient.complete inside Agent.run",
    call: () => LlmClient.complete(request),
    inAgent: true,
    target: { times: 4, plusFork: false }
  },
  {
    label: "LlmClient.complete outside an agent",
    call: () => LlmClient.complete(request),
    inAgent: false,
    target: { times: 4, plusFork: true }
  }
]

const loop = (row: Row, n: number) => {
  const timed = timeLoop(n, CONCURRENCY, row.call)
  return row.inAgent ? Agent.run(AGENT, timed) : timed
}

/** Milliseconds per round, by row: rows run in turn, so a slow spell of the machine hits them all. */
const perCall = Effect.gen(function* () {
  for (const row of rows) yield* loop(row, WARMUP_CALLS)
  const times = rows.map((): Array<number> => [])
  for (let round = 1; round <= ROUNDS; round++) {
    for (const [i, row] of rows.entries()) {
      progress(`round ${round}/${ROUNDS}: ${row.label}`)
      collectGarbage.run()
      times[i]?.push(yield* loop(row, CALLS))
    }
  }
  return rows.map((row, i) => ({ row, us: (median(times[i] ?? []) * 1000) / CALLS }))
})

const printPerCall = (results: ReadonlyArray<{ readonly row: Row; readonly us: number }>) => {
  const bare = results[0]?.us ?? Number.NaN
  const fork = results[1]?.us ?? Number.NaN
  console.log(
    `1. Per call, ${count(CALLS)} calls at concurrency ${CONCURRENCY}, median of ${ROUNDS} rounds (rows in turn)`
  )
  console.log(`   target: a multiple of bare; "+ fork" adds one Effect.fork + Fiber.await (measured above)`)
  console.log()
  printTable(
    ["path", "µs/call", "× bare", "target µs", "met"],
    results.map(({ row, us }) => {
      const target = row.target === undefined ? undefined : row.target.times * bare + (row.target.plusFork ? fork : 0)
      return [
        row.label,
        fixed(us, 2),
        `${fixed(us / bare, 2)}×`,
        row.target === undefined
          ? ""
          : `${fixed(target ?? 0, 2)} (${row.target.times}×${row.target.plusFork ? " + fork" : ""})`,
        target === undefined ? "" : us <= target ? "yes" : "NO"
      ]
    })
  )
}

// ---------------------------------------------------------------------------------------------
// 2. Memory of queued callers
// ---------------------------------------------------------------------------------------------

/** Bytes of heap per parked fiber, for `park` forked WAITERS times. */
const heapPerWaiter = (park: () => Effect.Effect<unknown, unknown>, parked: Effect.Effect<boolean>) =>
  Effect.gen(function* () {
    const fibers = new Array<Fiber.RuntimeFiber<unknown, unknown>>(WAITERS)
    collectGarbage.run()
    const before = process.memoryUsage().heapUsed
    for (let i = 0; i < WAITERS; i++) fibers[i] = yield* Effect.fork(park())
    yield* waitUntil(parked, (done) => done, "waiters never parked")
    for (let i = 0; i < 10; i++) yield* Effect.yieldNow()
    collectGarbage.run()
    const bytes = (process.memoryUsage().heapUsed - before) / WAITERS
    yield* Fiber.interruptAll(fibers)
    return bytes
  })

const memory = Effect.gen(function* () {
  const concurrency = yield* Concurrency.make({ maxConcurrency: 1 })
  const holder = yield* Effect.fork(concurrency.withPermit(Effect.never))
  const fleetguard = yield* heapPerWaiter(
    () => concurrency.withPermit(Effect.void),
    Effect.map(concurrency.snapshot, (s) => s.waiting === WAITERS)
  )
  yield* Fiber.interrupt(holder)

  const semaphore = yield* Effect.makeSemaphore(1)
  yield* semaphore.take(1)
  let entered = 0
  const effect = yield* heapPerWaiter(
    () => semaphore.withPermits(1)(Effect.void),
    Effect.sync(() => ++entered > 50)
  )
  const idle = yield* heapPerWaiter(() => Effect.never, Effect.succeed(true))
  return { fleetguard, effect, idle }
})

// ---------------------------------------------------------------------------------------------
// 3. A trip with 10,000 calls in flight
// ---------------------------------------------------------------------------------------------

type Caller = Effect.Effect<unknown, unknown, Layer.Layer.Success<ReturnType<typeof Guards.layer>>>

/** Milliseconds from the trip until every hanging caller has ended (each must see CircuitOpen). */
const tripThrough = (hang: Caller, fail: Caller) =>
  Effect.gen(function* () {
    const fibers: Array<Fiber.RuntimeFiber<Either.Either<unknown, unknown>>> = []
    for (let i = 0; i < IN_FLIGHT; i++) fibers.push(yield* Effect.fork(Effect.either(hang)))
    yield* waitUntil(CircuitBreaker.snapshot, (s) => s.tracked === IN_FLIGHT, "calls never all tracked")
    collectGarbage.run()
    const t0 = performance.now()
    yield* Effect.either(fail)
    const exits = yield* Fiber.awaitAll(fibers)
    const ms = performance.now() - t0
    const open = exits.filter(
      (e) => Exit.isSuccess(e) && Either.isLeft(e.value) && (e.value.left as { _tag?: unknown })._tag === "CircuitOpen"
    ).length
    if (open !== IN_FLIGHT) throw new Error(`only ${open} of ${IN_FLIGHT} callers saw CircuitOpen`)
    return ms
  })

const bareInterrupt = Effect.gen(function* () {
  const fibers: Array<Fiber.RuntimeFiber<never>> = []
  for (let i = 0; i < IN_FLIGHT; i++) fibers.push(yield* Effect.fork(Effect.never))
  yield* Effect.yieldNow()
  collectGarbage.run()
  const t0 = performance.now()
  yield* Fiber.interruptAll(fibers)
  return performance.now() - t0
})

const tripLayer = () => Guards.layer(guardOptions(2 * IN_FLIGHT, 1))

const trips = async () => {
  const wrap = (self: Effect.Effect<unknown, unknown>) => Guards.wrap(self, { estimateUsd: USD, actualUsd: () => USD })
  const variants = {
    bare: () => Effect.runPromise(bareInterrupt),
    protect: () =>
      ManagedRuntime.make(tripLayer()).runPromise(
        tripThrough(CircuitBreaker.protect(Effect.never), CircuitBreaker.protect(Effect.fail(new Overloaded({}))))
      ),
    wrap: () =>
      ManagedRuntime.make(tripLayer()).runPromise(
        tripThrough(wrap(Effect.never), wrap(Effect.fail(new Overloaded({}))))
      )
  }
  const results: Record<keyof typeof variants, Array<number>> = { bare: [], protect: [], wrap: [] }
  // One unreported warm-up trial each, then the trials in turn.
  for (let trial = 0; trial <= TRIALS; trial++) {
    for (const [name, run] of Object.entries(variants) as Array<[keyof typeof variants, () => Promise<number>]>) {
      progress(`trip ${trial === 0 ? "warm-up" : `${trial}/${TRIALS}`}: ${name}`)
      const ms = await run()
      if (trial > 0) results[name].push(ms)
    }
  }
  return { bare: median(results.bare), protect: median(results.protect), wrap: median(results.wrap) }
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

const main = async () => {
  const started = performance.now()
  printHeader(`fleetguard benchmark${FULL ? " (--full)" : ""}`)
  console.log()

  // Memory first, on a fresh heap.
  progress("memory of 100,000 waiters")
  const m = await Effect.runPromise(memory)
  console.log(`2. Heap per caller, ${count(WAITERS)} callers queued on one permit`)
  console.log()
  printTable(
    ["waiting on", "bytes/caller", "target", "met"],
    [
      [
        "Concurrency.withPermit",
        fixed(m.fleetguard, 0),
        `≤ ${fixed(m.effect, 0)} (Semaphore)`,
        m.fleetguard <= m.effect ? "yes" : "NO"
      ],
      ["Effect Semaphore.withPermits", fixed(m.effect, 0), "", ""],
      ["an idle fiber (Effect.never)", fixed(m.idle, 0), "", ""]
    ]
  )
  console.log()

  const runtime = ManagedRuntime.make(perCallLayer)
  try {
    printPerCall(await runtime.runPromise(perCall))
  } finally {
    await runtime.dispose()
  }
  console.log()

  const t = await trips()
  console.log(
    `3. A trip with ${count(IN_FLIGHT)} calls in flight: ms until every caller has its CircuitOpen (median of ${TRIALS})`
  )
  console.log()
  printTable(
    ["through", "ms", "× bare interrupt", "target", "met"],
    [
      ["interrupting 10,000 bare fibers", fixed(t.bare, 1), "1.00×", "", ""],
      [
        "CircuitBreaker.protect",
        fixed(t.protect, 1),
        `${fixed(t.protect / t.bare, 2)}×`,
        "≤ 1.5×",
        t.protect <= 1.5 * t.bare ? "yes" : "NO"
      ],
      [
        "Guards.wrap",
        fixed(t.wrap, 1),
        `${fixed(t.wrap / t.bare, 2)}×`,
        "≤ 1.5×",
        t.wrap <= 1.5 * t.bare ? "yes" : "NO"
      ]
    ]
  )
  console.log()
  console.log(`total ${fixed((performance.now() - started) / 1000, 0)} s`)
}

await main()
