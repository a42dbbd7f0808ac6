/**
 * `Guards.wrap`'s call, top to bottom: its options checked, the fleet over the guards in context
 * (built once per set of services), the depth check, a reservation of the estimate, one pass
 * through the gate, a permit and the breaker, then settlement by `settle.ts`'s rule; the guards'
 * refusals are counted, and a call that names its model is reported as `LlmClient`'s are.
 */
import { Context, Effect, Either, Exit, type Fiber } from "effect"
import { Budget } from "../../Budget.js"
import { CircuitBreaker } from "../../CircuitBreaker.js"
import { Concurrency } from "../../Concurrency.js"
import { Depth } from "../../Depth.js"
import { type DepthLimitExceeded, InvalidAmount } from "../../Errors.js"
import type { Usage } from "../../Llm.js"
import { isGroup } from "../../Options.js"
import { nanosOf } from "../backend/budget.js"
import { isTokenCount, readField, unreadable } from "../policy/values.js"
import * as AgentId from "../runtime/agentId.js"
import { flatMapNow, matchNow } from "../runtime/fiber.js"
import { Fleet, type PassError, type ReserveError } from "./fleet.js"
import * as Report from "./report.js"
import * as Settle from "./settle.js"

type AnyFiber = Fiber.RuntimeFiber<unknown, unknown>

type Services = Budget | Concurrency | CircuitBreaker | Depth

/** Every failure the guards add to the wrapped effect's own (`WrapError`). */
type Refusal = ReserveError | PassError | DepthLimitExceeded

/** What `Guards.wrap` reserves, what a success cost, and what the call is reported as (`WrapOptions`). */
export interface Costs<A> {
  /** The upper bound reserved before `self` runs. */
  readonly estimateUsd: number
  /** What a success cost; a cost that cannot be computed is charged as the full reservation. */
  readonly actualUsd: (a: A) => number
  /**
   * The model the effect calls (a non-empty string). With it, the call is reported as
   * `LlmClient`'s are: a `CallSettled` event (agent, model, outcome, attempts, reservation, what
   * it was charged, tokens) for the journal, the alerts and `fleetguard status`, and the
   * `fleetguard_llm_*` metrics. Without it, the call is charged but not reported.
   */
  readonly model?: string | undefined
  /**
   * What a success used, from the answer (another SDK's usage, mapped to tokens); needs `model`.
   * Without it the call is reported with 0 tokens. A usage that cannot be read (the function
   * throws, or a count is not a whole number ≥ 0; a cache count left out is 0) is logged as a
   * warning and reported with 0 tokens: it never fails the call, and never changes its charge,
   * which is `actualUsd`'s.
   */
  readonly usage?: ((a: A) => Usage) | undefined
}

