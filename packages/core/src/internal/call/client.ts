/**
 * One guarded call of `LlmClient`, from its checked request: a span when a tracer is installed,
 * the depth check, the upper-bound estimate, then the attempts (`attempts.ts`), which reserve it
 * and settle them. The fleet's door (`fleet.ts`) is built here, once per client.
 */
import { Cause, Context, Effect, type Fiber, Option, Tracer } from "effect"
import type { BudgetService } from "../../Budget.js"
import type { CircuitBreakerService } from "../../CircuitBreaker.js"
import type { ConcurrencyService } from "../../Concurrency.js"
import type { DepthService } from "../../Depth.js"
import type { InvalidAmount, InvalidRequest, LlmError, UnknownModel } from "../../Errors.js"
import * as Events from "../../Events.js"
import type { Answer, CompletionRequest, GuardedCall } from "../../Llm.js"
import type { PricingService } from "../../Pricing.js"
import { Retry, type RetryPolicy } from "../../Retry.js"
import * as RetryBudget from "../policy/retry.js"
import * as AgentId from "../runtime/agentId.js"
import { matchNow } from "../runtime/fiber.js"
import * as Attempts from "./attempts.js"
import { Coordination } from "./coordination.js"
import { Fleet, Prices } from "./fleet.js"
import * as Report from "./report.js"

/** The guards and the retry policy a client is built over. */
export interface Services {
  readonly concurrency: ConcurrencyService
  readonly budget: BudgetService
  readonly depth: DepthService
  readonly breaker: CircuitBreakerService
  readonly pricing: PricingService
  readonly policy: RetryPolicy
}

/** One guarded call, named for its span: the answer with what it cost, or a typed failure. */
export type Guarded = <A extends Answer>(
  name: string,
  request: CompletionRequest,
  call: GuardedCall<A>
) => Effect.Effect<A & { readonly costUsd: number }, LlmError>

/** The tracer every Effect program has unless one is provided (it exports nothing). */
const builtInTracer = Effect.runSync(Effect.tracer)

/** An estimate refused: an unknown model is counted and published as a rejection, then fails the call. */
const refusedEstimate = (cause: Cause.Cause<UnknownModel | InvalidAmount | InvalidRequest>) => {
  const error = Option.getOrUndefined(Cause.failureOption(cause))
  if (error?._tag !== "UnknownModel") return Effect.failCause(cause)
  Report.countRejection(error)
  return Effect.zipRight(Events.rejected("UnknownModel", `model "${error.model}"`), Effect.failCause(cause))
}

/** The guarded call of a client over `services`; every call of the client shares its retry tokens. */
export const make = ({ concurrency, budget, depth, breaker, pricing, policy }: Services): Guarded => {
  const fleet = new Fleet(budget, concurrency, breaker, depth)
  const prices = new Prices(pricing)
  const retryTokens = {
    current: RetryBudget.fullTokens(Retry.budgetTokensFor(policy, concurrency.limit), policy.budgetTokenRatio)
  }
  const attempts = Attempts.make({
    fleet,
    prices,
    coordination: new Coordination(policy, concurrency.maxPauseMillis, retryTokens)
  })

  // Depth → upper-bound estimate → attempts (which reserve it and settle them).
  const run = <A extends Answer>(
    request: CompletionRequest,
    fiber: Fiber.RuntimeFiber<unknown, unknown>,
    span: Tracer.Span | undefined,
    call: GuardedCall<A>
  ): Effect.Effect<A & { readonly costUsd: number }, LlmError> => {
    const agentId = fiber.getFiberRef(AgentId.currentAgentId)
    const priced = matchNow(prices.estimate(request), refusedEstimate, (estimateUsd) =>
      attempts(request, agentId, span, fiber, estimateUsd, call)
    )
    return fleet.withinDepth(fiber, priced, Report.countRejection)
  }

  // One span per call when a tracer is installed: with Effect's built-in tracer nothing exports it,
  // and it measured ~12 µs a call. No stack trace is captured (Effect.fn would, ~25 µs), and
  // attributes go on the span object: annotateCurrentSpan builds an exception when there is no span.
  return (name, request, call) =>
    Effect.withFiberRuntime((fiber) =>
      Context.get(fiber.currentDefaultServices, Tracer.Tracer) === builtInTracer
        ? run(request, fiber, undefined, call)
        : Effect.useSpan(
            name,
            {
              captureStackTrace: false,
              attributes: {
                "fleetguard.model": request.model,
                "fleetguard.agent": fiber.getFiberRef(AgentId.currentAgentId)
              }
            },
            (span) => Effect.withParentSpan(run(request, fiber, span, call), span)
          )
    )
}
