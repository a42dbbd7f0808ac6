/**
 * Contract: the suites every backend of fleetguard's guards must pass. A store of `Budget`,
 * `Concurrency` or `CircuitBreaker` (in memory, Redis, one of your own built on `Backend` from
 * `@fleetguard/core`) is held to what the in-memory guards promise by running the same checks:
 * the limits are never passed, every permit comes back, nothing runs while the breaker is open,
 * and the events, errors and snapshots are the same.
 *
 * ```ts
 * import { it } from "@effect/vitest"
 * import { Budget, Concurrency } from "@fleetguard/core"
 * import { Contract } from "@fleetguard/testing/contract"
 * import { Effect } from "effect"
 *
 * Contract.budget("in memory", Budget.layer)
 * // A store on real time: tests on `it.live`, time passed by sleeping, fewer property samples.
 * Contract.concurrency("my store", (options) => MyStore.concurrency(options), {
 *   it: it.live,
 *   advance: (millis) => Effect.sleep(millis),
 *   samples: (inMemory) => Math.ceil(inMemory / 5)
 * })
 * ```
 *
 * `make` builds the guard's layer from the guard's options, once per check (per sample for a
 * property check), when the check runs. The checks are written against outcomes, never exact
 * instants, so that they hold on the TestClock and on real time. Each suite is also given as
 * data (`budgetChecks`, …): a list of named effects, for running the checks without vitest's
 * registration (a test of the contract itself, or another runner).
 *
 * This entry needs `vitest` and `@effect/vitest` (optional peer dependencies of
 * `@fleetguard/testing`); the package's main entry does not.
 *
 * @module
 * @since 0.2.0
 */
import { describe, it as effectIt, type Vitest } from "@effect/vitest"
import type {
  Budget,
  BudgetOptions,
  CircuitBreaker,
  CircuitBreakerOptions,
  Concurrency,
  ConcurrencyOptions
} from "@fleetguard/core"
import type { Layer } from "effect"
import * as BreakerContract from "../internal/contract/breaker.js"
import * as BudgetContract from "../internal/contract/budget.js"
import type * as Checks from "../internal/contract/check.js"
import * as ConcurrencyContract from "../internal/contract/concurrency.js"

/**
 * One part of a contract: its name, and the effect that succeeds when the backend keeps it and
 * fails (or dies, on an assertion) saying how it does not. A property check runs all its samples.
 *
 * @since 0.2.0
 * @category models
 */
export interface Check extends Checks.Check {}

/**
 * How the checks let time pass (`advance`: `TestClock.adjust` by default; `Effect.sleep` for a
 * store on real time) and how many samples a property check runs (`samples`, given how many it
 * runs in memory; by default as many).
 *
 * @since 0.2.0
 * @category models
 */
export interface CheckOptions extends Checks.CheckOptions {}

/**
 * The check options, and the `it` each check is registered with: `it.effect` (the TestClock) by
 * default; `it.live` for a store on real time.
 *
 * @since 0.2.0
 * @category models
 */
export interface Options extends CheckOptions {
  readonly it?: Vitest.Tester<never> | undefined
}

const register = (title: string, checks: ReadonlyArray<Check>, options: Options | undefined) => {
  const it = options?.it ?? effectIt.effect
  describe(title, () => {
    for (const check of checks) it(check.name, () => check.run)
  })
}

/**
 * The Budget contract's checks against the budgets `make` builds.
 *
 * @since 0.2.0
 * @category checks
 */
export const budgetChecks: (
  make: (options: BudgetOptions) => Layer.Layer<Budget, unknown>,
  options?: CheckOptions
) => ReadonlyArray<Check> = BudgetContract.checks

/**
 * The Concurrency contract's checks against the pools `make` builds.
 *
 * @since 0.2.0
 * @category checks
 */
export const concurrencyChecks: (
  make: (options: ConcurrencyOptions) => Layer.Layer<Concurrency, unknown>,
  options?: CheckOptions
) => ReadonlyArray<Check> = ConcurrencyContract.checks

/**
 * The CircuitBreaker contract's checks against the breakers `make` builds.
 *
 * @since 0.2.0
 * @category checks
 */
export const breakerChecks: (
  make: (options: CircuitBreakerOptions) => Layer.Layer<CircuitBreaker, unknown>,
  options?: CheckOptions
) => ReadonlyArray<Check> = BreakerContract.checks

/**
 * Registers the Budget contract as the tests of `describe("Budget contract (name)")`.
 *
 * @since 0.2.0
 * @category suites
 */
export const budget = (
  name: string,
  make: (options: BudgetOptions) => Layer.Layer<Budget, unknown>,
  options?: Options
): void => register(`Budget contract (${name})`, budgetChecks(make, options), options)

/**
 * Registers the Concurrency contract as the tests of `describe("Concurrency contract (name)")`.
 *
 * @since 0.2.0
 * @category suites
 */
export const concurrency = (
  name: string,
  make: (options: ConcurrencyOptions) => Layer.Layer<Concurrency, unknown>,
  options?: Options
): void => register(`Concurrency contract (${name})`, concurrencyChecks(make, options), options)

/**
 * Registers the CircuitBreaker contract as the tests of `describe("CircuitBreaker contract (name)")`.
 *
 * @since 0.2.0
 * @category suites
 */
export const breaker = (
  name: string,
  make: (options: CircuitBreakerOptions) => Layer.Layer<CircuitBreaker, unknown>,
  options?: Options
): void => register(`CircuitBreaker contract (${name})`, breakerChecks(make, options), options)
