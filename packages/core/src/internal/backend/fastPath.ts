/**
 * The fast path: a synchronous step a guard service may offer beside its methods. A guarded call
 * takes its reservation, its permit and the breaker's admission in one step of the running fiber
 * and gives them back in one continuation, where going through each service's effectful method
 * costs an interpreter step and an allocation per step. A step that cannot be done synchronously
 * and quietly (a refusal, an event to publish, a caller who must wait) changes nothing and answers
 * `undefined` (or false), and the call goes through the service's methods. A service without a
 * fast path (a store that must ask a server) is always used through its methods; both paths must
 * behave the same, which the contract and client suites check by running both. The call flow asks
 * for a fast path in one place only, the fleet's door (`internal/call/fleet.ts`).
 */
import type { Effect, Exit, Fiber } from "effect"
import type { CircuitOpen } from "../../Errors.js"
import type { CompletionRequest, Usage } from "../../Llm.js"
import type { Ticket } from "../policy/breaker.js"
import type { Reservation } from "../policy/ledger.js"

export const FastPathId: unique symbol = Symbol.for("@fleetguard/core/FastPath")

export interface BudgetFastPath {
  /** Reserves `usd` for `agentId` when that needs no event; else changes nothing. */
  readonly tryReserve: (agentId: string, usd: number) => Reservation | undefined
  /** Settles `reservation` at `usd` (a valid amount) now; what is left to publish, if anything. */
  readonly settle: (reservation: Reservation, usd: number) => Effect.Effect<void> | undefined
}

export interface ConcurrencyFastPath {
  /** Takes a permit when the gate is open and one is free with nobody queued; else changes nothing. */
  readonly tryAcquire: () => boolean
  readonly release: () => void
}

export interface BreakerFastPath {
  /** Admits a call of `fiber` while closed; else (open, half-open) changes nothing. */
  readonly tryAdmit: (fiber: Fiber.RuntimeFiber<unknown, unknown>) => Ticket | undefined
  /** Runs an admitted call of `fiber` tracked: a trip interrupts it and it fails with CircuitOpen. */
  readonly run: <A, E, R>(
    fiber: Fiber.RuntimeFiber<unknown, unknown>,
    self: Effect.Effect<A, E, R>
  ) => Effect.Effect<A, E | CircuitOpen, R>
  /** Records how an admitted call ended; what its transition calls for (a trip, a close), if anything. */
  readonly end: (
    ticket: Ticket,
    exit: Exit.Exit<unknown, unknown>,
    fiber: Fiber.RuntimeFiber<unknown, unknown>
  ) => Effect.Effect<void> | undefined
}

export interface PricingFastPath {
  /** The estimate of a well-formed request whose model has a price (and no counter to ask); else undefined. */
  readonly estimate: (request: CompletionRequest) => number | undefined
  /** What `usage` cost on `model`; throws UnknownModel or InvalidAmount as `Pricing.cost` fails. */
  readonly cost: (model: string, usage: Usage) => number
}

/** A service that offers a fast path. */
export interface WithFastPath<F> {
  readonly [FastPathId]: F
}

/** `service` offering `fastPath` beside its methods. */
export const withFastPath = <S extends object, F>(service: S, fastPath: F): S & WithFastPath<F> =>
  Object.assign(service, { [FastPathId]: fastPath } as WithFastPath<F>)

/** The fast path a service offers, if any. */
export const fastPathOf = <F>(service: object): F | undefined =>
  FastPathId in service ? (service as WithFastPath<F>)[FastPathId] : undefined

/** The same service through its methods only: what a store without a fast path offers. */
export const methodsOnly = <S extends object>(service: S): S => {
  const copy = Object.assign(Object.create(Object.getPrototypeOf(service)), service)
  delete copy[FastPathId]
  return copy
}
