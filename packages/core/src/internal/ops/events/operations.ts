/**
 * The events of the operations around the guards: a run's start and end, a sink's dropped events,
 * and alert deliveries. `Events.ts` re-exports them; their docs are here.
 */
import { Schema } from "effect"
import { At } from "./guards.js"

/**
 * A run began: the first line a journal writes, with the limits in force (of the guards the journal
 * was built over; absent when it was built without them) and the journal's own settings.
 *
 * @since 0.1.0
 * @category events
 */
export class RunStarted extends Schema.TaggedClass<RunStarted>()("RunStarted", {
  at: At,
  budget: Schema.optional(
    Schema.Struct({ limitUsd: Schema.Number, perAgentLimitUsd: Schema.Number, alertAt: Schema.Number })
  ),
  concurrency: Schema.optional(Schema.Struct({ maxConcurrency: Schema.Number, maxPauseMillis: Schema.Number })),
  depth: Schema.optional(Schema.Struct({ maxDepth: Schema.Number, maxFanOut: Schema.Number })),
  journal: Schema.Struct({ maxBytes: Schema.Number, maxFiles: Schema.Number, capacity: Schema.Number })
}) {}

/**
 * The journal closed: the last line of a run that ended normally, with the ledger's final figures.
 *
 * @since 0.1.0
 * @category events
 */
export class RunEnded extends Schema.TaggedClass<RunEnded>()("RunEnded", {
  at: At,
  spentUsd: Schema.optional(Schema.Number),
  reservedUsd: Schema.optional(Schema.Number)
}) {}

/**
 * A sink's queue was full: this many events were not written (or sent) since the last report.
 *
 * @since 0.1.0
 * @category events
 */
export class EventsDropped extends Schema.TaggedClass<EventsDropped>()("EventsDropped", {
  at: At,
  dropped: Schema.Number
}) {}

/**
 * Where an alert goes.
 *
 * @since 0.1.0
 * @category schemas
 */
export const AlertSink = Schema.Literal("slack", "pagerduty")
/**
 * Where an alert goes: `"slack"` or `"pagerduty"`.
 *
 * @since 0.1.0
 * @category models
 */
export type AlertSink = typeof AlertSink.Type

/**
 * What raised an alert: the tag of the event behind it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const AlertKind = Schema.Literal(
  "BudgetThresholdCrossed",
  "BudgetExhausted",
  "BreakerOpened",
  "BreakerClosed",
  "RateLimitPause"
)
/**
 * What raised an alert: the tag of the event behind it.
 *
 * @since 0.1.0
 * @category models
 */
export type AlertKind = typeof AlertKind.Type

const alertAttempt = {
  at: At,
  sink: AlertSink,
  kind: AlertKind,
  /** The incident the alert belongs to (PagerDuty's dedup key is the run id and this). */
  incident: Schema.String,
  /** 1 for the first attempt; 0 when none was made (still queued when the alerts closed). */
  attempt: Schema.Number
}

/**
 * An alert was accepted by its endpoint.
 *
 * @since 0.1.0
 * @category events
 */
export class AlertDelivered extends Schema.TaggedClass<AlertDelivered>()("AlertDelivered", {
  ...alertAttempt,
  status: Schema.Number
}) {}

/**
 * An attempt to deliver an alert failed; `retrying` says whether another attempt follows.
 *
 * @since 0.1.0
 * @category events
 */
export class AlertFailed extends Schema.TaggedClass<AlertFailed>()("AlertFailed", {
  ...alertAttempt,
  /** The endpoint's answer, absent when none came. */
  status: Schema.optional(Schema.Number),
  /** What went wrong, never the endpoint's URL or key. */
  reason: Schema.String,
  retrying: Schema.Boolean
}) {}
