/**
 * What hostile probes found in core (issue 16): costs the ledger cannot hold, requests mutated
 * while their call waits, and values that used to end in a defect instead of a typed error.
 */
import { describe, expect, it } from "@effect/vitest"
import {
  Budget,
  type CompletionRequest,
  Concurrency,
  Events,
  Guards,
  LlmClient,
  LlmProvider,
  Overloaded,
  Pricing
} from "@fleetguard/core"
import { TestProvider } from "@fleetguard/testing"
import { Chunk, Duration, Effect, Fiber, Layer, Queue, Random, Stream, TestClock } from "effect"
import { defaultGuards, paths, request } from "../support/client.js"

/** A provider whose every answer reports `outputTokens` (1e13: no ledger can hold what that costs). */
const reporting = (outputTokens: number) =>
  Layer.succeed(LlmProvider, {
    complete: (r: CompletionRequest) =>
      Effect.succeed({
        text: "x",
        content: [{ type: "text", text: "x" }],
        model: r.model,
        stopReason: "end_turn",
        usage: { inputTokens: 10, outputTokens, cacheCreationInputTokens: 0, cacheReadInputTokens: 0 }
      })
  })

describe.each(paths)(
  "a cost the ledger cannot hold is charged the full reservation, never less ($name)",
  ({ clientOver, wrap }) => {
    it.effect("an answer reporting 1e13 output tokens: complete and stream", () =>
      Effect.gen(function* () {
        const estimate = yield* Pricing.estimate(request())
        const completion = yield* LlmClient.complete(request())
        expect(completion.costUsd).toBe(estimate)
        const parts = Chunk.toReadonlyArray(yield* Stream.runCollect(LlmClient.stream(request())))
        const last = parts.at(-1)
        expect(last?._tag === "Completion" && last.completion.costUsd).toBe(estimate)
        expect(yield* Budget.snapshot).toMatchObject({ spentUsd: 2 * estimate, reservedUsd: 0 })
      }).pipe(Effect.provide(clientOver(reporting(1e13))))
    )

    it.effect("an actualUsd that answers tokens instead of dollars: Guards.wrap and Budget.withReservation", () =>
      Effect.gen(function* () {
        const tokens = () => 1e13
        yield* Guards.wrap(Effect.succeed(1), { estimateUsd: 0.5, actualUsd: tokens })
        expect((yield* Budget.snapshot).spentUsd).toBe(0.5)
        yield* Budget.withReservation(Effect.succeed(1), { usd: 0.25, actualUsd: tokens })
        expect(yield* Budget.snapshot).toMatchObject({ spentUsd: 0.75, reservedUsd: 0 })
      }).pipe(Effect.provide(wrap(Guards.layer(defaultGuards))))
    )
  }
)

type Mutable = { model: string; maxTokens: number; messages: Array<{ role: "user"; content: string }> }

/** A request the test will change under the call's feet. */
const mutable = (): Mutable => ({
  model: "claude-haiku-4-5",
  maxTokens: 10,
  messages: [{ role: "user", content: "hi" }]
})

const mutate = (r: Mutable) =>
  Effect.sync(() => {
    r.maxTokens = 4_096
    const first = r.messages[0]
    if (first) first.content = "x".repeat(400_000)
    r.messages.push({ role: "user", content: "more" })
  })

/** Where a call waits before its request goes out. */
const waits = {
  "for a permit": {
    guards: { concurrency: { maxConcurrency: 1 } },
    script: TestProvider.always(TestProvider.reply({ latency: "10 seconds" })),
    before: Effect.fork(LlmClient.complete(request()))
  },
  "at a closed gate": {
    guards: {},
    script: TestProvider.always(TestProvider.reply()),
    before: Concurrency.pauseFor(Duration.seconds(30))
  },
  "in backoff": {
    guards: {},
    script: (call: TestProvider.CallInfo) =>
      call.index === 0 ? TestProvider.fail(new Overloaded({ message: "busy" })) : TestProvider.reply(),
    before: Effect.void
  }
} as const

