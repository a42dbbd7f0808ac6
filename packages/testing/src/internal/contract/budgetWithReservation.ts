/** The Budget contract's checks of `Budget.withReservation`, over any backend. */
import { expect } from "@effect/vitest"
import { Agent, Budget } from "@fleetguard/core"
import { Cause, Effect, Exit, Fiber } from "effect"
import { eventually, example, type BudgetSuite as Suite } from "./check.js"

const guarded = <E>(self: Effect.Effect<number, E>) =>
  Agent.run("worker", Budget.withReservation({ usd: 2, actualUsd: (n: number) => n })(self))

const chargesSuccess = ({ withBudget }: Suite) =>
  example(
    "withReservation charges a success its actual cost, to the running agent",
    withBudget(
      { limitUsd: 10 },
      Effect.gen(function* () {
        expect(yield* guarded(Effect.succeed(0.75))).toBe(0.75)
        expect(yield* Budget.snapshot).toMatchObject({ spentUsd: 0.75, reservedUsd: 0, agents: { worker: {} } })
      })
    )
  )

const releasesFailure = ({ withBudget }: Suite) =>
  example(
    "withReservation releases on failure, charges the full reservation on interruption",
    withBudget(
      { limitUsd: 10 },
      Effect.gen(function* () {
        expect(yield* Effect.flip(guarded(Effect.fail("boom" as const)))).toBe("boom")
        expect(yield* Budget.snapshot).toMatchObject({ spentUsd: 0, reservedUsd: 0 })
        const fiber = yield* Effect.fork(guarded(Effect.never))
        yield* eventually(Budget.snapshot, (s) => s.reservedUsd === 2)
        yield* Fiber.interrupt(fiber)
        expect(yield* Budget.snapshot).toMatchObject({ spentUsd: 2, reservedUsd: 0 })
      })
    )
  )

const chargesUncomputable = ({ withBudget }: Suite) =>
  example(
    "withReservation charges the full reservation when the cost cannot be computed",
    withBudget(
      { limitUsd: 10 },
      Effect.gen(function* () {
        const exit = yield* Effect.exit(
          Budget.withReservation({ usd: 1, actualUsd: () => Number.NaN })(Effect.succeed("done"))
        )
        expect(Exit.isSuccess(exit)).toBe(true)
        expect(yield* Budget.snapshot).toMatchObject({ spentUsd: 1, reservedUsd: 0 })
      })
    )
  )

const chargesFailureUsd = ({ withBudget }: Suite) =>
  example(
    "withReservation charges a failure what failureUsd says, and never runs the effect when refused",
    withBudget(
      { limitUsd: 1 },
      Effect.gen(function* () {
        let ran = false
        const refused = yield* Effect.flip(
          Budget.withReservation({ usd: 5, actualUsd: () => 0 })(Effect.sync(() => (ran = true)))
        )
        expect(refused._tag).toBe("BudgetExceeded")
        expect(ran).toBe(false)
        const failed = yield* Effect.exit(
          Budget.withReservation({
            usd: 0.1,
            actualUsd: () => 0,
            failureUsd: (cause) => (Cause.isDie(cause) ? 0 : 0.05)
          })(Effect.fail("upstream"))
        )
        expect(Exit.isFailure(failed)).toBe(true)
        expect((yield* Budget.snapshot).spentUsd).toBe(0.05)
      })
    )
  )

export const checks = [chargesSuccess, releasesFailure, chargesUncomputable, chargesFailureUsd] as const
