/**
 * HTTP benchmark, run with `tsx bench/http.ts`.
 *
 * 1,000 calls at concurrency 50 against FakeAnthropic (zero latency, in a process of its own on
 * this machine's loopback, so that its work is not counted as the client's), through the bare SDK
 * and through the guarded `LlmClient` over `AnthropicProvider` (every guard on, the same SDK
 * underneath): calls per second for each, and the overhead ratio. The same for streamed calls.
 * Rounds alternate between the variants, after a warm-up, and the median is kept, so that JIT
 * warm-up and GC land on every side alike.
 */

import { spawn } from "node:child_process"
import { once } from "node:events"
import { performance } from "node:perf_hooks"
import { createInterface } from "node:readline"
import Anthropic from "@anthropic-ai/sdk"
import { AnthropicProvider } from "@fleetguard/anthropic"
import { type CompletionRequest, Guards, LlmClient } from "@fleetguard/core"
import { FakeAnthropic } from "@fleetguard/testing"
import { Effect, Layer, ManagedRuntime, Redacted, Stream } from "effect"
import { collectGarbage, count, FULL, fixed, median, printHeader, printTable, progress } from "./support.js"

const CALLS = 1_000
const CONCURRENCY = 50
const ROUNDS = FULL ? 7 : 3
const WARMUP_ROUNDS = FULL ? 2 : 1

const prompt = "Summarise the incident report in two sentences."
const request: CompletionRequest = {
  model: "claude-haiku-4-5",
  maxTokens: 64,
  messages: [{ role: "user", content: prompt }]
}
const params = {
  model: request.model,
  max_tokens: request.maxTokens,
  messages: [{ role: "user" as const, content: prompt }]
}

interface Run {
  readonly ms: number
  /** This process's CPU time (user + system), in µs: the server's is not in it. */
  readonly cpuUs: number
}

/** CALLS calls of `call`, CONCURRENCY at a time (a pool of workers): wall time and CPU time. */
const pool = async (call: () => Promise<unknown>): Promise<Run> => {
  let next = 0
  const cpu = process.cpuUsage()
  const start = performance.now()
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < CALLS) {
        next++
        await call()
      }
    })
  )
  const ms = performance.now() - start
  const used = process.cpuUsage(cpu)
  return { ms, cpuUs: used.user + used.system }
}

/** Starts FakeAnthropic in its own process (24 output tokens a reply) and reads its URL. */
const startServer = async () => {
  const child = spawn(process.execPath, ["--import", "tsx", "packages/testing/src/bin/fake-anthropic.ts"], {
    stdio: ["ignore", "pipe", "inherit"]
  })
  const lines = createInterface({ input: child.stdout })
  for await (const line of lines) {
    const url = /listening on (\S+)/.exec(line)?.[1]
    if (url !== undefined)
      return {
        url,
        stop: () => {
          child.kill("SIGINT")
          return once(child, "exit")
        }
      }
  }
  throw new Error("FakeAnthropic did not start")
}

const main = async () => {
  printHeader(`HTTP: ${count(CALLS)} calls at concurrency ${CONCURRENCY} against FakeAnthropic (zero latency)`)

  const server = await startServer()
  const fake = { apiKey: FakeAnthropic.defaultApiKey, baseURL: server.url }
  const sdk = new Anthropic({ apiKey: fake.apiKey, baseURL: fake.baseURL, maxRetries: 0, logLevel: "off" })

  const guarded = ManagedRuntime.make(
    LlmClient.layer.pipe(
      Layer.provide(
        Layer.mergeAll(
          AnthropicProvider.layer({ apiKey: Redacted.make(fake.apiKey), baseURL: fake.baseURL }),
          Guards.layer({
            budget: { limitUsd: 1_000_000, perAgentLimitUsd: 1_000_000 },
            concurrency: { maxConcurrency: CONCURRENCY },
            depth: { maxDepth: 4, maxFanOut: 8 },
            breaker: { failureThreshold: 100, resetAfter: "30 seconds", halfOpenMaxCalls: 2 }
          })
        )
      )
    )
  )
  const client = await guarded.runPromise(LlmClient)

  const variants = {
    "bare SDK, complete": () => pool(() => sdk.messages.create(params)),
    "LlmClient.complete": () => pool(() => Effect.runPromise(client.complete(request))),
    "bare SDK, stream": () =>
      pool(async () => {
        for await (const _ of await sdk.messages.create({ ...params, stream: true })) {
          // Read every event, as a caller would.
        }
      }),
    "LlmClient.stream": () => pool(() => Effect.runPromise(Stream.runDrain(client.stream(request))))
  } as const
  type Variant = keyof typeof variants

  const runs: Record<Variant, Array<Run>> = {
    "bare SDK, complete": [],
    "LlmClient.complete": [],
    "bare SDK, stream": [],
    "LlmClient.stream": []
  }
  for (let round = 0; round < WARMUP_ROUNDS + ROUNDS; round++) {
    for (const variant of Object.keys(variants) as Array<Variant>) {
      progress(`${round < WARMUP_ROUNDS ? "warm-up" : `round ${round - WARMUP_ROUNDS + 1}/${ROUNDS}`}: ${variant}`)
      collectGarbage.run()
      const run = await variants[variant]()
      if (round >= WARMUP_ROUNDS) runs[variant].push(run)
    }
  }

  const ms = (variant: Variant) => median(runs[variant].map((r) => r.ms))
  const cpuPerCall = (variant: Variant) => median(runs[variant].map((r) => r.cpuUs)) / CALLS
  const perSecond = (variant: Variant) => CALLS / (ms(variant) / 1000)
  const row = (variant: Variant, bare: Variant) => [
    variant,
    fixed(ms(variant), 0),
    count(Math.round(perSecond(variant))),
    variant === bare ? "1.00×" : `${fixed(perSecond(bare) / perSecond(variant), 2)}×`,
    fixed(cpuPerCall(variant), 0),
    variant === bare ? "—" : fixed(cpuPerCall(variant) - cpuPerCall(bare), 0)
  ]
  console.log()
  printTable(
    ["variant", "ms (median)", "calls/s", "overhead ratio", "client CPU µs/call", "added CPU µs/call"],
    [
      row("bare SDK, complete", "bare SDK, complete"),
      row("LlmClient.complete", "bare SDK, complete"),
      row("bare SDK, stream", "bare SDK, stream"),
      row("LlmClient.stream", "bare SDK, stream")
    ]
  )
  console.log()
  console.log(
    `overhead ratio = bare calls/s ÷ guarded calls/s (median of ${ROUNDS} rounds after ${WARMUP_ROUNDS} warm-up). ` +
      "The server answers at once, so the client's CPU is the bottleneck: against a real API, where a call " +
      "takes seconds, what counts is the added CPU per call."
  )

  await guarded.dispose()
  await server.stop()
}

await main()