describe.each(paths)(
  "a request changed after complete or stream was called is sent as it was priced ($name)",
  ({ client }) => {
    for (const [where, { guards, script, before }] of Object.entries(waits)) {
      for (const how of ["complete", "stream"] as const) {
        it.scoped(`${how}, changed while it waits ${where}`, () =>
          Effect.gen(function* () {
            const events = yield* Events.subscribe
            yield* before
            const asked = mutable()
            const original = structuredClone(asked)
            const call = yield* Effect.fork(
              how === "complete" ? LlmClient.complete(asked) : Stream.runDrain(LlmClient.stream(asked))
            )
            for (let i = 0; i < 20; i++) yield* Effect.yieldNow()
            expect(call.unsafePoll()).toBe(null)
            yield* mutate(asked)
            yield* TestClock.adjust(Duration.minutes(1))
            yield* Fiber.join(call)
            const calls = yield* (yield* TestProvider.TestProvider).calls
            expect(calls.at(-1)?.request).toEqual(original)
            expect(calls.every((c) => c.request.maxTokens !== 4_096)).toBe(true)
            const settled = Chunk.toReadonlyArray(yield* Queue.takeAll(events)).filter((e) => e._tag === "CallSettled")
            expect(settled.at(-1)).toMatchObject({ reservedUsd: yield* Pricing.estimate(original) })
          }).pipe(
            // Seeded: the backoff's full jitter would otherwise draw 0 ms one run in 500, and the call not wait.
            Effect.withRandom(Random.make(where)),
            Effect.provide(client(script, guards))
          )
        )
      }
    }
  }
)

describe.each(paths)("a request priced past what any budget holds ($name)", ({ client }) => {
  it.effect("maxTokens: 1e15 fails InvalidAmount naming maxTokens, not the reservation's usd; nothing is sent", () =>
    Effect.gen(function* () {
      const huge = { ...request(), maxTokens: 1e15 }
      expect(yield* Effect.flip(LlmClient.complete(huge))).toMatchObject({ _tag: "InvalidAmount", field: "maxTokens" })
      expect(yield* Effect.flip(Stream.runDrain(LlmClient.stream(huge)))).toMatchObject({ field: "maxTokens" })
      expect(yield* (yield* TestProvider.TestProvider).calls).toEqual([])
      expect(yield* Budget.snapshot).toMatchObject({ spentUsd: 0, reservedUsd: 0 })
    }).pipe(Effect.provide(client(TestProvider.always(TestProvider.reply()))))
  )
})

/** A provider whose answers report `model`, whatever was asked. */
const answeringAs = (model: string) =>
  Layer.succeed(LlmProvider, {
    complete: () =>
      Effect.succeed({
        text: "x",
        content: [{ type: "text", text: "x" }],
        model,
        stopReason: "end_turn",
        usage: { inputTokens: 10, outputTokens: 20, cacheCreationInputTokens: 0, cacheReadInputTokens: 0 }
      })
  })

describe.each(paths)(
  "an answer is charged the dearer of the model asked for and the model it reports ($name)",
  ({ clientOver }) => {
    const usage = { inputTokens: 10, outputTokens: 20, cacheCreationInputTokens: 0, cacheReadInputTokens: 0 }
    const cases = [
      ["a dearer model reported: its price", "claude-haiku-4-5", "claude-opus-4-6-20260101", "claude-opus-4-6"],
      ["a cheaper model reported: the asked model's price", "claude-opus-4-6", "claude-haiku-4-5", "claude-opus-4-6"],
      [
        "a dated id of the model asked for: its price",
        "claude-haiku-4-5",
        "claude-haiku-4-5-20251001",
        "claude-haiku-4-5"
      ]
    ] as const
    for (const [what, asked, reported, priced] of cases) {
      it.effect(`complete and stream, ${what}`, () =>
        Effect.gen(function* () {
          const expected = yield* Pricing.cost(priced, usage)
          expect((yield* LlmClient.complete(request("hello", asked))).costUsd).toBeCloseTo(expected, 12)
          const parts = Chunk.toReadonlyArray(yield* Stream.runCollect(LlmClient.stream(request("hello", asked))))
          const last = parts.at(-1)
          expect(last?._tag === "Completion" && last.completion.costUsd).toBeCloseTo(expected, 12)
        }).pipe(Effect.provide(clientOver(answeringAs(reported))))
      )
    }

    it.effect("a reported model with no price: the full reservation, never $0", () =>
      Effect.gen(function* () {
        const estimate = yield* Pricing.estimate(request())
        expect((yield* LlmClient.complete(request())).costUsd).toBe(estimate)
      }).pipe(Effect.provide(clientOver(answeringAs("claude-unpriced-9"))))
    )
  }
)
