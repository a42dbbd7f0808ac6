import { describe, expect, it } from "@effect/vitest"
import {
  Agent,
  Budget,
  CircuitBreaker,
  Concurrency,
  Events,
  InvalidRequest,
  LlmClient,
  Overloaded,
  ProviderUnavailable,
  RateLimited
} from "@fleetguard/core"
import { TestProvider } from "@fleetguard/testing"
import { Chunk, Duration, Effect, Fiber, FastCheck as fc, Queue, TestClock } from "effect"
import { paths, refusedLocally, requestKinds, requestOf } from "../support/client.js"

type Kind = "reply" | "overloaded" | "unavailable" | "rateLimited" | "invalid" | "hang"

const toStep = (kind: Kind, latency: number): TestProvider.Step => {
  switch (kind) {
    case "reply":
      return TestProvider.reply({ latency })
    case "overloaded":
      return TestProvider.fail(new Overloaded({ message: "overloaded" }), latency)
    case "unavailable":
      return TestProvider.fail(new ProviderUnavailable({ message: "down", status: 503 }), latency)
    case "rateLimited":
      return TestProvider.fail(new RateLimited({ message: "slow down", retryAfterMillis: latency * 2 }), latency)
    case "invalid":
      return TestProvider.fail(new InvalidRequest({ errorType: "invalid_request_error", message: "bad" }), latency)
    case "hang":
      return TestProvider.hang
  }
}

describe.each(paths)("$name", ({ client }) => {
  it.effect.prop(
    "whatever the provider does, whoever is cancelled and whatever they send (text, tools, images): the fleet limit holds, no attempt costs more than its estimate, nothing leaks, Open admits nothing",
    {
      steps: fc.array(
        fc.record({
          kind: fc.constantFrom<Kind>(
            "reply",
            "reply",
            "reply",
            "overloaded",
            "unavailable",
            "rateLimited",
            "invalid",
            "hang"
          ),
          latency: fc.integer({ min: 0, max: 200 })
        }),
        { minLength: 1, maxLength: 30 }
      ),
      agents: fc.array(
        fc.record({
          calls: fc.integer({ min: 1, max: 4 }),
          cancelAt: fc.option(fc.integer({ min: 0, max: 3_000 })),
          kind: fc.constantFrom(...requestKinds)
        }),
        {
          minLength: 1,
          maxLength: 12
        }
      ),
      limitCents: fc.integer({ min: 1, max: 20 }),
      maxConcurrency: fc.integer({ min: 1, max: 5 }),
      failureThreshold: fc.integer({ min: 1, max: 4 }),
      halfOpenMaxCalls: fc.integer({ min: 1, max: 2 }),
      maxAttempts: fc.integer({ min: 1, max: 3 })
    },
    ({ steps, agents, limitCents, maxConcurrency, failureThreshold, halfOpenMaxCalls, maxAttempts }) => {
      const script: TestProvider.Script = ({ index }) => {
        const step = steps[index % steps.length] ?? { kind: "reply", latency: 0 }
        return toStep(step.kind, step.latency)
      }
      // A request of any kind is sent: none is refused by the client's own check.
      const refused: Array<unknown> = []
      return Effect.gen(function* () {
        const events = yield* Events.subscribe
        const fleet = yield* Effect.forEach(agents, ({ calls, kind }, i) =>
          Effect.fork(
            Agent.run(
              `agent-${i}`,
              Effect.forEach(Array.from({ length: calls }), () =>
                Effect.either(
                  Effect.tapError(LlmClient.complete(requestOf(kind, `task ${i}`)), (error) =>
                    Effect.sync(() => refusedLocally(error) && refused.push(error))
                  )
                )
              )
            )
          )
        )
        yield* Effect.forEach(agents, ({ cancelAt }, i) =>
          cancelAt === null
            ? Effect.void
            : Effect.fork(Effect.delay(Fiber.interrupt(fleet[i] as Fiber.RuntimeFiber<unknown, unknown>), cancelAt))
        )
        yield* TestClock.adjust(Duration.minutes(2))
        yield* Fiber.interruptAll(fleet)

        expect(refused).toEqual([])
        const budget = yield* Budget.snapshot
        expect(budget.spentUsd).toBeLessThanOrEqual(budget.limitUsd)
        expect(budget.reservedUsd).toBe(0)
        expect(yield* Concurrency.snapshot).toMatchObject({ inFlight: 0, waiting: 0 })
        const provider = yield* TestProvider.TestProvider
        expect(yield* provider.inFlight).toBe(0)
        expect(yield* provider.peakInFlight).toBeLessThanOrEqual(maxConcurrency)
        expect((yield* CircuitBreaker.snapshot).tracked).toBe(0)

        const calls = yield* provider.calls
        const seen = Chunk.toReadonlyArray(yield* Queue.takeAll(events))
        // Never undercount: no attempt is charged more than the estimate it reserved.
        for (const event of seen) {
          if (event._tag !== "CallSettled") continue
          expect(event.costUsd).toBeLessThanOrEqual(Math.max(1, event.attempts) * event.reservedUsd + 1e-12)
        }
        for (const event of seen) {
          if (event._tag !== "BreakerOpened" || event.reopenAt === undefined) continue
          const { at, reopenAt } = event
          expect(calls.filter((c) => c.at > at && c.at < reopenAt)).toEqual([])
        }
      }).pipe(
        Effect.scoped,
        Effect.provide(
          client(
            script,
            {
              budget: { limitUsd: limitCents / 100, perAgentLimitUsd: limitCents / 100 },
              // maxPause bounds how long a call waits out 429s (default 60 s): a sample of nothing but 429s
              // otherwise runs a minute of gate cycles per call, seconds of real time under load.
              concurrency: { maxConcurrency, releaseWindow: "200 millis", maxPause: "5 seconds" },
              breaker: { failureThreshold, resetAfter: "500 millis", halfOpenMaxCalls }
            },
            { maxAttempts, baseDelay: "50 millis", maxDelay: "400 millis" }
          )
        )
      )
    },
    { fastCheck: { numRuns: 80 } }
  )
})
