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
import * as FromGuards from "./internal/ops/events/guards.js"
import * as FromOperations from "./internal/ops/events/operations.js"
import * as AgentId from "./internal/runtime/agentId.js"
import { nowOf } from "./internal/runtime/fiber.js"

// The event classes, with their docs, are declared in internal/ops/events/: those of the guards'
// decisions, and those of the operations around them (runs, sinks, alerts).
export {
  BreakerClosed,
  BreakerHalfOpened,
  BreakerOpened,
  BudgetExhausted,
  BudgetThresholdCrossed,
  CallSettled,
  EstimateExceeded,
  FanOutTruncated,
  RateLimitPause,
  RateLimitResumed,
  Rejected
} from "./internal/ops/events/guards.js"
export {
  AlertDelivered,
  AlertFailed,
  AlertKind,
  AlertSink,
  EventsDropped,
  RunEnded,
  RunStarted
} from "./internal/ops/events/operations.js"

/**
 * The schema of every event the guards publish: a union of the event classes, by `_tag`, for
 * encoding them to JSON (the journal) and decoding them back.
 *
 * @since 0.1.0
 * @category schemas
 */
export const GuardEvent = Schema.Union(
  FromGuards.BreakerOpened,
  FromGuards.BreakerHalfOpened,
  FromGuards.BreakerClosed,
  FromGuards.CallSettled,
  FromGuards.BudgetThresholdCrossed,
  FromGuards.BudgetExhausted,
  FromGuards.EstimateExceeded,
  FromGuards.Rejected,
  FromGuards.FanOutTruncated,
  FromGuards.RateLimitPause,
  FromGuards.RateLimitResumed,
  FromOperations.RunStarted,
  FromOperations.RunEnded,
  FromOperations.EventsDropped,
  FromOperations.AlertDelivered,
  FromOperations.AlertFailed
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
  reason: FromGuards.Rejected["reason"],
  detail: string,
  options: { readonly agentId?: string; readonly scope?: FromGuards.Rejected["scope"] } = {}
): Effect.Effect<void> =>
  Effect.flatMap(options.agentId === undefined ? AgentId.current : Effect.succeed(options.agentId), (agentId) =>
    publish(
      (at) =>
        new FromGuards.Rejected({
          at,
          agentId,
          reason,
          detail,
          ...(options.scope === undefined ? {} : { scope: options.scope })
        })
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
