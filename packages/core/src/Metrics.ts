/**
 * Every metric fleetguard records, as module-level constants with stable names: a library emits,
 * the application chooses the exporter (see docs/observability.md). Tagged variants are built once
 * here, since `Metric.tagged` on every call would build and hash a new metric key each time.
 *
 * @module
 * @since 0.1.0
 */
import { Metric } from "effect"

/**
 * Calls holding a concurrency permit.
 *
 * @since 0.1.0
 * @category concurrency
 */
export const concurrencyInFlight = Metric.gauge("fleetguard_concurrency_in_flight", {
  description: "Calls holding a concurrency permit"
})

/**
 * Callers waiting for the rate-limit gate or for a permit.
 *
 * @since 0.1.0
 * @category concurrency
 */
export const concurrencyWaiting = Metric.gauge("fleetguard_concurrency_waiting", {
  description: "Callers waiting for the rate-limit gate or a concurrency permit"
})

/**
 * Times the rate-limit gate was closed or its closing extended.
 *
 * @since 0.1.0
 * @category concurrency
 */
export const concurrencyPauses = Metric.counter("fleetguard_concurrency_pauses_total", {
  description:
    "Times the shared rate-limit gate closed (a later 429 that only moves the end of a pause is not counted)",
  incremental: true
})

/**
 * USD committed to the fleet ledger.
 *
 * @since 0.1.0
 * @category budget
 */
export const budgetSpentUsd = Metric.counter("fleetguard_budget_spent_usd", {
  description: "USD committed to the fleet ledger"
})

/**
 * Reservations refused, tagged `scope`: the limit that refused them (fleet or agent).
 *
 * @since 0.1.0
 * @category budget
 */
export const budgetRefusals = Metric.counter("fleetguard_budget_refusals_total", {
  description: "Reservations refused by the fleet ledger",
  incremental: true
})

/**
 * `budgetRefusals` tagged by `scope` (fleet, agent), built once: what the guards record.
 *
 * @internal
 * @since 0.1.0
 * @category budget
 */
export const budgetRefusalsByScope = {
  fleet: Metric.tagged(budgetRefusals, "scope", "fleet"),
  agent: Metric.tagged(budgetRefusals, "scope", "agent")
}

/**
 * The breaker's state: 0 closed, 1 half-open, 2 open.
 *
 * @since 0.1.0
 * @category breaker
 */
export const breakerState = Metric.gauge("fleetguard_breaker_state", {
  description: "Circuit breaker state: 0 closed, 1 half-open, 2 open"
})

/**
 * Times the breaker opened.
 *
 * @since 0.1.0
 * @category breaker
 */
export const breakerTrips = Metric.counter("fleetguard_breaker_trips_total", {
  description: "Times the circuit breaker opened",
  incremental: true
})

/**
 * In-flight fibers a trip interrupted.
 *
 * @since 0.1.0
 * @category breaker
 */
export const breakerInterrupted = Metric.counter("fleetguard_breaker_interrupted_total", {
  description: "In-flight fibers interrupted by a trip",
  incremental: true
})

/**
 * Calls refused while the breaker was open.
 *
 * @since 0.1.0
 * @category breaker
 */
export const breakerRejected = Metric.counter("fleetguard_breaker_rejected_total", {
  description: "Calls refused while the breaker was open",
  incremental: true
})

/**
 * LLM calls settled, tagged `outcome`: success, failure, interrupted.
 *
 * @since 0.1.0
 * @category llm
 */
export const llmCalls = Metric.counter("fleetguard_llm_calls_total", {
  description: "LLM calls settled",
  incremental: true
})

/**
 * `llmCalls` tagged by `outcome` (success, failure, interrupted), built once: what the client
 * records.
 *
 * @internal
 * @since 0.1.0
 * @category llm
 */
export const llmCallsByOutcome = {
  success: Metric.tagged(llmCalls, "outcome", "success"),
  failure: Metric.tagged(llmCalls, "outcome", "failure"),
  interrupted: Metric.tagged(llmCalls, "outcome", "interrupted")
}

