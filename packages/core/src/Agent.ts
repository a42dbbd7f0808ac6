/**
 * Agent: names the running agent. Budgets are kept per agent, so every call made inside
 * `Agent.run(id, ...)` — in forked children too — is charged to `id`.
 *
 * @module
 * @since 0.1.0
 */
import { Effect, FiberRef, Option } from "effect"
import { dual } from "effect/Function"
import { globalValue } from "effect/GlobalValue"
// A cycle (CircuitBreaker names agents in its events) that is safe: both use each other only at call time.
import { CircuitBreaker } from "./CircuitBreaker.js"
import type { CircuitOpen } from "./Errors.js"

/** The id used outside any `Agent.run`. */
export const defaultAgentId = "default"

/** The current agent id. A forked fiber starts with its parent's value. */
export const currentAgentId: FiberRef.FiberRef<string> = globalValue(
  Symbol.for("@fleetguard/core/Agent/currentAgentId"),
  () => FiberRef.unsafeMake(defaultAgentId)
)

/** The running agent's id: "default" outside `Agent.run`. */
export const current: Effect.Effect<string> = FiberRef.get(currentAgentId)

/**
 * Runs `self` as agent `agentId`: everything inside, forked children included, is charged to it.
 * While a CircuitBreaker is in context the agent's fiber is tracked by it: a trip interrupts the
 * agent (so it stops retrying and spawning) and it fails with `CircuitOpen`.
 */
export const run: {
  (agentId: string): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | CircuitOpen, R>
  <A, E, R>(agentId: string, self: Effect.Effect<A, E, R>): Effect.Effect<A, E | CircuitOpen, R>
} = dual(2, <A, E, R>(agentId: string, self: Effect.Effect<A, E, R>) =>
  Effect.flatMap(Effect.serviceOption(CircuitBreaker), (breaker) => {
    const named = Effect.locally(self, currentAgentId, agentId)
    return Option.isSome(breaker) ? breaker.value.track(named) : named
  })
)
