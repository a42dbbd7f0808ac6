/**
 * Guards.wrap can say what it called: given `model` (and `usage`), a wrapped call publishes its
 * `CallSettled` as an LlmClient call does, so that it reaches the journal and `fleetguard status`;
 * the guards' refusals count in `fleetguard_llm_rejections` either way.
 */
import { FileSystem } from "@effect/platform"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { describe, expect, it } from "@effect/vitest"
import {
  Agent,
  BudgetExceeded,
  CircuitBreaker,
  Depth,
  Events,
  type GuardEvent,
  GuardEvents,
  Guards,
  Journal,
  Metrics,
  Overloaded,
  type Usage,
  type WrapOptions
} from "@fleetguard/core"
import { Chunk, Effect, Fiber, Layer, Metric, Queue } from "effect"
import { inProcess } from "../support/cli.js"
import { defaultGuards, paths } from "../support/client.js"

/** What another SDK answers: its text, its own usage's shape, what it cost. */
interface Reply {
  readonly text: string
  readonly usage: { readonly prompt_tokens: number; readonly completion_tokens: number }
}
const reply: Reply = { text: "hi", usage: { prompt_tokens: 120, completion_tokens: 30 } }
const tokensOf = (r: Reply): Usage => ({
  inputTokens: r.usage.prompt_tokens,
  outputTokens: r.usage.completion_tokens,
  cacheCreationInputTokens: 0,
  cacheReadInputTokens: 0
})
const reported: WrapOptions<Reply> = { estimateUsd: 0.05, actualUsd: () => 0.01, model: "gpt-5", usage: tokensOf }

const settledIn = (events: ReadonlyArray<GuardEvent>) =>
  events.filter((e): e is Events.CallSettled => e._tag === "CallSettled")

/** The CallSettled events published while `self` runs, and its result. */
const settling = <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.scoped(
    Effect.gen(function* () {
      const events = yield* Events.subscribe
      const result = yield* self
      return [result, settledIn(Chunk.toReadonlyArray(yield* Queue.takeAll(events)))] as const
    })
  )

const counted = (metric: Metric.Metric.Counter<number>) => Effect.map(Metric.value(metric), (s) => s.count)
const rejections = (reason: string) => counted(Metric.tagged(Metrics.llmRejections, "reason", reason))
const calls = (outcome: string) => counted(Metric.tagged(Metrics.llmCalls, "outcome", outcome))

const event = (fields: Partial<ConstructorParameters<typeof Events.CallSettled>[0]>) =>
  new Events.CallSettled({
    at: 0,
    agentId: "sdk-agent",
    model: "gpt-5",
    outcome: "success",
    attempts: 1,
    reservedUsd: 0.05,
    costUsd: 0.01,
    inputTokens: 0,
    outputTokens: 0,
    cacheCreationInputTokens: 0,
    cacheReadInputTokens: 0,
    ...fields
  })

describe.each(paths)("Guards.wrap with model and usage ($name)", ({ wrap }) => {
  const guards = (breaker = defaultGuards.breaker) =>
    Layer.mergeAll(wrap(Guards.layer({ ...defaultGuards, breaker })), GuardEvents.layer())

  it.effect("a success: CallSettled with the agent, the model, its usage and what actualUsd charged", () =>
    Effect.gen(function* () {
      const before = yield* calls("success")
      const [result, settled] = yield* settling(Agent.run("sdk-agent", Guards.wrap(reported)(Effect.succeed(reply))))
      expect(result).toBe(reply)
      expect(settled).toEqual([event({ inputTokens: 120, outputTokens: 30 })])
      expect((yield* calls("success")) - before).toBe(1)
    }).pipe(Effect.provide(guards()))
  )

  it.effect("model alone: reported with 0 tokens; neither: not reported", () =>
    Effect.gen(function* () {
      const before = yield* calls("success")
      const [, settled] = yield* settling(
        Agent.run(
          "sdk-agent",
          Effect.zipRight(
            Guards.wrap({ estimateUsd: 0.05, actualUsd: () => 0.01, model: "gpt-5" })(Effect.succeed(reply)),
            Guards.wrap({ estimateUsd: 0.05, actualUsd: () => 0.02 })(Effect.succeed(reply))
          )
        )
      )
      expect(settled).toEqual([event({})])
      expect((yield* calls("success")) - before).toBe(1)
    }).pipe(Effect.provide(guards()))
  )

  it.effect("a usage that throws or answers no usage: reported with 0 tokens, charged actualUsd, never a defect", () =>
    Effect.gen(function* () {
      const { proxy, revoke } = Proxy.revocable({}, {})
      revoke()
      const bad: ReadonlyArray<(r: Reply) => unknown> = [
        () => {
          throw new Error("SECRET")
        },
        () => null,
        () => "120 tokens",
        () => ({ ...tokensOf(reply), inputTokens: -1 }),
        () => ({ ...tokensOf(reply), outputTokens: 1.5 }),
        () => ({ ...tokensOf(reply), cacheReadInputTokens: Number.NaN }),
        () => ({ inputTokens: 120 }),
        () => proxy
      ]
      for (const usage of bad) {
        const options = { ...reported, usage: usage as (r: Reply) => Usage }
        const [result, settled] = yield* settling(Agent.run("sdk-agent", Guards.wrap(options)(Effect.succeed(reply))))
        expect(result).toBe(reply)
        expect(settled).toEqual([event({})])
      }
      // A cache count another SDK does not have may be left out.
      const [, settled] = yield* settling(
        Agent.run(
          "sdk-agent",
          Guards.wrap({ ...reported, usage: () => ({ inputTokens: 1, outputTokens: 2 }) as Usage })(
            Effect.succeed(reply)
          )
        )
      )
      expect(settled).toEqual([event({ inputTokens: 1, outputTokens: 2 })])
    }).pipe(Effect.provide(guards()))
  )

  it.effect("a failure, and a refusal by the open breaker: each reported as LlmClient reports it", () =>
    Effect.gen(function* () {
      const failing = Guards.wrap(reported)(Effect.fail(new Overloaded({ message: "busy" })))
      const [, failed] = yield* settling(Agent.run("sdk-agent", Effect.either(failing)))
      expect(failed).toEqual([event({ outcome: "failure", costUsd: 0, error: "Overloaded" })])
      expect(yield* CircuitBreaker.state).toBe("Open")

      const refusedBefore = yield* rejections("CircuitOpen")
      const [, refused] = yield* settling(Agent.run("sdk-agent", Effect.either(Guards.wrap(reported)(Effect.never))))
      expect(refused).toEqual([event({ outcome: "failure", attempts: 0, costUsd: 0, error: "CircuitOpen" })])
      expect((yield* rejections("CircuitOpen")) - refusedBefore).toBe(1)
    }).pipe(Effect.provide(guards({ failureThreshold: 1, resetAfter: "30 seconds", halfOpenMaxCalls: 1 })))
  )

  it.effect("an interruption after the call started: reported interrupted, charged the reservation", () =>
    Effect.gen(function* () {
      const [, settled] = yield* settling(
        Effect.gen(function* () {
          const fiber = yield* Effect.fork(Agent.run("sdk-agent", Guards.wrap(reported)(Effect.never)))
          yield* Effect.yieldNow()
          yield* Fiber.interrupt(fiber)
        })
      )
      expect(settled).toEqual([event({ outcome: "interrupted", costUsd: 0.05 })])
    }).pipe(Effect.provide(guards()))
  )
})

