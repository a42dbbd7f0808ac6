/**
 * The Redis ledger's rules at its edges: a cost it cannot hold, the agent outside any Agent.run,
 * and values passed as reservations that it never made.
 */
import { expect, it } from "@effect/vitest"
import {
  Agent,
  Budget,
  BudgetExceeded,
  type BudgetService,
  Depth,
  GuardEvents,
  InvalidAmount,
  LlmClient,
  Pricing,
  type Reservation,
  Retry
} from "@fleetguard/core"
import { TestProvider } from "@fleetguard/testing"
import { Effect, Exit, Layer } from "effect"
import { guards, withRedis } from "./support.js"

const request = { model: "claude-haiku-4-5", maxTokens: 100, messages: [{ role: "user" as const, content: "hi" }] }

withRedis("Redis ledger", (server) => {
  const withBudget = <A, E>(limits: Parameters<typeof Budget.layer>[0], self: Effect.Effect<A, E, Budget>) =>
    Effect.provide(self, guards(server(), { budget: limits }))

  it.live(
    "a cost the ledger cannot hold: commit refuses it, as in memory; the guards charge the full reservation",
    () =>
      withBudget(
        { limitUsd: 100, perAgentLimitUsd: 100 },
        Effect.gen(function* () {
          const budget = yield* Budget
          // Tokens given as dollars, and an answer claiming 1e13 output tokens: both past the ledger's ceiling.
          for (const [usd, actualUsd] of [
            [2, 1e13],
            [3, Number.POSITIVE_INFINITY]
          ] as const) {
            const held = yield* budget.reserve("a", usd)
            expect(yield* Effect.flip(budget.commit(held, actualUsd))).toMatchObject({
              _tag: "InvalidAmount",
              field: "actualUsd"
            })
            expect((yield* budget.snapshot).reservedUsd).toBe(usd)
            yield* budget.commit(held, usd)
          }
          // A malformed amount is still refused, and settles nothing.
          const held = yield* budget.reserve("a", 1)
          expect(yield* Effect.flip(budget.commit(held, -1))).toMatchObject({
            _tag: "InvalidAmount",
            field: "actualUsd"
          })
          expect(yield* budget.snapshot).toMatchObject({ spentUsd: 5, reservedUsd: 1 })
          yield* budget.release(held)
          // Through the guards' own settlement: no defect either.
          const exit = yield* Effect.exit(
            Budget.withReservation(Effect.succeed("answer"), { usd: 4, agentId: "a", actualUsd: () => 1e13 })
          )
          expect(Exit.isSuccess(exit)).toBe(true)
          expect(yield* budget.snapshot).toMatchObject({ spentUsd: 9, reservedUsd: 0 })
        })
      )
  )

  it.live("an answer reporting 1e13 output tokens through LlmClient: charged its reservation, no defect", () =>
    Effect.gen(function* () {
      const answered = yield* Effect.exit(
        LlmClient.completeWith(request, {
          send: Effect.succeed({
            text: "",
            model: request.model,
            stopReason: "end_turn",
            usage: { inputTokens: 10, outputTokens: 1e13, cacheCreationInputTokens: 0, cacheReadInputTokens: 0 }
          })
        })
      )
      expect(Exit.isSuccess(answered)).toBe(true)
      const snapshot = yield* Budget.snapshot
      expect(snapshot.spentUsd).toBeGreaterThan(0)
      expect(snapshot.spentUsd).toBeLessThan(1)
      expect(snapshot.reservedUsd).toBe(0)
    }).pipe(
      Effect.provide(
        LlmClient.layer.pipe(
          Layer.provideMerge(
            Layer.mergeAll(
              guards(server(), { budget: { limitUsd: 10 } }),
              Depth.layer({ maxDepth: 2, maxFanOut: 2 }),
              Pricing.layer(),
              Retry.layer({ maxAttempts: 1 }),
              TestProvider.layer()
            )
          ),
          Layer.provideMerge(GuardEvents.layer())
        )
      )
    )
  )

  it.live("a call outside any Agent.run is under the fleet limit alone; named agents keep their cap", () =>
    withBudget(
      { limitUsd: 10 },
      Effect.gen(function* () {
        const budget = yield* Budget
        expect(budget.perAgentLimitUsd).toBe(2)
        // The running agent outside Agent.run is "default": well past the per-agent cap of $2.
        const outside = yield* Agent.current
        expect(outside).toBe(Agent.defaultAgentId)
        const big = yield* budget.reserve(outside, 6)
        const named = yield* Effect.flip(budget.reserve("a", 2.5))
        expect(named).toBeInstanceOf(BudgetExceeded)
        expect(named).toMatchObject({ scope: "agent", agentId: "a" })
        yield* budget.reserve("a", 2)
        // The fleet limit still holds for it: $8 of $10 taken.
        expect(yield* Effect.flip(budget.reserve(outside, 2.5))).toMatchObject({ scope: "fleet" })
        yield* budget.commit(big, 5)
        expect((yield* budget.snapshot).agents).toMatchObject({
          default: { spentUsd: 5, reservedUsd: 0 },
          a: { spentUsd: 0, reservedUsd: 2 }
        })
        yield* Budget.withReservation(Effect.void, { usd: 2.5, actualUsd: () => 2.5 })
        expect((yield* budget.snapshot).agents.default).toEqual({ spentUsd: 7.5, reservedUsd: 0 })
      })
    )
  )

  it.live(
    "what it never made is refused InvalidAmount on commit and release; a second settlement changes nothing",
    () =>
      withBudget(
        { limitUsd: 10, perAgentLimitUsd: 10 },
        Effect.gen(function* () {
          const budget: BudgetService = yield* Budget
          const settled = yield* budget.reserve("a", 1)
          yield* budget.commit(settled, 0.5)
          const held = yield* budget.reserve("a", 2)
          const notAReservation = { field: "reservation", reason: "must be a reservation made by Budget.reserve" }
          const notOurs = { field: "reservation", reason: "was not made by this budget" }
          const forged: ReadonlyArray<readonly [unknown, object]> = [
            [null, notAReservation],
            [undefined, notAReservation],
            ["r", notAReservation],
            [{}, notAReservation],
            [{ id: held.id + 100, agentId: "a", usd: 2 }, notOurs],
            [{ id: -1, agentId: "a", usd: 2 }, notOurs],
            [{ id: held.id, agentId: "b", usd: 2 }, notOurs],
            [{ id: held.id, agentId: "a", usd: 9 }, notOurs]
          ]
          for (const [value, refusal] of forged) {
            const reservation = value as Reservation
            const refusedCommit = yield* Effect.flip(budget.commit(reservation, 0.1))
            expect(refusedCommit).toBeInstanceOf(InvalidAmount)
            expect(refusedCommit).toMatchObject(refusal)
            expect(yield* Effect.flip(budget.release(reservation))).toMatchObject(refusal)
          }
          // Settled already: a second commit or release is a no-op.
          yield* budget.commit(settled, 3)
          yield* budget.release(settled)
          expect(yield* budget.snapshot).toMatchObject({ spentUsd: 0.5, reservedUsd: 2 })
          // A copy of a reservation it made is still its own.
          yield* budget.release({ ...held })
          expect(yield* budget.snapshot).toMatchObject({ spentUsd: 0.5, reservedUsd: 0 })
        })
      )
  )
})
