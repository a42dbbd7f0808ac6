import { describe, expect, it } from "@effect/vitest"
import { Budget, CircuitBreaker, Concurrency, LlmClient, type StreamPart } from "@fleetguard/core"
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
    "FakeAnthropic's faults in memory, for text, tool and image requests: every stream ends whole or with a typed error, text is never repeated by a retry, nothing leaks, the limit holds",
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

        for (const fiber of running) {
          const exit = yield* Fiber.await(fiber)
          if (Exit.isSuccess(exit)) {
            const last = exit.value.at(-1)
            expect(last?._tag).toBe("Completion")
            const text = exit.value.flatMap((p) => (p._tag === "TextDelta" ? [p.text] : [])).join("")
            expect(last?._tag === "Completion" && last.completion.text).toBe(text)
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
              TestProvider.reply({ text: "one two three four five six", deltaLatency: "100 millis" })
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
