import { describe, expect, it } from "@effect/vitest"
import {
  Agent,
  Budget,
  CircuitOpen,
  Concurrency,
  LlmClient,
  LlmProvider,
  Overloaded,
  Pricing,
  ProviderUnavailable,
  type StreamPart
} from "@fleetguard/core"
import { TestProvider } from "@fleetguard/testing"
import { Chunk, Duration, Effect, Either, Fiber, Stream, TestClock } from "effect"
import { paths, request } from "../support/client.js"

const texts = (parts: ReadonlyArray<StreamPart>) => parts.flatMap((p) => (p._tag === "TextDelta" ? [p.text] : []))
const haiku = (input: number, output: number) => (input * 1 + output * 5) / 1e6

describe.each(paths)("LlmClient.stream ($name)", ({ client, clientOver }) => {
  it.effect("text deltas, then the completion with its cost; the ledger is charged that cost", () =>
    Effect.gen(function* () {
      const parts = Chunk.toReadonlyArray(
        yield* Agent.run("writer", Stream.runCollect(LlmClient.stream(request("one two three four"))))
      )
      const last = parts.at(-1)
      expect(last?._tag).toBe("Completion")
      if (last?._tag !== "Completion") return
      expect(texts(parts)).toEqual(["the", " quick", " brown", " fox"])
      expect(texts(parts).join("")).toBe(last.completion.text)
      // 18 bytes → 5 input tokens; 4 words → 4 output tokens.
      expect(last.completion.usage).toMatchObject({ inputTokens: 5, outputTokens: 4 })
      expect(last.completion.costUsd).toBeCloseTo(haiku(5, 4), 12)
      expect((yield* Budget.snapshot).agents.writer).toEqual({ spentUsd: last.completion.costUsd, reservedUsd: 0 })
    }).pipe(Effect.provide(client(TestProvider.always(TestProvider.reply({ text: "the quick brown fox" })))))
  )

  it.effect("a consumer that stops early aborts the call and is charged what it received, bounded by its bytes", () =>
    Effect.gen(function* () {
      const provider = yield* TestProvider.TestProvider
      const fiber = yield* Effect.fork(
        Stream.runCollect(Stream.take(LlmClient.stream(request("one two three four")), 2))
      )
      yield* TestClock.adjust(Duration.seconds(2))
      const parts = Chunk.toReadonlyArray(yield* Fiber.join(fiber))
      expect(texts(parts)).toEqual(["alpha", " beta"])
      const [call] = yield* provider.calls
      expect(call?.outcome).toBe("interrupted")
      // Cut before the final count: output bounded by the 10 bytes received, not the 100-token maximum.
      const budget = yield* Budget.snapshot
      expect(budget.spentUsd).toBeCloseTo(haiku(5, 10), 12)
      expect(budget.spentUsd).toBeLessThan(yield* Pricing.estimate(request("one two three four")))
      expect(budget.reservedUsd).toBe(0)
      expect((yield* Concurrency.snapshot).inFlight).toBe(0)
    }).pipe(
      Effect.provide(
        client(TestProvider.always(TestProvider.reply({ text: "alpha beta gamma delta", deltaLatency: "1 second" })))
      )
    )
  )

  it.effect("an error mid-stream fails the stream, is not retried, and the partial cost is charged", () =>
    Effect.gen(function* () {
      const provider = yield* TestProvider.TestProvider
      const seen: Array<string> = []
      const error = yield* Effect.flip(
        Stream.runForEach(LlmClient.stream(request("one two three four")), (part) =>
          Effect.sync(() => part._tag === "TextDelta" && seen.push(part.text))
        )
      )
      expect(error).toBeInstanceOf(Overloaded)
      expect(seen).toEqual(["word", " word", " word"])
      expect((yield* provider.calls).length).toBe(1)
      expect((yield* Budget.snapshot).spentUsd).toBeCloseTo(haiku(5, 14), 12)
    }).pipe(
      Effect.provide(
        client(TestProvider.always(TestProvider.cut(3, new Overloaded({ message: "overloaded mid-stream" }))))
      )
    )
  )

  it.effect("a 429 before anything arrived is retried after the gate reopens; the caller sees one clean stream", () =>
    Effect.gen(function* () {
      const provider = yield* TestProvider.TestProvider
      const fiber = yield* Effect.fork(Stream.runCollect(LlmClient.stream(request())))
      yield* TestClock.adjust(Duration.seconds(3))
      const parts = Chunk.toReadonlyArray(yield* Fiber.join(fiber))
      expect(texts(parts).join("")).toBe("reply 1")
      expect((yield* provider.calls).map((c) => c.outcome)).toEqual(["failed", "replied"])
    }).pipe(Effect.provide(client(TestProvider.rateLimitedUntil(2_000))))
  )

  it.effect("a trip with 15 streams in flight aborts all 15; each caller sees CircuitOpen and pays what it got", () =>
    Effect.gen(function* () {
      const provider = yield* TestProvider.TestProvider
      const streams = yield* Effect.fork(
        Effect.forEach(
          Array.from({ length: 15 }, (_, i) => i),
          () => Effect.either(Stream.runDrain(LlmClient.stream(request("slow")))),
          { concurrency: "unbounded" }
        )
      )
      const failing = yield* Effect.fork(Effect.either(LlmClient.complete(request("fail"))))
      yield* TestClock.adjust(Duration.millis(2_500))
      yield* Fiber.join(failing)
      const results = yield* Fiber.join(streams)
      for (const result of results) {
        expect(Either.isLeft(result) && result.left).toBeInstanceOf(CircuitOpen)
      }
      const calls = yield* provider.calls
      const aborted = calls.filter((c) => c.outcome === "interrupted")
      expect(aborted).toHaveLength(15)
      expect(new Set(aborted.map((c) => c.endedAt))).toEqual(new Set([2_500]))
      // Each had its input reported and 3 words (" w" x3 → bytes) by then: charged that, not the reservation.
      const budget = yield* Budget.snapshot
      expect(budget.reservedUsd).toBe(0)
      expect(budget.spentUsd).toBeGreaterThan(0)
      expect(budget.spentUsd).toBeLessThan(15 * (yield* Pricing.estimate(request("slow"))))
    }).pipe(
      Effect.provide(
        client(
          ({ request: r }) =>
            r.messages[0]?.content === "fail"
              ? TestProvider.fail(new ProviderUnavailable({ message: "down", status: 503 }), "2500 millis")
              : TestProvider.reply({ text: "a b c d e f g h i j", deltaLatency: "1 second" }),
          {
            concurrency: { maxConcurrency: 20 },
            breaker: { failureThreshold: 1, resetAfter: "10 seconds", halfOpenMaxCalls: 1 }
          },
          { maxAttempts: 1 }
        )
      )
    )
  )

  it.effect("a provider without stream: the whole text comes as one delta, guarded the same", () =>
    Effect.gen(function* () {
      const parts = Chunk.toReadonlyArray(yield* Stream.runCollect(LlmClient.stream(request())))
      expect(parts.map((p) => p._tag)).toEqual(["TextDelta", "Completion"])
      expect(texts(parts)).toEqual(["whole"])
      expect((yield* Budget.snapshot).spentUsd).toBeGreaterThan(0)
    }).pipe(
      Effect.provide(
        clientOver(
          LlmProvider.layer({
            complete: (r) =>
              Effect.succeed({
                text: "whole",
                content: [{ type: "text", text: "whole" }],
                model: r.model,
                stopReason: "end_turn",
                usage: { inputTokens: 1, outputTokens: 1, cacheCreationInputTokens: 0, cacheReadInputTokens: 0 }
              })
          })
        )
      )
    )
  )

  it.effect("rate-limit headers that say a limit is used up close the gate until the reset", () =>
    Effect.gen(function* () {
      yield* LlmClient.complete(request())
      const gate = yield* Concurrency.snapshot
      expect(gate.pausedUntil).toBe(7_000)
      const provider = yield* TestProvider.TestProvider
      const next = yield* Effect.fork(LlmClient.complete(request()))
      yield* TestClock.adjust(Duration.millis(6_999))
      expect((yield* provider.calls).length).toBe(1)
      yield* TestClock.adjust(Duration.millis(1))
      yield* Fiber.join(next)
      expect((yield* provider.calls).length).toBe(2)
    }).pipe(Effect.provide(client(TestProvider.always(TestProvider.reply({ rateLimitResetMillis: 7_000 })))))
  )
})
