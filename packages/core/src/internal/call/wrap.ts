/**
 * `Guards.wrap`'s call, top to bottom: its options checked, the fleet over the guards in context
 * (built once per set of services), the depth check, a reservation of the estimate, one pass
 * through the gate, a permit and the breaker, then settlement by `settle.ts`'s rule.
 */
import { Context, Effect, Either, type Fiber } from "effect"
import { Budget } from "../../Budget.js"
import { CircuitBreaker } from "../../CircuitBreaker.js"
import { Concurrency } from "../../Concurrency.js"
import { Depth } from "../../Depth.js"
import { type DepthLimitExceeded, InvalidAmount } from "../../Errors.js"
import { isGroup } from "../../Options.js"
import { nanosOf } from "../backend/budget.js"
import { readField, unreadable } from "../policy/values.js"
import * as AgentId from "../runtime/agentId.js"
import { flatMapNow } from "../runtime/fiber.js"
import { Fleet, type PassError, type ReserveError } from "./fleet.js"
import * as Settle from "./settle.js"

type AnyFiber = Fiber.RuntimeFiber<unknown, unknown>

type Services = Budget | Concurrency | CircuitBreaker | Depth

/** Every failure the guards add to the wrapped effect's own (`WrapError`). */
type Refusal = ReserveError | PassError | DepthLimitExceeded

/** What `Guards.wrap` reserves, and what a success cost (`WrapOptions`). */
export interface Costs<A> {
  /** The upper bound reserved before `self` runs. */
  readonly estimateUsd: number
  /** What a success cost; a cost that cannot be computed is charged as the full reservation. */
  readonly actualUsd: (a: A) => number
}

/** `options[field]`, or `InvalidAmount` naming it when reading it throws. */
const fieldOf = (options: object, field: string): unknown => {
  const value = readField(options, field)
  return value === unreadable
    ? new InvalidAmount({ field, value: undefined, reason: "could not be read (reading it threw)" })
    : value
}

/**
 * `wrap`'s options, each read once (a getter runs once), or `InvalidAmount` naming what is wrong:
 * not an object, an estimate the ledger cannot hold, a cost that is not a function.
 */
const checked = <A>(options: Costs<A>): Costs<A> | InvalidAmount => {
  if (!isGroup(options))
    return new InvalidAmount({
      field: "options",
      value: options,
      reason: "must be an object { estimateUsd, actualUsd }"
    })
  const estimateUsd = fieldOf(options, "estimateUsd")
  if (estimateUsd instanceof InvalidAmount) return estimateUsd
  const estimate = nanosOf("estimateUsd", estimateUsd)
  if (Either.isLeft(estimate)) return estimate.left
  const actualUsd = fieldOf(options, "actualUsd")
  if (actualUsd instanceof InvalidAmount) return actualUsd
  return typeof actualUsd === "function"
    ? { estimateUsd: estimateUsd as number, actualUsd: actualUsd as (a: A) => number }
    : new InvalidAmount({
        field: "actualUsd",
        value: actualUsd,
        reason: "must be a function from the result to its cost in USD"
      })
}

/** One fleet per set of services, found by its budget: the door is built once, not per call. */
const fleets = new WeakMap<object, Fleet>()

/** The fleet over the guards in `fiber`'s context; undefined when one of them is missing. */
const fleetIn = (fiber: AnyFiber): Fleet | undefined => {
  const context = fiber.currentContext as Context.Context<Services>
  const budget = Context.getOption(context, Budget)
  const concurrency = Context.getOption(context, Concurrency)
  const breaker = Context.getOption(context, CircuitBreaker)
  const depth = Context.getOption(context, Depth)
  if (budget._tag === "None" || concurrency._tag === "None" || breaker._tag === "None" || depth._tag === "None")
    return undefined
  const known = fleets.get(budget.value)
  if (
    known !== undefined &&
    known.concurrency === concurrency.value &&
    known.breaker === breaker.value &&
    known.depth === depth.value
  )
    return known
  const fleet = new Fleet(budget.value, concurrency.value, breaker.value, depth.value)
  fleets.set(budget.value, fleet)
  return fleet
}

/** `self` under every guard in context, reserving and charging as `options` say (see `Guards.wrap`). */
export const wrap = <A, E, R>(
  self: Effect.Effect<A, E, R>,
  options: Costs<A>
): Effect.Effect<A, E | Refusal, R | Services> =>
  Effect.withFiberRuntime<A, E | Refusal, R | Services>((fiber) => {
    const fleet = fleetIn(fiber)
    // A missing guard fails as reading its tag does.
    if (fleet === undefined)
      return Effect.zipRight(Effect.all([Budget, Concurrency, CircuitBreaker, Depth]), Effect.dieMessage("unreachable"))
    const costs = checked(options)
    if (costs instanceof InvalidAmount) return Effect.fail(costs)
    const costOf = (a: A) => costs.actualUsd.call(options, a)
    const guarded = Effect.uninterruptibleMask((restore) =>
      flatMapNow(fleet.reserve(fiber.getFiberRef(AgentId.currentAgentId), costs.estimateUsd), (reservation) => {
        let started = false
        const call = Effect.suspend(() => {
          started = true
          return self
        })
        return Effect.flatMap(fleet.pass(fiber, restore, call, undefined), (exit) =>
          Effect.zipRight(fleet.settle(reservation, Settle.owedForWrapped(exit, started, costOf)), exit)
        )
      })
    )
    return fleet.withinDepth(fiber, guarded)
  })
