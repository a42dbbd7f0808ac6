/**
 * Four worker processes, each with ten agents, against one FakeAnthropic — first with in-memory
 * guards (each process its own $0.10 budget and 5 calls at once), then with Redis guards (one
 * $0.10 budget and 5 calls at once for the whole fleet). Prints what the fleet spent and the most
 * requests the server had in flight at once, side by side.
 *
 *   npx tsx examples/multi-process/main.ts
 *
 * Uses FLEETGUARD_REDIS_URL when set, else starts a redis-server (on PATH) of its own.
 */
import { spawn } from "node:child_process"
import { randomUUID } from "node:crypto"
import { fileURLToPath } from "node:url"
import { FakeAnthropic, RedisServer } from "@fleetguard/testing"
import { Effect } from "effect"

const WORKERS = 4
const LIMIT_USD = 0.1
const MAX_CONCURRENCY = 5
const worker = fileURLToPath(new URL("./worker.ts", import.meta.url))

interface Spent {
  readonly spentUsd: number
  readonly answered: number
  readonly refused: number
}

const runWorker = (env: Record<string, string>) =>
  new Promise<Spent>((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", worker], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "inherit"]
    })
    let output = ""
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString()
    })
    child.once("exit", (code) =>
      code === 0
        ? resolve(JSON.parse(output.trim().split("\n").at(-1) ?? "{}") as Spent)
        : reject(new Error(`worker exited with ${code}`))
    )
  })

/** One run of the fleet against a fresh FakeAnthropic: the workers' spend and the server's peak. */
const fleet = (env: Record<string, string>) =>
  Effect.scoped(
    Effect.gen(function* () {
      // 400 tokens a reply: about $0.002 a call on Haiku 4.5, held as about $0.005 until it settles.
      const fake = yield* FakeAnthropic.make({ latency: "100 millis", outputTokens: 400 })
      const spent = yield* Effect.promise(() =>
        Promise.all(
          Array.from({ length: WORKERS }, () =>
            runWorker({
              ...env,
              ANTHROPIC_API_KEY: fake.apiKey,
              ANTHROPIC_BASE_URL: fake.baseURL,
              FLEETGUARD_BUDGET_USD: String(LIMIT_USD),
              FLEETGUARD_AGENT_BUDGET_USD: String(LIMIT_USD),
              FLEETGUARD_MAX_CONCURRENCY: String(MAX_CONCURRENCY)
            })
          )
        )
      )
      return {
        spentUsd: spent.reduce((sum, w) => sum + w.spentUsd, 0),
        answered: spent.reduce((sum, w) => sum + w.answered, 0),
        refused: spent.reduce((sum, w) => sum + w.refused, 0),
        peak: yield* fake.peakInFlight
      }
    })
  )

const redisUrl = Effect.acquireRelease(
  Effect.promise(async () => {
    const given = process.env.FLEETGUARD_REDIS_URL
    if (given !== undefined) return { url: given, close: async () => undefined }
    const server = await RedisServer.start()
    return { url: server.url, close: server.close }
  }),
  (redis) => Effect.promise(redis.close)
)

const main = Effect.gen(function* () {
  const redis = yield* redisUrl
  console.log(
    `${WORKERS} processes × 10 agents × 5 calls; fleet limits: $${LIMIT_USD}, ${MAX_CONCURRENCY} calls at once\n`
  )
  const { FLEETGUARD_REDIS_URL: _, ...withoutRedis } = process.env
  const memory = yield* fleet(
    Object.fromEntries(Object.entries(withoutRedis).filter(([, v]) => v !== undefined)) as Record<string, string>
  )
  const shared = yield* fleet({
    FLEETGUARD_REDIS_URL: redis.url,
    FLEETGUARD_REDIS_PREFIX: `example:${randomUUID()}`
  })
  const row = (name: string, r: typeof memory) =>
    `${name.padEnd(20)} $${r.spentUsd.toFixed(4).padStart(8)}  ${String(r.peak).padStart(14)}  ${String(r.answered).padStart(8)}  ${String(r.refused).padStart(7)}`
  console.log(
    `${"guards".padEnd(20)} ${"fleet spend".padStart(9)}  ${"peak in flight".padStart(14)}  answered  refused`
  )
  console.log(row("in memory (each)", memory))
  console.log(row("Redis (shared)", shared))
  console.log(
    `\nIn memory each process keeps its own limits: up to ${WORKERS}× the budget and ${WORKERS}× the concurrency.` +
      `\nOn Redis the ${WORKERS} processes are one fleet: spend ≤ $${LIMIT_USD}, peak ≤ ${MAX_CONCURRENCY}.`
  )
})

Effect.runPromise(Effect.scoped(main)).catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
