/**
 * fleetguard: cost guards for fleets of concurrent LLM agents, as Effect layers.
 *
 * @packageDocumentation
 * @since 0.1.0
 */
export * as Agent from "./Agent.js"
export {
  Alerts,
  type AlertsOptions,
  type AlertsService,
  type PagerDutyOptions,
  type SinkStats,
  type SlackOptions
} from "./Alerts.js"
export * as Backend from "./Backend.js"
export {
  type AgentSpend,
  Budget,
  type BudgetOptions,
  type BudgetService,
  type BudgetSnapshot,
  type Reservation,
  type WithReservationOptions
} from "./Budget.js"
export {
  type BreakerState,
  CircuitBreaker,
  type CircuitBreakerOptions,
  type CircuitBreakerService,
  type CircuitBreakerSnapshot,
  type FailureRateOptions
} from "./CircuitBreaker.js"
export {
  Concurrency,
  type ConcurrencyOptions,
  type ConcurrencyService,
  type ConcurrencySnapshot
} from "./Concurrency.js"
export { Depth, type DepthOptions, type DepthService, type FanOutResult } from "./Depth.js"
export * as Env from "./Env.js"
export * from "./Errors.js"
export * as Events from "./Events.js"
export { GuardEvent, GuardEvents, type GuardEventsService, RunId } from "./Events.js"
export { type GuardServices, Guards, type GuardsOptions, type WrapError, type WrapOptions } from "./Guards.js"
export {
  Journal,
  type JournalContents,
  JournalLine,
  JournalNotFound,
  type JournalOptions,
  type JournalService,
  type JournalStats,
  JournalUnavailable
} from "./Journal.js"
export type * from "./Llm.js"
export { LlmClient, type LlmClientService } from "./LlmClient.js"
export { LlmProvider, type LlmProviderService } from "./LlmProvider.js"
export * as Metrics from "./Metrics.js"
export * as Options from "./Options.js"
export { type InputTokenCounter, type ModelPrice, type PriceTable, Pricing, type PricingService } from "./Pricing.js"
export * as ProviderHttp from "./ProviderHttp.js"
export { type ErrorResponse, providerErrorFrom, statusOfErrorType } from "./ProviderHttp.js"
export { Retry, type RetryOptions, type RetryPolicy } from "./Retry.js"
