import { type ChildProcess, spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { expect, it } from "@effect/vitest"
import { Budget, CircuitBreaker, Concurrency } from "@fleetguard/core"
import { FakeAnthropic, type RedisServer } from "@fleetguard/testing"
import { Clock, Effect, Fiber } from "effect"
import { guardsFor, type Orders, type Report } from "./orders.js"
import { freshPrefix, withRedis } from "./support.js"

const workerPath = fileURLToPath(new URL("./fleetWorker.ts", import.meta.url))

interface Worker {
  readonly child: ChildProcess
  readonly ready: Promise<void>
  readonly report: Promise<Report>
  readonly tell: (word: string) => void
}

const startWorker = (orders: Orders): Worker => {
  const child = spawn(process.execPath, ["--import", "tsx", workerPath], {
    env: { ...process.env, FLEET: JSON.stringify(orders) },
    stdio: ["pipe", "pipe", "inherit"]
  })
  let output = ""
  let signalReady: () => void = () => undefined
  const ready = new Promise<void>((resolve) => {
    signalReady = resolve
  })
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString()
    if (output.includes("ready\n")) signalReady()
  })
  const report = new Promise<Report>((resolve, reject) =>
    child.once("exit", (code) => {
      const last = output.trim().split("\n").at(-1) ?? ""
      if (code === 0) resolve(JSON.parse(last) as Report)
      else reject(new Error(`worker exited with ${code}: ${last}`))
    })
  )
  report.catch(() => undefined)
  return { child, ready, report, tell: (word) => child.stdin?.write(`${word}\n`) }
}

/** Workers for the scope: killed if still running when it closes. */
const workers = (count: number, orders: (index: number) => Orders) =>
  Effect.acquireRelease(
    Effect.sync(() => Array.from({ length: count }, (_, i) => startWorker(orders(i)))),
    (started) =>
      Effect.sync(() => {
        for (const worker of started) if (worker.child.exitCode === null) worker.child.kill("SIGKILL")
      })
  )

const allReady = (started: ReadonlyArray<Worker>) => Effect.promise(() => Promise.all(started.map((w) => w.ready)))
const reports = (started: ReadonlyArray<Worker>) => Effect.promise(() => Promise.all(started.map((w) => w.report)))

const hanging = (fake: FakeAnthropic.FakeAnthropicService) =>
  Effect.map(fake.requests, (requests) => requests.filter((r) => r.outcome === "in-flight").length)

/** Polls until `done` holds, on real time, at most `seconds`. */
const until = <A, R>(read: Effect.Effect<A, never, R>, done: (a: A) => boolean, seconds = 60) =>
  Effect.gen(function* () {
    for (;;) {
      const a = yield* read
      if (done(a)) return a
      yield* Effect.sleep("20 millis")
    }
  }).pipe(Effect.timeoutFail({ duration: `${seconds} seconds`, onTimeout: () => new Error("condition never held") }))

const ordersFor =
  (server: RedisServer.RedisServer, fake: FakeAnthropic.FakeAnthropicService, prefix: string, over: Partial<Orders>) =>
  (): Orders => ({
    scenario: "spend",
    redisUrl: server.url,
    prefix,
    fakeUrl: fake.baseURL,
    apiKey: fake.apiKey,
    agents: 25,
    calls: 4,
    limitUsd: 0.02,
    perAgentLimitUsd: 0.02,
    maxConcurrency: 5,
    failureThreshold: 1_000,
    lease: 4_000,
    timeout: 2_000,
    ...over
  })

/** A FakeAnthropic that never answers a request whose content is "hang". */
const hangingFake = FakeAnthropic.make({
  script: ({ body }) => (JSON.stringify(body).includes('"hang"') ? FakeAnthropic.hang : undefined)
})

withRedis("Redis guards across processes", (server) => {
  it.live(
    "4 processes × 25 agents share one budget and one concurrency limit against FakeAnthropic",
    () =>
      Effect.gen(function* () {
        const fake = yield* FakeAnthropic.make({ latency: "20 millis" })
        const orders = ordersFor(server(), fake, freshPrefix(), {})
        const started = yield* workers(4, orders)
        const results = yield* reports(started)
        const fleet = yield* Effect.provide(
          Effect.flatMap(Budget, (budget) => budget.snapshot),
          guardsFor(orders())
        )
        const spent = results.reduce((sum, r) => sum + r.costUsd, 0)
        expect(fleet.spentUsd).toBeLessThanOrEqual(orders().limitUsd)
        expect(fleet.reservedUsd).toBe(0)
        expect(spent).toBeCloseTo(fleet.spentUsd, 9)
        // The budget was what stopped the fleet: calls were made, and calls were refused.
        expect(results.reduce((n, r) => n + r.ok, 0)).toBeGreaterThan(0)
        expect(results.reduce((n, r) => n + (r.errors.BudgetExceeded ?? 0), 0)).toBeGreaterThan(0)
        expect(yield* fake.peakInFlight).toBeLessThanOrEqual(orders().maxConcurrency)
      }).pipe(Effect.scoped),
    180_000
  )

  it.live(
    "a trip in one process ends the calls in flight in every process",
    () =>
      Effect.gen(function* () {
        const fake = yield* hangingFake
        const orders = ordersFor(server(), fake, freshPrefix(), {
          scenario: "hang",
          agents: 3,
          maxConcurrency: 50,
          limitUsd: 10,
          perAgentLimitUsd: 1,
          failureThreshold: 3
        })
        const started = yield* workers(4, orders)
        yield* allReady(started)
        yield* until(hanging(fake), (n) => n === 12)
        started[0]?.tell("trip")
        const results = yield* reports(started)
        expect(results.map((r) => r.interrupted)).toEqual([3, 3, 3, 3])
        yield* fake.awaitIdle
        const requests = yield* fake.requests
        expect(requests.filter((r) => r.outcome === "client-closed")).toHaveLength(12)
        expect(yield* Effect.provide(CircuitBreaker.state, guardsFor(orders()))).toBe("Open")
      }).pipe(Effect.scoped),
    180_000
  )

  it.live(
    "a process killed mid-call: its permits come back when the lease runs out, its reservations charged in full",
    () =>
      Effect.gen(function* () {
        const fake = yield* hangingFake
        const orders = ordersFor(server(), fake, freshPrefix(), {
          scenario: "hang",
          agents: 3,
          maxConcurrency: 3,
          limitUsd: 10,
          perAgentLimitUsd: 1,
          lease: 3_000,
          timeout: 1_000
        })
        const [worker] = yield* workers(1, orders)
        yield* until(hanging(fake), (n) => n === 3)
        yield* Effect.provide(
          Effect.gen(function* () {
            const before = yield* Budget.snapshot
            expect(before.reservedUsd).toBeGreaterThan(0)
            expect((yield* Concurrency.snapshot).inFlight).toBe(3)
            worker?.child.kill("SIGKILL")
            const killedAt = yield* Clock.currentTimeMillis
            // A caller here waits for a permit the dead process held: it gets one when the lease runs out.
            const waiting = yield* Effect.fork(Concurrency.withPermit(Clock.currentTimeMillis))
            const after = yield* until(Budget.snapshot, (s) => s.reservedUsd === 0)
            expect(after.spentUsd).toBeCloseTo(before.reservedUsd, 9)
            const grantedAt = yield* Fiber.join(waiting)
            expect(grantedAt).toBeGreaterThanOrEqual(killedAt)
            expect((yield* Concurrency.snapshot).inFlight).toBe(0)
          }),
          guardsFor(orders())
        )
      }).pipe(Effect.scoped),
    180_000
  )
})
