/**
 * Backend: what a store needs to implement fleetguard's guard services — `Budget`, `Concurrency`
 * and `CircuitBreaker` — the same way the in-memory guards do, without copying them: each guard's
 * option decoding (so a store takes the same options and refuses the same values), its event
 * reporting (so the journal, alerts and `fleetguard status` see a store's refusals, pauses and
 * trips as they see the in-memory ones), the breaker's outcome classifier and fiber tracker, and
 * the pure policies (ledger arithmetic, the breaker's state machine, the gate's release spread).
 *
 * The in-memory guards and `@fleetguard/redis` are built on this module; a store of your own is
 * proven by the contract suites of `@fleetguard/testing/contract` (docs/writing-a-backend.md).
 *
 * A service may also offer a fast path (`withFastPath`): a synchronous try-enter / exit that
 * `LlmClient` and `Guards.wrap` use in place of the service's methods when it can. It is an
 * optimisation only: a service without one is used through its methods, and both must behave the same.
 *
 * @module
 * @since 0.2.0
 */

import * as BreakerBackend from "./internal/backend/breaker.js"
import * as BudgetBackend from "./internal/backend/budget.js"
import * as ConcurrencyBackend from "./internal/backend/concurrency.js"
import * as FastPath from "./internal/backend/fastPath.js"
import type * as BreakerMachine from "./internal/policy/breaker.js"

/**
 * The breaker's pure state machine: `admit` and `record` take the state and answer the decision
 * and the next state; every transition bumps the generation, so a late outcome is ignored.
 *
 * @since 0.2.0
 * @category policies
 */
export * as Breaker from "./internal/policy/breaker.js"
/**
 * The rate-limit gate's pure functions: `pauseUntil` (never shortens a pause), `admit` (a wake-up
 * time spread over the release window for a caller held at the closed gate).
 *
 * @since 0.2.0
 * @category policies
 */
export * as Gate from "./internal/policy/gate.js"
/**
 * The ledger's pure arithmetic, in whole nanodollars: `reserve` and `settle` take the fleet's
 * totals and one agent's account and answer the new ones (a store applies them atomically, in a
 * transaction or a script); `toNanos`/`toUsd` convert at the edge.
 *
 * @since 0.2.0
 * @category policies
 */
export * as Ledger from "./internal/policy/ledger.js"

// ---------------------------------------------------------------------------------------------
// Budget

export type {
  Limits as BudgetLimits,
  Refusal as BudgetRefusal,
  Reports as BudgetReports,
  Settlement as BudgetSettlement,
  Totals as BudgetTotals
} from "./internal/backend/budget.js"

/**
 * Decodes `Budget` options as `Budget.layer` does, defaults filled in, or `InvalidOption` naming
 * the bad one.
 *
 * @since 0.2.0
 * @category budget
 */
export const decodeBudgetOptions = BudgetBackend.decodeOptions

/**
 * An amount given as `field`, in the whole nanodollars the ledger holds, or the `InvalidAmount`
 * naming `field` that `Budget.reserve` and `commit` fail with.
 *
 * @since 0.2.0
 * @category budget
 */
export const nanosOf = BudgetBackend.nanosOf

/**
 * Nanodollars as USD.
 *
 * @since 0.2.0
 * @category budget
 */
export const usdOf = BudgetBackend.usdOf

/**
 * The `InvalidAmount` (field "agentId") a reservation for an agent id that is not a string fails with.
 *
 * @since 0.2.0
 * @category budget
 */
export const invalidAgentId = BudgetBackend.invalidAgentId

/**
 * A value given as a reservation, its fields read once into a fresh object, or the `InvalidAmount`
 * (field "reservation") `commit` and `release` fail with for anything not shaped as one. Never
 * throws, whatever the value.
 *
 * @since 0.2.0
 * @category budget
 */
export const checkReservation = BudgetBackend.checkReservation

/**
 * The `InvalidAmount` (reason "was not made by this budget") for a value shaped as a reservation
 * that this store never issued.
 *
 * @since 0.2.0
 * @category budget
 */
export const notIssued = BudgetBackend.notIssued

/**
 * Whether the per-agent limit applies to `agentId`: to named agents (`Agent.run`) only.
 *
 * @since 0.2.0
 * @category budget
 */
export const hasAgentLimit = BudgetBackend.hasAgentLimit

/**
 * The reports of a budget with these limits.
 *
 * @since 0.2.0
 * @category budget
 */
export const budgetReports = BudgetBackend.reports

// ---------------------------------------------------------------------------------------------
// Concurrency