/**
 * Tokens used by LLM calls, tagged `kind`: input, output, cache_write, cache_read.
 *
 * @since 0.1.0
 * @category llm
 */
export const llmTokens = Metric.counter("fleetguard_llm_tokens_total", {
  description: "Tokens used by LLM calls",
  incremental: true
})

/**
 * `llmTokens` tagged by `kind` (input, output, cache_write, cache_read), built once: what the
 * client records.
 *
 * @internal
 * @since 0.1.0
 * @category llm
 */
export const llmTokensByKind = {
  input: Metric.tagged(llmTokens, "kind", "input"),
  output: Metric.tagged(llmTokens, "kind", "output"),
  cache_write: Metric.tagged(llmTokens, "kind", "cache_write"),
  cache_read: Metric.tagged(llmTokens, "kind", "cache_read")
}

/**
 * USD charged to the ledger for LLM calls.
 *
 * @since 0.1.0
 * @category llm
 */
export const llmCostUsd = Metric.counter("fleetguard_llm_cost_usd_total", { description: "USD charged for LLM calls" })

/**
 * LLM calls refused by a guard, tagged `reason`: the error's tag.
 *
 * @since 0.1.0
 * @category llm
 */
export const llmRejections = Metric.counter("fleetguard_llm_rejections_total", {
  description: "LLM calls refused by a guard",
  incremental: true
})

/**
 * `llmRejections` tagged by `reason` for each guard refusal, built once: what the client records.
 *
 * @internal
 * @since 0.1.0
 * @category llm
 */
export const llmRejectionsByReason: Readonly<Record<string, Metric.Metric.Counter<number>>> = {
  BudgetExceeded: Metric.tagged(llmRejections, "reason", "BudgetExceeded"),
  DepthLimitExceeded: Metric.tagged(llmRejections, "reason", "DepthLimitExceeded"),
  CircuitOpen: Metric.tagged(llmRejections, "reason", "CircuitOpen"),
  UnknownModel: Metric.tagged(llmRejections, "reason", "UnknownModel")
}

/**
 * Retries of LLM calls.
 *
 * @since 0.1.0
 * @category llm
 */
export const llmRetries = Metric.counter("fleetguard_llm_retries_total", {
  description: "LLM call retries",
  incremental: true
})

/**
 * Lines appended to the journal.
 *
 * @since 0.1.0
 * @category journal
 */
export const journalLines = Metric.counter("fleetguard_journal_lines_total", {
  description: "Lines appended to the journal",
  incremental: true
})

/**
 * Events dropped because the journal's queue was full (the count is itself journaled).
 *
 * @since 0.1.0
 * @category journal
 */
export const journalDropped = Metric.counter("fleetguard_journal_dropped_total", {
  description: "Events dropped because the journal's queue was full",
  incremental: true
})

/**
 * Journal lines lost to a failed write.
 *
 * @since 0.1.0
 * @category journal
 */
export const journalFailed = Metric.counter("fleetguard_journal_failed_total", {
  description: "Journal lines lost to a failed write",
  incremental: true
})

/**
 * Times the journal file was rotated.
 *
 * @since 0.1.0
 * @category journal
 */
export const journalRotations = Metric.counter("fleetguard_journal_rotations_total", {
  description: "Times the journal file was rotated",
  incremental: true
})

/**
 * Alert delivery attempts, tagged `sink` and `outcome` (delivered, failed).
 *
 * @since 0.1.0
 * @category alerts
 */
export const alertAttempts = Metric.counter("fleetguard_alerts_attempts_total", {
  description: "Alert delivery attempts",
  incremental: true
})

/**
 * Alerts never delivered, tagged `sink`: the queue was full or every attempt failed.
 *
 * @since 0.1.0
 * @category alerts
 */
export const alertsDropped = Metric.counter("fleetguard_alerts_dropped_total", {
  description: "Alerts never delivered",
  incremental: true
})
