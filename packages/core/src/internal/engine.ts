/**
 * The synchronous cores of the in-memory guards. A guarded call through `Guards.wrap` or
 * `LlmClient` takes its reservation, its permit and the breaker's admission in one step of the
 * running fiber, and gives them back in one continuation, where going through each service's
 * effectful method would cost an interpreter step and an allocation per step. A step that cannot
 * be done synchronously and quietly (a refusal, an event to publish, a caller who must wait)
 * changes nothing and answers `undefined`, and the call goes through the services' own methods.
 * A service without an engine (one kept in a shared store, say) is always used through its methods.
 */
import type { Effect, Exit, Fiber } from "effect"
import type { CircuitOpen } from "../Errors.js"
import type { CompletionRequest, Usage } from "../Llm.js"
import type { Ticket } from "./breaker.js"
import type { Reservation } from "./ledger.js"

type AnyFiber = Fiber.RuntimeFiber<unknown, unknown>

export const EngineId: unique symbol = Symbol.for("@fleetguard/core/Engine")

export interface BudgetEngine {
  /** Reserves `usd` for `agentId` when that needs no event; else changes nothing. */
  readonly tryReserve: (agentId: string, usd: number) => Reservation | undefined
  /** Settles `reservation` at `usd` (a valid amount) now; what is left to publish, if anything. */
  readonly settle: (reservation: Reservation, usd: number) => Effect.Effect<void> | undefined
}

export interface ConcurrencyEngine {
  /** Takes a permit when the gate is open and one is free with nobody queued; else changes nothing. */
  readonly tryAcquire: () => boolean
  readonly release: () => void
}

export interface BreakerEngine {
  /** Admits a call of `fiber` while closed; else (open, half-open) changes nothing. */
  readonly tryAdmit: (fiber: AnyFiber) => Ticket | undefined
  /** Runs an admitted call of `fiber` tracked: a trip interrupts it and it fails with CircuitOpen. */
  readonly run: <A, E, R>(fiber: AnyFiber, self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | CircuitOpen, R>
  /** Records how an admitted call ended; what its transition calls for (a trip, a close), if anything. */
  readonly end: (ticket: Ticket, exit: Exit.Exit<unknown, unknown>, fiber: AnyFiber) => Effect.Effect<void> | undefined
}

export interface PricingEngine {
  /** The estimate of a well-formed request whose model has a price (and no counter to ask); else undefined. */
  readonly estimate: (request: CompletionRequest) => number | undefined
  /** What `usage` cost on `model`; throws UnknownModel or InvalidAmount as `Pricing.cost` fails. */
  readonly cost: (model: string, usage: Usage) => number
}

/** A service that carries its engine. */
export interface Engined<E> {
  readonly [EngineId]: E
}

/** The engine of a service, when it is an in-memory one. */
export const engineOf = <E>(service: object): E | undefined =>
  EngineId in service ? (service as { readonly [EngineId]: E })[EngineId] : undefined