export type { Limits as ConcurrencyLimits, Paused, PauseRequest } from "./internal/backend/concurrency.js"

/**
 * Decodes `Concurrency` options as `Concurrency.layer` does, defaults filled in, or `InvalidOption`
 * naming the bad one.
 *
 * @since 0.2.0
 * @category concurrency
 */
export const decodeConcurrencyOptions = ConcurrencyBackend.decodeOptions

/**
 * Where in the release window the `ticket`-th caller held at a closed gate is released, as a
 * fraction in [0, 1): consecutive tickets land spread evenly, no two at the same offset.
 *
 * @since 0.2.0
 * @category concurrency
 */
export const releaseOffset = ConcurrencyBackend.releaseOffset

/**
 * How long `pauseFor(duration)` closes a gate whose longest pause is `maxPauseMillis`; undefined
 * when it closes nothing (a duration that is negative, NaN or unreadable).
 *
 * @since 0.2.0
 * @category concurrency
 */
export const pauseRequest = ConcurrencyBackend.pauseRequest

/**
 * The metric and `RateLimitPause` event of a pause, as the in-memory gate publishes them.
 *
 * @since 0.2.0
 * @category concurrency
 */
export const paused = ConcurrencyBackend.paused

/**
 * `RateLimitResumed`: the gate was reopened by an operator.
 *
 * @since 0.2.0
 * @category concurrency
 */
export const resumed = ConcurrencyBackend.resumed

// ---------------------------------------------------------------------------------------------
// CircuitBreaker

export type { Decoded as BreakerDecoded } from "./internal/backend/breaker.js"
export type { Tracker } from "./internal/backend/tracking.js"

/**
 * The breaker's policy as decoded: the trip rule, the waits and the probes.
 *
 * @since 0.2.0
 * @category breaker
 */
export interface BreakerSettings extends BreakerMachine.Settings {}

/**
 * Decodes `CircuitBreaker` options as `CircuitBreaker.layer` does, or `InvalidOption` naming the
 * bad one.
 *
 * @since 0.2.0
 * @category breaker
 */
export const decodeBreakerOptions = BreakerBackend.decodeOptions

/**
 * How an admitted call's exit counts for the breaker: "success", "failure" (as `isFailure` says)
 * or "ignored" (interruptions, defects, the failures `isFailure` does not count).
 *
 * @since 0.2.0
 * @category breaker
 */
export const breakerOutcome = BreakerBackend.outcomeOf

/**
 * A fresh tracker: a store's breaker must interrupt this process's tracked fibers when it trips.
 *
 * @since 0.2.0
 * @category breaker
 */
export const makeTracker = BreakerBackend.tracker

/**
 * Sets the breaker's state gauge for a state a store heard of (another process's transition),
 * without publishing anything: the process that made the transition publishes it.
 *
 * @since 0.2.0
 * @category breaker
 */
export const breakerObserved = BreakerBackend.observed

/**
 * A trip: every fiber `tracker` tracks interrupted at once (each answers `CircuitOpen`), counted
 * and published as `BreakerOpened`.
 *
 * @since 0.2.0
 * @category breaker
 */
export const tripped = BreakerBackend.tripped

/**
 * The breaker closed: the state gauge and `BreakerClosed`.
 *
 * @since 0.2.0
 * @category breaker
 */
export const closed = BreakerBackend.closed

/**
 * The first probe was admitted: the state gauge and `BreakerHalfOpened`.
 *
 * @since 0.2.0
 * @category breaker
 */
export const halfOpened = BreakerBackend.halfOpened

/**
 * A call refused (open, isolated, or the probe slots taken): counted, published, failed with
 * `CircuitOpen` (`retryAfterMillis` undefined while isolated).
 *
 * @since 0.2.0
 * @category breaker
 */
export const refused = BreakerBackend.refused

// ---------------------------------------------------------------------------------------------
// Fast path

export type {
  BreakerFastPath,
  BudgetFastPath,
  ConcurrencyFastPath,
  PricingFastPath,
  WithFastPath
} from "./internal/backend/fastPath.js"

/**
 * `service` offering `fastPath` beside its methods.
 *
 * @since 0.2.0
 * @category fast path
 */
export const withFastPath = FastPath.withFastPath

/**
 * The fast path a service offers, if any.
 *
 * @since 0.2.0
 * @category fast path
 */
export const fastPathOf = FastPath.fastPathOf

/**
 * The same service through its methods only, as a store without a fast path is used: for tests
 * that hold the two paths equal.
 *
 * @since 0.2.0
 * @category fast path
 */
export const methodsOnly = FastPath.methodsOnly
