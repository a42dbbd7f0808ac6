/**
 * Redis guards benchmark, run with `pnpm bench:redis`.
 *
 * A. Latency: one `LlmClient.complete` at a time against an instant in-memory provider, with
 *    in-memory guards and with Redis guards (a local redis-server): µs per call, and what Redis adds.
 * B. Throughput: calls per second at concurrency 64, in 1 process and in 4 processes sharing one
 *    Redis fleet (each process with its own in-memory guards for comparison).
 * C. Round trips: Redis scripts run per guarded call (INFO commandstats), against the target of
 *    one per guard step.
 * D. Lease recovery: a process holding permits is killed (SIGKILL); the time until its permits
 *    are back, against the lease.
 *
 * Uses FLEETGUARD_REDIS_URL when set, else starts the redis-server on PATH.
 */

import { spawn } from "node:child_process"
import { randomUUID } from "node:crypto"
import { performance } from "node:perf_hooks"
import { fileURLToPath } from "node:url"
import {
  Concurrency,
  Depth,
  Guards,
  LlmClient,
  LlmProvider,
  Pricing,
  type ProviderCompletion,
  Retry
} from "@fleetguard/core"
import { RedisGuards } from "@fleetguard/redis"
import { RedisServer } from "@fleetguard/testing"
import { Effect, Layer, ManagedRuntime } from "effect"
import { Redis } from "ioredis"
import { count, FULL, fixed, printHeader, printTable, progress, timeLoop } from "./support.js"

const LATENCY_CALLS = 2_000
const THROUGHPUT_CALLS = 10_000
const CONCURRENCY = 64
const PROCESSES = 4
const ROUNDS = FULL ? 5 : 3
const ROUND_TRIP_CALLS = 1_000
const LEASE_MS = 2_000
const self = fileURLToPath(import.meta.url)

const options = {
  budget: { limitUsd: 1_000_000, perAgentLimitUsd: 1_000_000 },
  concurrency: { maxConcurrency: 1_000 },
  breaker: { failureThreshold: 100, resetAfter: "30 seconds", halfOpenMaxCalls: 2 }
} as const

const answer: ProviderCompletion = {
  text: "ok",
  content: [{ type: "text", text: "ok" }],
  model: "claude-haiku-4-5",
  stopReason: "end_turn",
  usage: { inputTokens: 10, outputTokens: 10, cacheCreationInputTokens: 0, cacheReadInputTokens: 0 }
}
const instant = Layer.succeed(LlmProvider, { complete: () => Effect.succeed(answer) })
const request = { model: "claude-haiku-4-5", maxTokens: 16, messages: [{ role: "user" as const, content: "hi" }] }

type Backend = "memory" | "redis"

const runtimeFor = (backend: Backend, url: string, prefix: string) =>
  ManagedRuntime.make(
    LlmClient.layer.pipe(
      Layer.provide(
        Layer.mergeAll(
          backend === "memory"
            ? Guards.layer({ ...options, depth: { maxDepth: 4, maxFanOut: 8 } })
            : Layer.mergeAll(
                RedisGuards.layer({ url, prefix, ...options }),
                Depth.layer({ maxDepth: 4, maxFanOut: 8 }),
                Pricing.layer()
              ),
          instant,
          Retry.layer({ maxAttempts: 1 })
        )
      )
    )
  )

/** Best of ROUNDS: milliseconds for `calls` calls at `concurrency`. */
const measure = async (backend: Backend, url: string, prefix: string, calls: number, concurrency: number) => {
  const runtime = runtimeFor(backend, url, prefix)
  const client = await runtime.runPromise(LlmClient)
  const loop = (n: number) => runtime.runPromise(timeLoop(n, concurrency, () => client.complete(request)))
  await loop(Math.min(calls, 1_000))
  let best = Number.POSITIVE_INFINITY
  for (let round = 0; round < ROUNDS; round++) best = Math.min(best, await loop(calls))
  await runtime.dispose()
  return best
}

// ---------------------------------------------------------------------------------------------
// Child processes: "throughput" measures and prints its milliseconds; "hold" takes permits and waits.
// ---------------------------------------------------------------------------------------------

const child = (args: ReadonlyArray<string>) => {
  const process_ = spawn(process.execPath, ["--import", "tsx", self, ...args], { stdio: ["pipe", "pipe", "inherit"] })
  let output = ""
  process_.stdout.on("data", (chunk: Buffer) => {
    output += chunk.toString()
  })
  const line = (match: RegExp) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const found = output.split("\n").find((l) => match.test(l))
        if (found !== undefined) resolve(found)
      }
      process_.stdout.on("data", check)
      process_.once("exit", (code) => reject(new Error(`bench child exited with ${code}`)))
      check()
    })
  return { process: process_, line, go: () => process_.stdin.write("go\n") }
}

const waitForGo = () =>
  new Promise<void>((resolve) => {
    process.stdin.on("data", (data: Buffer) => {
      if (data.toString().includes("go")) resolve()
    })
  })