describe("Guards.wrap's refusals count in fleetguard_llm_rejections", () => {
  it.effect("over budget, past the depth limit, at an open breaker; not the wrapped effect's own errors", () =>
    Effect.gen(function* () {
      const plain = { estimateUsd: 0.05, actualUsd: () => 0.01 }
      const before = yield* Effect.all([
        rejections("BudgetExceeded"),
        rejections("DepthLimitExceeded"),
        rejections("CircuitOpen")
      ])
      yield* Effect.flip(Guards.wrap({ ...plain, estimateUsd: 1_000 })(Effect.void))
      // One level down, under a depth limit of 1 (Depth.nested itself refuses to go as deep as the limit).
      yield* Effect.flip(
        Depth.nested(Effect.provide(Guards.wrap(plain)(Effect.void), Depth.layer({ maxDepth: 1, maxFanOut: 1 })))
      )
      // Its own BudgetExceeded (a guarded call inside, say) was counted where it was refused.
      const inner = new BudgetExceeded({
        scope: "agent",
        agentId: "x",
        requestedUsd: 1,
        remainingUsd: 0,
        limitUsd: 1
      })
      yield* Effect.flip(Guards.wrap(plain)(Effect.fail(inner)))
      yield* Effect.flip(Guards.wrap(plain)(Effect.fail(new Overloaded({ message: "busy" }))))
      yield* Effect.flip(Guards.wrap(plain)(Effect.void))
      const after = yield* Effect.all([
        rejections("BudgetExceeded"),
        rejections("DepthLimitExceeded"),
        rejections("CircuitOpen")
      ])
      expect(after.map((n, i) => n - (before[i] ?? 0))).toEqual([1, 1, 1])
    }).pipe(
      Effect.provide(
        Guards.layer({
          ...defaultGuards,
          breaker: { failureThreshold: 1, resetAfter: "30 seconds", halfOpenMaxCalls: 1 }
        })
      )
    )
  )
})

describe("Guards.wrap with model and usage, journaled", () => {
  it.scoped("its CallSettled is a journal line, and fleetguard status counts the call and its spend", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const journal = `${yield* fs.makeTempDirectoryScoped()}/journal.jsonl`
      yield* Agent.run("sdk-agent", Guards.wrap(reported)(Effect.succeed(reply))).pipe(
        Effect.provide(Layer.mergeAll(Guards.layer(defaultGuards), Journal.layer({ path: journal })))
      )
      const lines = (yield* Journal.read(journal)).lines
      expect(lines.map((l) => l.event).filter((e) => e._tag === "CallSettled")).toEqual([
        event({ inputTokens: 120, outputTokens: 30 })
      ])
      const status = yield* inProcess(["status", "--json", "--journal", journal])
      expect(status.code).toBe(0)
      const summary = JSON.parse(status.stdout) as {
        fleet: { spentUsd: number }
        agents: ReadonlyArray<{ agentId: string; spentUsd: number; calls: number }>
      }
      expect(summary.fleet.spentUsd).toBe(0.01)
      expect(summary.agents).toEqual([expect.objectContaining({ agentId: "sdk-agent", spentUsd: 0.01, calls: 1 })])
    }).pipe(Effect.provide(Layer.mergeAll(NodeContext.layer, GuardEvents.layer())))
  )
})
