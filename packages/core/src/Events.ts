/**
 * Guard events: every guard publishes what it decided on one `GuardEvents` hub, and sinks (the
 * journal, webhook alerts, metrics) subscribe to it. Events are Schema classes so a sink can encode
 * them as JSON and a reader can decode them back.
 *
 * @module
 * @since 0.1.0
 */

import type { Queue, Scope } from "effect"
import { Context, Effect, type Fiber, Layer, PubSub, Schema } from "effect"
import { LimitScope } from "./Errors.js"
import * as AgentId from "./internal/runtime/agentId.js"
import { nowOf } from "./internal/runtime/fiber.js"

/** Epoch milliseconds, from the Effect `Clock` (TestClock in tests). */
const At = Schema.Number

/**
 * Exposure (spent + reserved) first reached `alertAt` of the fleet limit. Published once.
 *
 * @since 0.1.0
 * @category events
 */
export class BudgetThresholdCrossed extends Schema.TaggedClass<BudgetThresholdCrossed>()("BudgetThresholdCrossed", {
  at: At,
  alertAt: Schema.Number,
  limitUsd: Schema.Number,
  spentUsd: Schema.Number,
  reservedUsd: Schema.Number
}) {}

/**
 * A reservation refused at the fleet limit: published at the first such refusal, and once more at
 * the first one after spend itself reached the limit (the first may have found the budget only
 * held by calls in flight).
 *
 * @since 0.1.0
 * @category events
 */
export class BudgetExhausted extends Schema.TaggedClass<BudgetExhausted>()("BudgetExhausted", {
  at: At,
  agentId: Schema.String,
  requestedUsd: Schema.Number,
  limitUsd: Schema.Number,
  spentUsd: Schema.Number,
  reservedUsd: Schema.Number
}) {}

/**
 * A commit recorded more than its reservation: the estimate was not an upper bound.
 *
 * @since 0.1.0
 * @category events
 */
export class EstimateExceeded extends Schema.TaggedClass<EstimateExceeded>()("EstimateExceeded", {
  at: At,
  agentId: Schema.String,
  reservedUsd: Schema.Number,
  actualUsd: Schema.Number
}) {}

/**
 * A guard refused work without running it.
 *
 * @since 0.1.0
 * @category events
 */
export class Rejected extends Schema.TaggedClass<Rejected>()("Rejected", {
  at: At,
  agentId: Schema.String,
  reason: Schema.Literal("BudgetExceeded", "DepthLimitExceeded", "CircuitOpen", "UnknownModel"),
  scope: Schema.optional(LimitScope),
  detail: Schema.String
}) {}

/**
 * `Depth.fanOut` was given more items than `maxFanOut`; the rest were not run.
 *
 * @since 0.1.0
 * @category events
 */
export class FanOutTruncated extends Schema.TaggedClass<FanOutTruncated>()("FanOutTruncated", {
  at: At,
  agentId: Schema.String,
  depth: Schema.Number,
  requested: Schema.Number,
  admitted: Schema.Number,
  dropped: Schema.Number
}) {}

/**
 * The shared rate-limit gate was closed until `pausedUntil`. `extended`: it was closed already, and
 * this moves the end of the same pause (many callers answered 429 at once make one pause, not one
 * each). `capped`: the provider asked for longer than `maxPause` (`requestedMillis`, absent when
 * infinite); the gate closed for `maxPause` only, and the call that asked was failed rather than
 * retried.
 *
 * @since 0.1.0
 * @category events
 */
export class RateLimitPause extends Schema.TaggedClass<RateLimitPause>()("RateLimitPause", {
  at: At,
  pausedUntil: Schema.Number,
  requestedMillis: Schema.optional(Schema.Number),
  capped: Schema.Boolean,
  extended: Schema.optionalWith(Schema.Boolean, { default: () => false })
}) {}

/**
 * An operator reopened the gate by hand (`Concurrency.resume`).
 *
 * @since 0.1.0
 * @category events
 */
export class RateLimitResumed extends Schema.TaggedClass<RateLimitResumed>()("RateLimitResumed", { at: At }) {}

/**
 * The breaker tripped: every other tracked fiber was interrupted.
 *
 * @since 0.1.0
 * @category events
 */
export class BreakerOpened extends Schema.TaggedClass<BreakerOpened>()("BreakerOpened", {
  at: At,
  /** Tracked fibers the trip interrupted: agents, and calls made outside any agent. */
  interrupted: Schema.Number,
  /** How many of them were agents (run through `Agent.run`), each with whatever it had in flight. */
  interruptedAgents: Schema.Number,
  /** When a probe may be admitted; absent while isolated by an operator. */
  reopenAt: Schema.optional(Schema.Number),
  /** Consecutive openings without a close in between. */
  trips: Schema.Number
}) {}

/**
 * The first probe was admitted after `resetAfter`.
 *
 * @since 0.1.0
 * @category events
 */
export class BreakerHalfOpened extends Schema.TaggedClass<BreakerHalfOpened>()("BreakerHalfOpened", { at: At }) {}

/**
 * The probes succeeded (or an operator reset it): calls flow again.
 *
 * @since 0.1.0
 * @category events
 */
export class BreakerClosed extends Schema.TaggedClass<BreakerClosed>()("BreakerClosed", { at: At }) {}

/**
 * A call through `LlmClient` (or `GuardedLanguageModel`) was settled against the budget. `Guards.wrap`
 * publishes none: it knows no model or tokens; its spend shows in the ledger and its budget events.
 *
 * @since 0.1.0
 * @category events
 */
