/**
 * What a guarded call reports: a refusal counted by the guard's error, and, when the call ends,
 * its metrics, its span's attributes and its `CallSettled` event.
 */
import { Cause, Exit, type Fiber, Option, type Tracer } from "effect"
import * as Events from "../../Events.js"
import type { Answer, CompletionRequest, Usage } from "../../Llm.js"
import * as Metrics from "../../Metrics.js"
import { failureOf, outcomeOf } from "./settle.js"

const tagOf = (error: unknown): string =>
  typeof error === "object" && error !== null && "_tag" in error ? String(error._tag) : "Unknown"

/** A call refused by a guard, counted by the guard's error. */
export const countRejection = (error: unknown): void => {
  Metrics.llmRejectionsByReason[tagOf(error)]?.unsafeUpdate(1, [])
}

/** A call that ended, as its report reads it. */
export interface Settled {
  readonly fiber: Fiber.RuntimeFiber<unknown, unknown>
  readonly request: CompletionRequest
  readonly agentId: string
  /** What each of its reservations held. */
  readonly estimateUsd: number
  /** Attempts made. */
  readonly made: number
  /** What its attempts were charged, in all. */
  readonly charged: number
  readonly span: Tracer.Span | undefined
}

const countTokens = (usage: Usage): void => {
  Metrics.llmTokensByKind.input.unsafeUpdate(usage.inputTokens, [])
  Metrics.llmTokensByKind.output.unsafeUpdate(usage.outputTokens, [])
  Metrics.llmTokensByKind.cache_write.unsafeUpdate(usage.cacheCreationInputTokens, [])
  Metrics.llmTokensByKind.cache_read.unsafeUpdate(usage.cacheReadInputTokens, [])
}

/**
 * Metrics and span attributes of a call that ended, counted now, and its `CallSettled` event to
 * publish (undefined when nobody listens). `partial` is the usage a stream cut short reported.
 */
export const settled = (
  call: Settled,
  exit: Exit.Exit<Answer, unknown>,
  partial: Usage | undefined
): ReturnType<typeof Events.publishFrom> => {
  const { request, agentId, estimateUsd: reservedUsd, made: attempts, charged: costUsd, span } = call
  const outcome = outcomeOf(exit)
  const usage = Exit.isSuccess(exit) ? exit.value.usage : partial
  Metrics.llmCallsByOutcome[outcome].unsafeUpdate(1, [])
  Metrics.llmCostUsd.unsafeUpdate(costUsd, [])
  if (usage !== undefined) countTokens(usage)
  if (Exit.isFailure(exit)) countRejection(failureOf(exit))
  span?.attribute("fleetguard.attempts", attempts)
  span?.attribute("fleetguard.cost_usd", costUsd)
  return Events.publishFrom(
    call.fiber,
    (at) =>
      new Events.CallSettled(
        {
          at,
          agentId,
          model: request.model,
          outcome,
          attempts,
          reservedUsd,
          costUsd,
          inputTokens: usage?.inputTokens ?? 0,
          outputTokens: usage?.outputTokens ?? 0,
          cacheCreationInputTokens: usage?.cacheCreationInputTokens ?? 0,
          cacheReadInputTokens: usage?.cacheReadInputTokens ?? 0,
          ...(Exit.isFailure(exit) && outcome === "failure"
            ? { error: Option.match(Cause.failureOption(exit.cause), { onNone: () => "Defect", onSome: tagOf }) }
            : {})
        },
        // Built from values this module computed: skip the schema check on the hot path.
        true
      )
  )
}