const asChild = async (mode: string, backend: Backend, url: string, prefix: string) => {
  if (mode === "throughput") {
    const runtime = runtimeFor(backend, url, prefix)
    const client = await runtime.runPromise(LlmClient)
    await runtime.runPromise(timeLoop(1_000, CONCURRENCY, () => client.complete(request)))
    console.log("ready")
    await waitForGo()
    const ms = await runtime.runPromise(timeLoop(THROUGHPUT_CALLS, CONCURRENCY, () => client.complete(request)))
    console.log(`ms ${ms}`)
    await runtime.dispose()
    process.exit(0)
  }
  // "hold": three permits, held until killed.
  const runtime = ManagedRuntime.make(
    RedisGuards.layer({ url, prefix, lease: LEASE_MS, ...options, concurrency: { maxConcurrency: 3 } })
  )
  for (let i = 0; i < 3; i++) runtime.runFork(Concurrency.withPermit(Effect.never))
  await runtime.runPromise(
    Effect.repeat(Concurrency.snapshot, { until: (s) => s.inFlight === 3 }).pipe(Effect.zipRight(Effect.never))
  )
}

/** Aggregate calls per second of PROCESSES processes running at once. */
const fleetThroughput = async (backend: Backend, url: string) => {
  const prefix = `bench:${randomUUID()}`
  const children = Array.from({ length: PROCESSES }, () => child(["throughput", backend, url, prefix]))
  await Promise.all(children.map((c) => c.line(/^ready/)))
  const start = performance.now()
  for (const c of children) c.go()
  await Promise.all(children.map((c) => c.line(/^ms /)))
  return (PROCESSES * THROUGHPUT_CALLS) / ((performance.now() - start) / 1000)
}

const scriptsRun = async (url: string) => {
  const redis = new Redis(url)
  const stats = await redis.info("commandstats")
  redis.disconnect()
  const calls = (name: string) => Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(stats)?.[1] ?? 0)
  return calls("evalsha") + calls("eval")
}

/** Scripts Redis ran per call, over ROUND_TRIP_CALLS calls made one at a time. */
const roundTrips = async (url: string) => {
  const runtime = runtimeFor("redis", url, `bench:${randomUUID()}`)
  const client = await runtime.runPromise(LlmClient)
  const calls = (n: number) => runtime.runPromise(timeLoop(n, 1, () => client.complete(request)))
  await calls(100)
  const before = await scriptsRun(url)
  await calls(ROUND_TRIP_CALLS)
  const scripts = (await scriptsRun(url)) - before
  await runtime.dispose()
  return scripts / ROUND_TRIP_CALLS
}

const leaseRecovery = async (url: string) => {
  const prefix = `bench:${randomUUID()}`
  const holder = child(["hold", "redis", url, prefix])
  const runtime = ManagedRuntime.make(
    RedisGuards.layer({ url, prefix, lease: LEASE_MS, ...options, concurrency: { maxConcurrency: 3 } })
  )
  await runtime.runPromise(Effect.repeat(Concurrency.snapshot, { until: (s) => s.inFlight === 3 }))
  holder.process.kill("SIGKILL")
  const killed = performance.now()
  // A caller waiting for one of the dead process's permits: how long until it has one.
  await runtime.runPromise(Concurrency.withPermit(Effect.void))
  const ms = performance.now() - killed
  await runtime.dispose()
  return ms
}

const main = async () => {
  printHeader("Redis guards: LlmClient.complete against an instant provider, in-memory guards vs Redis guards")
  const given = process.env.FLEETGUARD_REDIS_URL
  const server = given === undefined ? await RedisServer.start() : undefined
  const url = given ?? server?.url ?? ""
  console.log(`redis: ${given === undefined ? "a local redis-server started for the bench" : "FLEETGUARD_REDIS_URL"}\n`)

  const latency = async (backend: Backend) => {
    progress(`A: latency, ${backend}`)
    return ((await measure(backend, url, `bench:${randomUUID()}`, LATENCY_CALLS, 1)) * 1000) / LATENCY_CALLS
  }
  const memoryUs = await latency("memory")
  const redisUs = await latency("redis")

  console.log("A. Latency, one call at a time")
  printTable(
    ["guards", "µs per call", "added by Redis"],
    [
      ["in memory", fixed(memoryUs, 1), "—"],
      ["Redis", fixed(redisUs, 1), `${fixed(redisUs - memoryUs, 1)} µs`]
    ]
  )

  const throughput = async (backend: Backend) => {
    progress(`B: throughput, ${backend}`)
    return (
      THROUGHPUT_CALLS / ((await measure(backend, url, `bench:${randomUUID()}`, THROUGHPUT_CALLS, CONCURRENCY)) / 1000)
    )
  }
  console.log(`\nB. Throughput, concurrency ${CONCURRENCY} per process`)
  printTable(
    ["guards", "1 process, calls/s", `${PROCESSES} processes, calls/s`],
    [
      [
        "in memory (per process)",
        count(Math.round(await throughput("memory"))),
        count(Math.round(await fleetThroughput("memory", url)))
      ],
      [
        "Redis (one fleet)",
        count(Math.round(await throughput("redis"))),
        count(Math.round(await fleetThroughput("redis", url)))
      ]
    ]
  )

  console.log("\nC. Redis round trips per guarded call")
  console.log(`   ${fixed(await roundTrips(url), 2)} scripts per call (one per guard step; see docs/benchmarks.md)`)

  console.log(`\nD. Lease recovery (lease ${LEASE_MS} ms)`)
  console.log(`   permit of a SIGKILLed process back after ${fixed(await leaseRecovery(url), 0)} ms`)

  await server?.close()
}

const [mode, backend, url, prefix] = process.argv.slice(2)
if (mode !== undefined && (backend === "memory" || backend === "redis") && url !== undefined && prefix !== undefined) {
  asChild(mode, backend, url, prefix)
} else {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error)
      process.exit(1)
    }
  )
}