export class CallSettled extends Schema.TaggedClass<CallSettled>()("CallSettled", {
  at: At,
  agentId: Schema.String,
  model: Schema.String,
  outcome: Schema.Literal("success", "failure", "interrupted"),
  attempts: Schema.Number,
  reservedUsd: Schema.Number,
  costUsd: Schema.Number,
  inputTokens: Schema.Number,
  outputTokens: Schema.Number,
  cacheCreationInputTokens: Schema.Number,
  cacheReadInputTokens: Schema.Number,
  /** The error's tag when the call failed. */
  error: Schema.optional(Schema.String)
}) {}

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

/**
 * The schema of every event the guards publish: a union of the event classes, by `_tag`, for
 * encoding them to JSON (the journal) and decoding them back.
 *
 * @since 0.1.0
 * @category schemas
 */
export const GuardEvent = Schema.Union(
  BreakerOpened,
  BreakerHalfOpened,
  BreakerClosed,
  CallSettled,
  BudgetThresholdCrossed,
  BudgetExhausted,
  EstimateExceeded,
  Rejected,
  FanOutTruncated,
  RateLimitPause,
  RateLimitResumed,
  RunStarted,
  RunEnded,
  EventsDropped,
  AlertDelivered,
  AlertFailed
)
/**
 * Any event the guards publish; match on `_tag`.
 *
 * @since 0.1.0
 * @category events
 */
export type GuardEvent = typeof GuardEvent.Type

/**
 * A hub of guard events: guards publish on it, sinks subscribe to it.
 *
 * @since 0.1.0
 * @category models
 */
export interface GuardEventsService {
  /** Never suspends: a slow subscriber loses its oldest events rather than slowing a call. */
  readonly publish: (event: GuardEvent) => Effect.Effect<void>
  /** Whether anyone subscribes: with nobody listening an event is not even built. */
  readonly listening: () => boolean
  readonly subscribe: Effect.Effect<Queue.Dequeue<GuardEvent>, never, Scope.Scope>
}

/**
 * How many unread events a subscriber may fall behind before its oldest are dropped.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultCapacity = 4096

/**
 * A hub over a sliding PubSub: publishing never waits for a subscriber.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (capacity: number = defaultCapacity): Effect.Effect<GuardEventsService> =>
  Effect.map(PubSub.sliding<GuardEvent>(capacity), fromPubSub)

const fromPubSub = (pubsub: PubSub.PubSub<GuardEvent>): GuardEventsService => {
  let subscribers = 0
  return {
    publish: (event) => Effect.asVoid(PubSub.publish(pubsub, event)),
    listening: () => subscribers > 0,
    subscribe: Effect.zipRight(
      Effect.acquireRelease(
        Effect.sync(() => subscribers++),
        () => Effect.sync(() => subscribers--)
      ),
      PubSub.subscribe(pubsub)
    )
  }
}

/**
 * The hub guards publish on. It is read from the calling fiber's context when an event is
 * published, so it needs no layer: by default every guard in the process shares one hub;
 * provide `GuardEvents.layer` to give a program (or a test) a hub of its own.
 *
 * @since 0.1.0
 * @category tags
 */
export class GuardEvents extends Context.Reference<GuardEvents>()("@fleetguard/core/GuardEvents", {
  defaultValue: (): GuardEventsService => Effect.runSync(make())
}) {
  static readonly layer = (capacity: number = defaultCapacity): Layer.Layer<GuardEvents> =>
    Layer.effect(GuardEvents, make(capacity))
}

/**
 * Publishes on the hub in context, stamped with the current time; built only if someone listens.
 *
 * @since 0.1.0
 * @category utils
 */
export const publish = (event: (at: number) => GuardEvent): Effect.Effect<void> =>
  Effect.withFiberRuntime((fiber) => publishFrom(fiber, event) ?? Effect.void)

/**
 * What publishing `event` from `fiber` takes, read in the same step: undefined when nobody
 * listens (the event is not even built).
 *
 * @internal
 * @since 0.1.0
 * @category utils
 */
export const publishFrom = (
  fiber: Fiber.RuntimeFiber<unknown, unknown>,
  event: (at: number) => GuardEvent
): Effect.Effect<void> | undefined => {
  const hub = Context.get(fiber.currentContext as Context.Context<GuardEvents>, GuardEvents)
  return hub.listening() ? hub.publish(event(nowOf(fiber))) : undefined
}

/**
 * Publishes a `Rejected` event for the running agent (or `agentId`, when the refusal names one).
 *
 * @since 0.1.0
 * @category utils
 */
export const rejected = (
  reason: Rejected["reason"],
  detail: string,
  options: { readonly agentId?: string; readonly scope?: Rejected["scope"] } = {}
): Effect.Effect<void> =>
  Effect.flatMap(options.agentId === undefined ? AgentId.current : Effect.succeed(options.agentId), (agentId) =>
    publish(
      (at) =>
        new Rejected({ at, agentId, reason, detail, ...(options.scope === undefined ? {} : { scope: options.scope }) })
    )
  )

/**
 * Names this run in the journal and in alerts (PagerDuty's dedup keys). One per process unless
 * provided: two journals in one process then share it.
 *
 * @since 0.1.0
 * @category tags
 */
export class RunId extends Context.Reference<RunId>()("@fleetguard/core/RunId", {
  defaultValue: (): string => crypto.randomUUID()
}) {}

/**
 * Subscribes to the hub in context; the subscription ends with the scope.
 *
 * @since 0.1.0
 * @category utils
 */
export const subscribe: Effect.Effect<Queue.Dequeue<GuardEvent>, never, Scope.Scope> = Effect.flatMap(
  GuardEvents,
  (hub) => hub.subscribe
)
