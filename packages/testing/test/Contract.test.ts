// The published contract against deliberately broken backends, each built on core's in-memory
// service (through Backend) with one promise broken: the checks that hold that promise fail, and
// the same checks pass against the in-memory guard as it is.
import { describe, expect, it } from "@effect/vitest"
import {
  Backend,
  Budget,
  type BudgetOptions,
  CircuitBreaker,
  type CircuitBreakerOptions,
  type CircuitBreakerService,
  Concurrency,
  type ConcurrencyOptions,
  type ConcurrencyService
} from "@fleetguard/core"
import { Contract } from "@fleetguard/testing/contract"
import { Effect, Exit, FastCheck as fc, Layer } from "effect"

// The same samples on every run: which sample catches a broken backend is not left to chance.
fc.configureGlobal({ seed: 17 })

/** The names of the checks that fail, in order. */
const failing = (checks: ReadonlyArray<Contract.Check>) =>
  Effect.map(
    Effect.forEach(checks, (check) => Effect.map(Effect.exit(check.run), (exit) => ({ check, exit }))),
    (results) => results.filter(({ exit }) => Exit.isFailure(exit)).map(({ check }) => check.name)
  )

const named = (checks: ReadonlyArray<Contract.Check>, start: string) => {
  const found = checks.find((check) => check.name.startsWith(start))
  if (found === undefined) throw new Error(`no check starts with "${start}"`)
  return found.name
}

/** A Budget that ignores its limits: its ledger holds a thousand times what it reports. */
const overspending = (options: BudgetOptions) =>
  Layer.effect(
    Budget,
    Effect.gen(function* () {
      const { limitUsd, perAgentLimitUsd, alertAt } = yield* Backend.decodeBudgetOptions(options)
      const loose = Backend.methodsOnly(
        yield* Budget.make({ limitUsd: limitUsd * 1_000, perAgentLimitUsd: perAgentLimitUsd * 1_000, alertAt })
      )
      return {
        ...loose,
        limitUsd,
        perAgentLimitUsd,
        snapshot: Effect.map(loose.snapshot, (snapshot) => ({ ...snapshot, limitUsd, perAgentLimitUsd }))
      }
    })
  )

/** A Concurrency that keeps a permit when a call does not succeed: it takes back the one it gave. */
const leaking = (options: ConcurrencyOptions) =>
  Layer.effect(
    Concurrency,
    Effect.map(Concurrency.make(options), (pool): ConcurrencyService => {
      const permits = Backend.fastPathOf<Backend.ConcurrencyFastPath>(pool)
      if (permits === undefined) throw new Error("the in-memory pool has a fast path")
      const methods = Backend.methodsOnly(pool)
      return {
        ...methods,
        withPermit: (self) =>
          Effect.onExit(methods.withPermit(self), (exit) =>
            Exit.isSuccess(exit) ? Effect.void : Effect.sync(() => permits.tryAcquire())
          )
      }
    })
  )

/** A CircuitBreaker that runs calls while it is open instead of refusing them. */
const admittingWhileOpen = (options: CircuitBreakerOptions) =>
  Layer.effect(
    CircuitBreaker,
    Effect.map(CircuitBreaker.make(options), (breaker): CircuitBreakerService => {
      const methods = Backend.methodsOnly(breaker)
      return {
        ...methods,
        protect: (self) => Effect.flatMap(methods.state, (state) => (state === "Open" ? self : methods.protect(self)))
      }
    })
  )

describe("the contract fails a broken backend", () => {
  it.effect("a Budget that ignores its limit (overspends)", () =>
    Effect.gen(function* () {
      const checks = Contract.budgetChecks(overspending)
      expect(yield* failing(checks)).toEqual(
        expect.arrayContaining([
          named(checks, "concurrent reserve/commit/release from many fibers never pass either limit"),
          named(checks, "refuses a reservation whole"),
          named(checks, "caps named agents only"),
          named(checks, "withReservation charges a failure what failureUsd says")
        ])
      )
      expect(yield* failing(Contract.budgetChecks(Budget.layer))).toEqual([])
    })
  )

  it.effect("a Concurrency that leaks a permit", () =>
    Effect.gen(function* () {
      const checks = Contract.concurrencyChecks(leaking)
      expect(yield* failing(checks)).toEqual([
        named(checks, "in-flight never exceeds the limit, and every permit comes back")
      ])
      expect(yield* failing(Contract.concurrencyChecks(Concurrency.layer))).toEqual([])
    })
  )

  it.effect("a CircuitBreaker that admits while open", () =>
    Effect.gen(function* () {
      const checks = Contract.breakerChecks(admittingWhileOpen)
      expect(yield* failing(checks)).toEqual(
        expect.arrayContaining([
          named(checks, "does not run the protected effect while open"),
          named(checks, "isolate holds it open")
        ])
      )
      expect(yield* failing(Contract.breakerChecks(CircuitBreaker.layer))).toEqual([])
    })
  )
})