/** The options as read, once: what the call reserves, charges and reports. */
interface Checked<A> {
  readonly estimateUsd: number
  readonly actualUsd: (a: A) => number
  readonly model: string | undefined
  readonly usage: ((a: A) => unknown) | undefined
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
 * not an object, an estimate the ledger cannot hold, a cost that is not a function, or a report
 * that cannot be made (`refusedReport`).
 */
const checked = <A>(options: Costs<A>): Checked<A> | InvalidAmount => {
  if (!isGroup(options))
    return new InvalidAmount({
      field: "options",
      value: options,
      reason: "must be an object { estimateUsd, actualUsd, model?, usage? }"
    })
  const estimateUsd = fieldOf(options, "estimateUsd")
  if (estimateUsd instanceof InvalidAmount) return estimateUsd
  const estimate = nanosOf("estimateUsd", estimateUsd)
  if (Either.isLeft(estimate)) return estimate.left
  const actualUsd = fieldOf(options, "actualUsd")
  if (actualUsd instanceof InvalidAmount) return actualUsd
  if (typeof actualUsd !== "function")
    return new InvalidAmount({
      field: "actualUsd",
      value: actualUsd,
      reason: "must be a function from the result to its cost in USD"
    })
  const model = fieldOf(options, "model")
  const usage = fieldOf(options, "usage")
  return (
    refusedReport(model, usage) ?? {
      estimateUsd: estimateUsd as number,
      actualUsd: actualUsd as (a: A) => number,
      model: model as string | undefined,
      usage: usage as ((a: A) => unknown) | undefined
    }
  )
}

/** What is wrong with `model` and `usage` as read (`fieldOf`), naming the field; undefined if nothing. */
const refusedReport = (model: unknown, usage: unknown): InvalidAmount | undefined => {
  if (model instanceof InvalidAmount) return model
  if (model !== undefined && (typeof model !== "string" || model === ""))
    return new InvalidAmount({ field: "model", value: model, reason: "must be a non-empty string: the model called" })
  if (usage instanceof InvalidAmount) return usage
  if (usage !== undefined && typeof usage !== "function")
    return new InvalidAmount({
      field: "usage",
      value: usage,
      reason: "must be a function from the result to its usage"
    })
  return usage !== undefined && model === undefined
    ? new InvalidAmount({ field: "model", value: model, reason: "is required with usage: it names the call" })
    : undefined
}

/**
 * What `read` says `value` used, read once into a copy; undefined when it throws or answers
 * anything but a usage (a cache count left out is 0: another SDK may not have one).
 */
const usageOf = <A>(read: (a: A) => unknown, options: object, value: A): Usage | undefined => {
  try {
    const given = read.call(options, value)
    if (typeof given !== "object" || given === null) return undefined
    const { inputTokens, outputTokens, cacheCreationInputTokens = 0, cacheReadInputTokens = 0 } = given as Usage
    return isTokenCount(inputTokens) &&
      isTokenCount(outputTokens) &&
      isTokenCount(cacheCreationInputTokens) &&
      isTokenCount(cacheReadInputTokens)
      ? { inputTokens, outputTokens, cacheCreationInputTokens, cacheReadInputTokens }
      : undefined
  } catch {
    return undefined
  }
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

/**
 * A wrapped call that ended, charged `charged`: a refusal of the guards (not one of `self`'s own
 * errors) counted; the call reported when it names its model; then its exit.
 */
const ended = <A, E>(
  fiber: AnyFiber,
  agentId: string,
  costs: Checked<A>,
  options: object,
  exit: Exit.Exit<A, E>,
  started: boolean,
  charged: number
): Effect.Effect<A, E> => {
  if (Exit.isFailure(exit) && (!started || Settle.cutOff(exit))) Report.countRejection(Settle.failureOf(exit))
  const { model, usage: read } = costs
  if (model === undefined) return exit
  const usage = Exit.isSuccess(exit) && read !== undefined ? usageOf(read, options, exit.value) : undefined
  const made = started ? 1 : 0
  const report = Report.settled(
    { fiber, model, agentId, estimateUsd: costs.estimateUsd, made, charged, span: undefined },
    exit,
    usage
  )
  const reported = report === undefined ? exit : Effect.zipRight(report, exit)
  return usage === undefined && read !== undefined && Exit.isSuccess(exit)
    ? Effect.zipRight(
        Effect.logWarning("fleetguard: Guards.wrap's usage could not be read; the call is reported with 0 tokens"),
        reported
      )
    : reported
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
    const agentId = fiber.getFiberRef(AgentId.currentAgentId)
    const guarded = Effect.uninterruptibleMask((restore) =>
      matchNow(fleet.reserve(agentId, costs.estimateUsd), Report.refused, (reservation) => {
        let started = false
        const call = Effect.suspend(() => {
          started = true
          return self
        })
        return Effect.flatMap(fleet.pass(fiber, restore, call, undefined), (exit) =>
          flatMapNow(fleet.settle(reservation, Settle.owedForWrapped(exit, started, costOf)), (charged) =>
            ended(fiber, agentId, costs, options, exit, started, charged)
          )
        )
      })
    )
    return fleet.withinDepth(fiber, guarded, Report.countRejection)
  })
