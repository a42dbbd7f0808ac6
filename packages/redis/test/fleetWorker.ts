/**
 * One worker process of a multi-process test: its own agents, calling FakeAnthropic through
 * LlmClient and AnthropicProvider, guarded by RedisGuards on the fleet's prefix. It reads its
 * orders from FLEET (JSON), prints "ready" once its guards are up, and a last line of JSON with
 * what its calls did.
 *
 * Scenarios: "spend" — every agent makes its calls; "hang" — every agent makes one call the fake
 * never answers (content "hang"), and, when told "trip" on stdin, this process fails calls through
 * the breaker until it trips.
 */
import { createInterface } from "node:readline"
import { AnthropicProvider } from "@fleetguard/anthropic"
import { Agent, Budget, CircuitBreaker, Depth, LlmClient, Overloaded, Pricing, Retry } from "@fleetguard/core"
import { Effect, Layer, Redacted } from "effect"
import { guardsFor, type Orders, type Report } from "./orders.js"

const orders = JSON.parse(process.env.FLEET ?? "{}") as Orders

const live = LlmClient.layer.pipe(
  Layer.provideMerge(
    Layer.mergeAll(
      guardsFor(orders),
      Depth.layer({ maxDepth: 2, maxFanOut: 4 }),
      Pricing.layer(),
      Retry.layer({ maxAttempts: 1 }),
      AnthropicProvider.layer({ apiKey: Redacted.make(orders.apiKey), baseURL: orders.fakeUrl })
    )
  )
)

const ask = (content: string) =>
  LlmClient.complete({ model: "claude-haiku-4-5", maxTokens: 64, messages: [{ role: "user", content }] })

const line = (text: string) => Effect.sync(() => process.stdout.write(`${text}\n`))

/** Resolves when the parent writes `word` on stdin. */
const told = (word: string) =>
  Effect.async<void>((resume) => {
    const lines = createInterface({ input: process.stdin })
    lines.on("line", (l) => {
      if (l.trim() !== word) return
      lines.close()
      resume(Effect.void)
    })
  })

const trip = Effect.zipRight(
  told("trip"),
  Effect.forEach(Array.from({ length: orders.failureThreshold }), () =>
    Effect.either(CircuitBreaker.protect(Effect.fail(new Overloaded({}))))
  )
)

const program = Effect.gen(function* () {
  const report = { ok: 0, costUsd: 0, errors: {} as Record<string, number>, interrupted: 0 }
  const failed = (error: { readonly _tag: string }) => {
    report.errors[error._tag] = (report.errors[error._tag] ?? 0) + 1
  }
  const call = (content: string) =>
    ask(content).pipe(
      Effect.match({
        onSuccess: (completion) => {
          report.ok++
          report.costUsd += completion.costUsd
        },
        onFailure: failed
      })
    )
  // A trip interrupts the whole agent: its Agent.run answers CircuitOpen.
  const agent = (i: number) =>
    Agent.run(
      `agent-${process.pid}-${i}`,
      orders.scenario === "hang"
        ? Effect.asVoid(ask("hang"))
        : Effect.forEach(
            Array.from({ length: orders.calls }, (_, n) => n),
            (n) => call(`question ${i}.${n}`)
          )
    ).pipe(
      Effect.catchAll((error) =>
        Effect.sync(() => {
          failed(error)
          if (error._tag === "CircuitOpen" && error.interrupted) report.interrupted++
        })
      )
    )
  // Connected before the agents start: a snapshot waits for Redis to answer.
  yield* Budget.snapshot
  yield* line("ready")
  const agents = Effect.forEach(
    Array.from({ length: orders.agents }, (_, i) => i),
    agent,
    { concurrency: "unbounded" }
  )
  if (orders.scenario === "hang") yield* Effect.fork(trip)
  yield* agents
  yield* line(JSON.stringify(report satisfies Report))
})

Effect.runPromise(Effect.provide(program, live)).then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error)
    process.exit(1)
  }
)
