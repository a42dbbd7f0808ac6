/**
 * What a guarded call reports: a refusal counted by the guard's error, and, when the call ends,
 * its metrics, its span's attributes and its `CallSettled` event — for `LlmClient`'s calls, and
 * for `Guards.wrap`'s when they name their model.
 */
import { Cause, Effect, Exit, type Fiber, Option, type Tracer } from "effect"
import * as Events from "../../Events.js"
import type { Usage } from "../../Llm.js"
import * as Metrics from "../../Metrics.js"
import { outcomeOf } from "./settle.js"

const tagOf = (error: unknown): string =>
  typeof error === "object" && error !== null && "_tag" in error ? String(error._tag) : "Unknown"

/** A call refused by a guard, counted by the guard's error. */
export const countRejection = (error: unknown): void => {
  Metrics.llmRejectionsByReason[tagOf(error)]?.unsafeUpdate(1, [])
}

/** Fails with the refusal `cause` holds, counted by its guard's error. */
export const refused = <E>(cause: Cause.Cause<E>): Effect.Effect<never, E> => {
  countRejection(Option.getOrUndefined(Cause.failureOption(cause)))
  return Effect.failCause(cause)
}

/** A call that ended, as its report reads it. */
export interface Settled {
  readonly fiber: Fiber.RuntimeFiber<unknown, unknown>
  /** The model asked for. */
  readonly model: string
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
 * publish (undefined when nobody listens). `usage` is what it used, as far as is known: an
 * answer's, or what a stream cut short reported; its tokens are reported as 0 without it. A
 * refusal is not counted here: each caller counts those of its own guards (`countRejection`).
 */
export const settled = (
  call: Settled,
  exit: Exit.Exit<unknown, unknown>,
  usage: Usage | undefined
): ReturnType<typeof Events.publishFrom> => {
  const { model, agentId, estimateUsd: reservedUsd, made: attempts, charged: costUsd, span } = call
  const outcome = outcomeOf(exit)
  Metrics.llmCallsByOutcome[outcome].unsafeUpdate(1, [])
  Metrics.llmCostUsd.unsafeUpdate(costUsd, [])
  if (usage !== undefined) countTokens(usage)
  span?.attribute("fleetguard.attempts", attempts)
  span?.attribute("fleetguard.cost_usd", costUsd)
  return Events.publishFrom(
    call.fiber,
    (at) =>
      new Events.CallSettled(
        {
          at,
          agentId,
          model,
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
