// The contract, by package name, against core's in-memory guards: once as they are (their fast path
// beside their methods), once through their methods only, as a store without a fast path is used,
// so that the contract holds both paths.
import { Backend, Budget, CircuitBreaker, Concurrency } from "@fleetguard/core"
import { Contract } from "@fleetguard/testing/contract"
import { Effect, Layer } from "effect"

Contract.budget("in memory", Budget.layer)
Contract.concurrency("in memory", Concurrency.layer)
Contract.breaker("in memory", CircuitBreaker.layer)

Contract.budget("in memory, methods only", (options) =>
  Layer.effect(Budget, Effect.map(Budget.make(options), Backend.methodsOnly))
)
Contract.concurrency("in memory, methods only", (options) =>
  Layer.effect(Concurrency, Effect.map(Concurrency.make(options), Backend.methodsOnly))
)
Contract.breaker("in memory, methods only", (options) =>
  Layer.effect(CircuitBreaker, Effect.map(CircuitBreaker.make(options), Backend.methodsOnly))
)
