/**
 * Agent: names the running agent. Budgets are kept per agent, so every call made inside
 * `Agent.run(id, ...)` — in forked children too — is charged to `id`.
 *
 * @module
 * @since 0.1.0
 */
import { Effect, Option } from "effect"
import { CircuitBreaker } from "./CircuitBreaker.js"
import type { CircuitOpen } from "./Errors.js"
import * as AgentId from "./internal/runtime/agentId.js"

/**
 * The id used outside any `Agent.run`.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultAgentId: string = AgentId.defaultAgentId

/**
 * The current agent id, as a FiberRef: a forked fiber starts with its parent's value.
 *
 * @since 0.1.0
 * @category fiber refs
 */
export const currentAgentId = AgentId.currentAgentId

/**
 * The running agent's id: "default" outside `Agent.run`.
 *
 * @since 0.1.0
 * @category accessors
 */
export const current: Effect.Effect<string> = AgentId.current

/**
 * Runs `self` as agent `agentId`: everything inside, forked children included, is charged to it.
 * While a CircuitBreaker is in context the agent's fiber is tracked by it: a trip interrupts the
 * agent (so it stops retrying and spawning) and it fails with `CircuitOpen`.
 *
 * @since 0.1.0
 * @category combinators
 */
export const run: {
  (agentId: string): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | CircuitOpen, R>
  <A, E, R>(agentId: string, self: Effect.Effect<A, E, R>): Effect.Effect<A, E | CircuitOpen, R>
} = ((agentId: string, self?: Effect.Effect<unknown, unknown, unknown>) => {
  // The id comes first in both forms, so Effect's `dual` (which puts the effect first) does not fit.
  return self === undefined
    ? (effect: Effect.Effect<unknown, unknown, unknown>) => runAs(agentId, effect)
    : runAs(agentId, self)
}) as never

const runAs = <A, E, R>(agentId: string, self: Effect.Effect<A, E, R>): Effect.Effect<A, E | CircuitOpen, R> =>
  Effect.flatMap(Effect.serviceOption(CircuitBreaker), (breaker) => {
    const named = Effect.locally(self, AgentId.currentAgentId, agentId)
    return Option.isSome(breaker) ? breaker.value.track(named) : named
  })
