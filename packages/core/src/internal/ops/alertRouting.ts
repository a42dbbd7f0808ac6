/**
 * The running sinks: each alert an event raises (once per incident) is handed, with the spend at
 * that moment, to the sinks that take it; closing routes what the hub still holds and then closes
 * the deliveries, by the drain deadline.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import { Chunk, Clock, Duration, Effect, Fiber, Option, Queue, Redacted, type Scope } from "effect"
import { Budget, type BudgetService } from "../../Budget.js"
import * as Events from "../../Events.js"
import * as Delivery from "./alertDelivery.js"
import * as Alert from "./alerts.js"

interface Slack {
  readonly webhookUrl: Redacted.Redacted<string>
}

interface PagerDuty {
  readonly routingKey: Redacted.Redacted<string>
  readonly url?: string | undefined
}

/** The decoded options (the public `AlertsOptions`, with `drainTimeout` in millis). */
export interface Settings {
  readonly slack?: Slack | undefined
  readonly pagerDuty?: PagerDuty | undefined
  readonly drainTimeout?: number | undefined
}

/** The running sinks (the public `AlertsService`). */
export interface Running {
  readonly sinks: ReadonlyArray<Events.AlertSink>
  readonly stats: Effect.Effect<Readonly<Partial<Record<Events.AlertSink, Delivery.Runner["stats"]>>>>
}

/** The Events API v2 endpoint, when `PagerDutyOptions.url` is not given. */
const defaultPagerDutyUrl = "https://events.pagerduty.com/v2/enqueue"

/** How long an alert waits for the ledger's spend before it goes without. */
const spendTimeout = 1_000

const slackSink = (slack: Slack, client: HttpClient.HttpClient, origin: Alert.Origin): Delivery.Sink => ({
  name: "slack",
  // Slack is told what happened; resolving incidents is PagerDuty's.
  accepts: (alert) => alert.action === "trigger",
  send: (alert, spend) =>
    Delivery.post(client, Redacted.value(slack.webhookUrl), Alert.slackMessage(alert, spend, origin))
})

const pagerDutySink = (pagerDuty: PagerDuty, client: HttpClient.HttpClient, origin: Alert.Origin): Delivery.Sink => ({
  name: "pagerduty",
  accepts: () => true,
  send: (alert, spend) =>
    Delivery.post(client, pagerDuty.url ?? defaultPagerDutyUrl, {
      routing_key: Redacted.value(pagerDuty.routingKey),
      ...Alert.pagerDutyEvent(alert, spend, origin)
    })
})

/**
 * Spend as it stood when the incident happened, whenever the alert is delivered; left out when the
 * ledger does not answer within `millis` (a store that is down): no alert waits on it.
 */
const spendWithin = (budget: Option.Option<BudgetService>, millis: number) =>
  Option.match(budget, {
    onNone: () => Effect.succeed(undefined),
    onSome: (b) =>
      Effect.map(Effect.timeoutOption(Effect.interruptible(b.snapshot), millis), (snapshot) =>
        Option.getOrUndefined(Option.map(snapshot, Alert.spendOf))
      )
  })

/** Hands the sinks the alerts events raise, once per incident, each with the spend. */
const router = (runners: ReadonlyArray<Delivery.Runner>, budget: Option.Option<BudgetService>) => {
  let state = Alert.initial
  return (events: Iterable<Events.GuardEvent>, spendMillis: number) => {
    const alerts: Array<Alert.Alert> = []
    for (const event of events) {
      const [alert, next] = Alert.decide(state, event)
      state = next
      if (alert !== undefined) alerts.push(alert)
    }
    if (alerts.length === 0) return Effect.void
    return Effect.flatMap(spendWithin(budget, spendMillis), (spend) =>
      Effect.forEach(alerts, (alert) =>
        Effect.forEach(
          runners.filter((r) => r.sink.accepts(alert)),
          (r) => Delivery.offer(r, { alert, spend })
        )
      )
    )
  }
}

/** Starts the sinks `decoded` names, in the scope; the rest of the docs are on `Alerts.make`. */
export const start = (decoded: Settings): Effect.Effect<Running, never, HttpClient.HttpClient | Scope.Scope> =>
  Effect.gen(function* () {
    // The client's spans record the full URL, and a webhook URL is a credential.
    const client = HttpClient.withTracerDisabledWhen(yield* HttpClient.HttpClient, () => true)
    const origin = { runId: yield* Events.RunId, pid: process.pid }
    const started = yield* Effect.forEach(
      [
        ...(decoded.slack === undefined ? [] : [slackSink(decoded.slack, client, origin)]),
        ...(decoded.pagerDuty === undefined ? [] : [pagerDutySink(decoded.pagerDuty, client, origin)])
      ],
      Delivery.run
    )
    const runners = started.map(([runner]) => runner)
    const route = router(runners, yield* Effect.serviceOption(Budget))
    const subscription = yield* Events.subscribe
    // A batch taken is routed whole (within `spendTimeout`): interrupted half-way, its alerts would be lost.
    const routing = yield* Effect.forkScoped(
      Effect.forever(
        Effect.flatMap(Queue.takeBetween(subscription, 1, Infinity), (events) =>
          Effect.uninterruptible(route(events, spendTimeout))
        )
      )
    )
    const drainMillis = decoded.drainTimeout ?? Duration.toMillis(Delivery.defaultDrainTimeout)
    // Added last, so it runs first: alerts raised before the close are delivered, until the deadline.
    yield* Effect.addFinalizer(() =>
      Effect.gen(function* () {
        const deadline = (yield* Clock.currentTimeMillis) + drainMillis
        // A router the hub has just handed events to runs before this fiber does again; interrupted
        // before it ran, it would lose them (an alert raised as the program ends).
        yield* Effect.yieldNow()
        yield* Fiber.interrupt(routing)
        const left = Chunk.toReadonlyArray(yield* Queue.takeAll(subscription))
        yield* route(left, Math.min(spendTimeout, drainMillis))
        yield* Delivery.close(
          runners,
          started.map(([, fiber]) => fiber),
          deadline
        )
      })
    )
    return {
      sinks: runners.map((r) => r.sink.name),
      stats: Effect.sync(() => Object.fromEntries(runners.map((r) => [r.sink.name, { ...r.stats }])))
    }
  })
