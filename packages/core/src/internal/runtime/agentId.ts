/**
 * The running agent's id, in a FiberRef below every guard: the guards and their events read it,
 * and `Agent.run` sets it, without any of them importing each other.
 */
import { type Effect, FiberRef } from "effect"
import { globalValue } from "effect/GlobalValue"

import { defaultAgentId } from "../policy/ledger.js"

export { defaultAgentId }

/** The current agent id. A forked fiber starts with its parent's value. */
export const currentAgentId: FiberRef.FiberRef<string> = globalValue(
  Symbol.for("@fleetguard/core/Agent/currentAgentId"),
  () => FiberRef.unsafeMake(defaultAgentId)
)

/** The running agent's id: "default" outside `Agent.run`. */
export const current: Effect.Effect<string> = FiberRef.get(currentAgentId)
