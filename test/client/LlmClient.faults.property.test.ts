import { describe, expect, it } from "@effect/vitest"
import { Budget, CircuitBreaker, type Completion, Concurrency, LlmClient, type StreamPart } from "@fleetguard/core"
import { FakeAnthropic, TestProvider } from "@fleetguard/testing"
import { Cause, Chunk, Duration, Effect, Exit, Fiber, FastCheck as fc, Option, Stream, TestClock } from "effect"
import { paths, refusedLocally, requestKinds, requestOf } from "../support/client.js"

const fault: fc.Arbitrary<FakeAnthropic.Fault | undefined> = fc.oneof(
  { arbitrary: fc.constant(undefined), weight: 4 },
  fc.oneof(
    fc.integer({ min: 0, max: 3 }).map((seconds) => FakeAnthropic.rateLimited({ seconds })),
    fc.integer({ min: 0, max: 3_000 }).map((millis) => FakeAnthropic.rateLimited({ millis })),
    fc.constant(FakeAnthropic.rateLimited())
  ),
  fc.constant(FakeAnthropic.overloaded),
  fc.constantFrom(
    FakeAnthropic.status(500, "api_error"),
    FakeAnthropic.status(400, "invalid_request_error"),
    FakeAnthropic.status(401, "authentication_error")
  ),
  fc.constant(FakeAnthropic.hang),
  fc.integer({ min: 0, max: 6 }).map(FakeAnthropic.dropMidStream),
  fc.integer({ min: 0, max: 6 }).map((n) => FakeAnthropic.errorEvent(n)),
  fc.constant(FakeAnthropic.malformed)
)

/** The answer every call gets: it thinks, writes, then asks for a tool, all streamed in pieces. */
const answer = [
  FakeAnthropic.thinking("First find the facts."),
  FakeAnthropic.text("one two three four five six"),
  FakeAnthropic.toolUse("search", { query: "süß facts", limit: 3 })
]

/** A streamed answer's deltas joined per block (by `index` for tool input) agree with its completion. */
const joinedAsAnswered = (parts: ReadonlyArray<StreamPart>, completion: Completion) => {
  const text = parts.flatMap((p) => (p._tag === "TextDelta" ? [p.text] : [])).join("")
  expect(completion.text).toBe(text)
  const thinking = parts.flatMap((p) => (p._tag === "ThinkingDelta" ? [p.thinking] : [])).join("")
  expect(completion.content.flatMap((b) => (b.type === "thinking" ? [b.thinking] : [])).join("")).toBe(thinking)
  completion.content.forEach((block, index) => {
    if (block.type !== "tool_use") return
    const json = parts.flatMap((p) => (p._tag === "ToolInputDelta" && p.index === index ? [p.partialJson] : []))
    expect(JSON.parse(json.join(""))).toEqual(block.input)
  })
}

const guardErrors = new Set(["BudgetExceeded", "CircuitOpen", "DepthLimitExceeded"])
const providerErrors = new Set([
  "RateLimited",
  "Overloaded",
  "ProviderUnavailable",
  "InvalidRequest",
  "AuthenticationFailed"
])

describe.each(paths)("$name", ({ client }) => {
  it.effect.prop(
    "FakeAnthropic's faults in memory, for text, tool and image requests: every stream ends whole or with a typed error, no text, thinking or tool input is repeated by a retry, nothing leaks, the limit holds",
    {
      faults: fc.array(fault, { minLength: 1, maxLength: 20 }),
      callers: fc.array(
        fc.record({
          streamed: fc.boolean(),
          kind: fc.constantFrom(...requestKinds),
          cancelAt: fc.option(fc.integer({ min: 0, max: 5_000 }), { nil: undefined })
        }),
        { minLength: 1, maxLength: 10 }
      ),
      limitCents: fc.integer({ min: 1, max: 10 }),
      maxAttempts: fc.integer({ min: 1, max: 3 })
    },
    ({ faults, callers, limitCents, maxAttempts }) =>
      Effect.gen(function* () {
        const running = yield* Effect.forEach(callers, ({ streamed, kind }, i) =>
          Effect.fork(
            streamed
              ? Stream.runCollect(LlmClient.stream(requestOf(kind, `caller ${i}`))).pipe(
                  Effect.map(Chunk.toReadonlyArray)
                )
              : Effect.map(
                  LlmClient.complete(requestOf(kind, `caller ${i}`)),
                  (completion): ReadonlyArray<StreamPart> => [
                    { _tag: "TextDelta", text: completion.text },
                    { _tag: "Completion", completion: { ...completion } }
                  ]
                )
          )
        )
        yield* Effect.forEach(callers, ({ cancelAt }, i) =>
          cancelAt === undefined
            ? Effect.void
            : Effect.fork(Effect.delay(Fiber.interrupt(running[i] as Fiber.RuntimeFiber<unknown, unknown>), cancelAt))
        )
        yield* TestClock.adjust(Duration.minutes(1))
        yield* Fiber.interruptAll(running)

        for (const [i, fiber] of running.entries()) {
          const exit = yield* Fiber.await(fiber)
          const streamed = callers[i]?.streamed === true
          if (Exit.isSuccess(exit)) {
            const last = exit.value.at(-1)
            expect(last?._tag).toBe("Completion")
            if (last?._tag === "Completion" && streamed) joinedAsAnswered(exit.value, last.completion)
            if (last?._tag === "Completion" && !streamed)
              expect(last.completion.text).toBe("one two three four five six")
          }
          // Anything else is a typed error (or the caller's own cancellation), never a defect.
          const tag = Exit.isSuccess(exit)
            ? "Success"
            : Cause.isInterruptedOnly(exit.cause)
              ? "Interrupt"
              : Option.match(Cause.failureOption(exit.cause), {
                  onNone: () => "Defect",
                  onSome: (error) => (error as { readonly _tag: string })._tag
                })
          expect(tag === "Success" || tag === "Interrupt" || guardErrors.has(tag) || providerErrors.has(tag)).toBe(true)
          // A request of any kind is sent: none is refused by the client's own check.
          expect(Exit.isFailure(exit) && refusedLocally(Option.getOrUndefined(Cause.failureOption(exit.cause)))).toBe(
            false
          )
        }

        const budget = yield* Budget.snapshot
        expect(budget.reservedUsd).toBe(0)
        expect(budget.spentUsd).toBeLessThanOrEqual(budget.limitUsd + 1e-12)
        expect(yield* Concurrency.snapshot).toMatchObject({ inFlight: 0, waiting: 0 })
        expect(yield* (yield* TestProvider.TestProvider).inFlight).toBe(0)
        expect((yield* CircuitBreaker.snapshot).tracked).toBe(0)
      }).pipe(
        Effect.scoped,
        Effect.provide(
          client(
            TestProvider.faults(
              FakeAnthropic.byIndex(Object.fromEntries(faults.flatMap((f, i) => (f === undefined ? [] : [[i, f]])))),
              TestProvider.reply({ content: answer, deltaLatency: "100 millis" })
            ),
            {
              budget: { limitUsd: limitCents / 100, perAgentLimitUsd: limitCents / 100 },
              breaker: { failureThreshold: 3, resetAfter: "2 seconds", halfOpenMaxCalls: 1 }
            },
            { maxAttempts, baseDelay: "50 millis", maxDelay: "400 millis" }
          )
        )
      ),
    { fastCheck: { numRuns: 60 } }
  )
})
