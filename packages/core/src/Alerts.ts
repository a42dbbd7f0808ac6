/**
 * Alerts: webhook sinks on the `GuardEvents` hub — Slack incoming webhooks and the PagerDuty Events
 * API v2, through @effect/platform's `HttpClient`. They fire when exposure crosses `alertAt`, when
 * the fleet budget is exhausted, when the breaker opens (PagerDuty resolves it when it closes) and
 * when a rate-limit pause is capped by `maxPause`; once per incident.
 *
 * Delivery never blocks or fails a call: each sink has a bounded queue and one fiber that delivers
 * in order, retrying with backoff. Each attempt is published as `AlertDelivered` or `AlertFailed`
 * (and so journaled). The webhook URL and the routing key are `Redacted`: they appear in no log,
 * error, event or span (the HTTP client's spans, which record the URL, are turned off).
 *
 * @module
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import {
  Config,
  Context,
  Duration,
  Effect,
  Either,
  Fiber,
  Layer,
  Metric,
  Option,
  Queue,
  Redacted,
  Schema,
  type Scope
} from "effect"
import { Budget } from "./Budget.js"
import * as Env from "./Env.js"
import { InvalidOption } from "./Errors.js"
import * as Events from "./Events.js"
import * as Alert from "./internal/alerts.js"
import * as Metrics from "./Metrics.js"
import { check, decode, layerFromConfig, Options, option } from "./Options.js"

/**
 * Where to post alerts to Slack: an incoming webhook.
 *
 * @since 0.1.0
 * @category models
 */
export interface SlackOptions {
  /** The incoming webhook's URL: it is the credential. */
  readonly webhookUrl: Redacted.Redacted<string>
}

/**
 * Where to send alerts to PagerDuty: an Events API v2 integration.
 *
 * @since 0.1.0
 * @category models
 */
export interface PagerDutyOptions {
  /** The integration's routing key. */
  readonly routingKey: Redacted.Redacted<string>
  /** The Events API v2 endpoint; default https://events.pagerduty.com/v2/enqueue. */
  readonly url?: string | undefined
}

/**
 * The sinks to run; each one left out is off.
 *
 * @since 0.1.0
 * @category models
 */
export interface AlertsOptions {
  readonly slack?: SlackOptions | undefined
  readonly pagerDuty?: PagerDutyOptions | undefined
}

/**
 * What a sink has done so far: alerts delivered, attempts failed, alerts dropped.
 *
 * @since 0.1.0
 * @category models
 */
export interface SinkStats {
  readonly delivered: number
  /** Attempts that failed, retried or not. */
  readonly failedAttempts: number
  /** Alerts never delivered: the queue was full, or the last attempt failed. */
  readonly dropped: number
}

/**
 * The running sinks, and each one's delivery counts.
 *
 * @since 0.1.0
 * @category models
 */
export interface AlertsService {
  readonly sinks: ReadonlyArray<Events.AlertSink>
  readonly stats: Effect.Effect<Readonly<Partial<Record<Events.AlertSink, SinkStats>>>>
}

/**
 * The PagerDuty Events API v2 endpoint used when `PagerDutyOptions.url` is not given.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultPagerDutyUrl = "https://events.pagerduty.com/v2/enqueue"

/**
 * Attempts per alert; the waits between them double from `firstRetryAfter`: 1, 2, 4, 8 s.
 *
 * @since 0.1.0
 * @category constants
 */
export const maxAttempts = 5
const firstRetryAfter = Duration.seconds(1)
/** An endpoint that has not answered by then counts as a failed attempt. */
const attemptTimeout = Duration.seconds(10)
/** Alerts waiting per sink; rare by construction (once per incident), so a full queue means a stuck endpoint. */
const queueCapacity = 32
/** How long closing the layer waits for alerts still being delivered. */
const drainTimeout = Duration.seconds(10)

const isSecret = (u: unknown): u is Redacted.Redacted<string> =>
  Redacted.isRedacted(u) && typeof Redacted.value(u) === "string"

const isHttpUrl = (text: string) => {
  const url = URL.parse(text)
  return url !== null && (url.protocol === "https:" || url.protocol === "http:")
}

const OptionsSchema = Options({
  slack: Schema.optional(
    Options({ webhookUrl: option(isSecret, "must be the webhook URL as a Redacted string (Redacted.make(url))") })
  ),
  pagerDuty: Schema.optional(
    Options({
      routingKey: option(isSecret, "must be the routing key as a Redacted string (Redacted.make(key))"),
      url: Schema.optional(
        option((u): u is string => typeof u === "string" && isHttpUrl(u), "must be an absolute http(s) URL")
      )
    })
  )
})

/** Options whose value an error must not show, even when given in the wrong form. */
const secretOptions: ReadonlySet<string> = new Set(["slack.webhookUrl", "pagerDuty.routingKey"])

/** Why an attempt failed, in words that never hold the URL or the key. */
interface Failure {
  readonly status?: number | undefined
  readonly reason: string
  readonly retryable: boolean
}

interface Sink {
  readonly name: Events.AlertSink
  readonly accepts: (alert: Alert.Alert) => boolean
  readonly send: (alert: Alert.Alert, spend: Alert.Spend | undefined) => Effect.Effect<number, Failure>
}

/** POSTs `body` and classifies the answer: 2xx delivered; 429, 5xx and no answer retried; other 4xx not. */
const post = (client: HttpClient.HttpClient, url: string, body: unknown): Effect.Effect<number, Failure> =>
  client.execute(HttpClientRequest.bodyUnsafeJson(HttpClientRequest.post(url), body)).pipe(
    Effect.timeoutFail({
      duration: attemptTimeout,
      onTimeout: (): Failure => ({ reason: `no answer within ${Duration.format(attemptTimeout)}`, retryable: true })
    }),
    Effect.mapError(
      (error): Failure =>
        "retryable" in error ? error : { reason: `no answer (${error._tag}: ${error.reason})`, retryable: true }
    ),
    Effect.flatMap((response) =>
      Effect.zipRight(
        Effect.ignore(response.text),
        response.status >= 200 && response.status < 300
          ? Effect.succeed(response.status)
          : Effect.fail<Failure>({
              status: response.status,
              reason: `answered ${response.status}`,
              retryable: response.status === 429 || response.status >= 500
            })
      )
    )
  )

const slackSink = (slack: SlackOptions, client: HttpClient.HttpClient, origin: Alert.Origin): Sink => ({
  name: "slack",
  // Slack is told what happened; resolving incidents is PagerDuty's.
  accepts: (alert) => alert.action === "trigger",
  send: (alert, spend) => post(client, Redacted.value(slack.webhookUrl), Alert.slackMessage(alert, spend, origin))
})

const pagerDutySink = (pagerDuty: PagerDutyOptions, client: HttpClient.HttpClient, origin: Alert.Origin): Sink => ({
  name: "pagerduty",
  accepts: () => true,
  send: (alert, spend) =>
    post(client, pagerDuty.url ?? defaultPagerDutyUrl, {
      routing_key: Redacted.value(pagerDuty.routingKey),
      ...Alert.pagerDutyEvent(alert, spend, origin)
    })
})

/** One span per attempt: alerts are rare, and the HTTP client's own spans are off. */
const traced = <A, E>(
  self: Effect.Effect<A, E>,
  about: { readonly sink: string; readonly kind: string; readonly incident: string; readonly attempt: number }
) =>
  Effect.withSpan(self, "Alerts.deliver", {
    attributes: {
      "fleetguard.alert.sink": about.sink,
      "fleetguard.alert.kind": about.kind,
      "fleetguard.alert.incident": about.incident,
      "fleetguard.alert.attempt": about.attempt
    }
  })

interface Delivery {
  readonly alert: Alert.Alert
  readonly spend: Alert.Spend | undefined
}

/** A sink with its queue, its counts, and whether anything is waiting or being delivered. */
interface Runner {
  readonly sink: Sink
  readonly queue: Queue.Queue<Delivery>
  readonly stats: { delivered: number; failedAttempts: number; dropped: number }
  readonly metrics: { readonly [K in "delivered" | "failed" | "dropped"]: Metric.Metric.Counter<number> }
  readonly idle: Effect.Latch
  pending: number
}

const attemptOf = (runner: Runner, alert: Alert.Alert, attempt: number) => ({
  sink: runner.sink.name,
  kind: alert.kind,
  incident: alert.incident,
  attempt
})

const drop = (runner: Runner, alert: Alert.Alert, count: number, why: string) =>
  Effect.zipRight(
    Effect.sync(() => {
      runner.stats.dropped += count
      runner.metrics.dropped.unsafeUpdate(count, [])
    }),
    Effect.logWarning(`fleetguard alerts: the ${alert.kind} alert was not delivered to ${runner.sink.name}: ${why}`)
  )

/** Attempt `n` of a delivery, and the ones after it while the failures are worth retrying. */
const attempt = (runner: Runner, delivery: Delivery, n: number): Effect.Effect<void> =>
  Effect.flatMap(
    Effect.either(traced(runner.sink.send(delivery.alert, delivery.spend), attemptOf(runner, delivery.alert, n))),
    (result) => {
      const about = attemptOf(runner, delivery.alert, n)
      if (Either.isRight(result)) {
        runner.stats.delivered++
        runner.metrics.delivered.unsafeUpdate(1, [])
        return Events.publish((at) => new Events.AlertDelivered({ at, ...about, status: result.right }))
      }
      const { status, reason, retryable } = result.left
      const retrying = retryable && n < maxAttempts
      runner.stats.failedAttempts++
      runner.metrics.failed.unsafeUpdate(1, [])
      return Effect.zipRight(
        Events.publish((at) => new Events.AlertFailed({ at, ...about, status, reason, retrying })),
        retrying
          ? Effect.zipRight(
              Effect.sleep(Duration.times(firstRetryAfter, 2 ** (n - 1))),
              attempt(runner, delivery, n + 1)
            )
          : drop(runner, delivery.alert, 1, `${reason} (attempt ${n})`)
      )
    }
  )

/** Queues a delivery, or drops it (counted) when the queue is full: the router never waits. */
const offer = (runner: Runner, delivery: Delivery) =>
  Effect.suspend(() => {
    if (!runner.queue.unsafeOffer(delivery))
      return drop(runner, delivery.alert, 1, `${queueCapacity} alerts were already waiting`)
    runner.pending++
    runner.idle.unsafeClose()
    return Effect.void
  })

/** Waits, for at most `drainTimeout`, until nothing is waiting or being delivered. */
const drained = (runner: Runner) =>
  Effect.catchAll(Effect.timeout(runner.idle.await, drainTimeout), () =>
    Effect.zipRight(
      Effect.sync(() => {
        runner.stats.dropped += runner.pending
        runner.metrics.dropped.unsafeUpdate(runner.pending, [])
      }),
      Effect.logWarning(
        `fleetguard alerts: ${runner.pending} alert(s) to ${runner.sink.name} were still undelivered at close`
      )
    )
  )

/** A sink's queue and the fiber that delivers from it, one alert at a time. */
const run = (sink: Sink): Effect.Effect<Runner, never, Scope.Scope> =>
  Effect.gen(function* () {
    const attempts = Metric.tagged(Metrics.alertAttempts, "sink", sink.name)
    const runner: Runner = {
      sink,
      queue: yield* Queue.bounded<Delivery>(queueCapacity),
      stats: { delivered: 0, failedAttempts: 0, dropped: 0 },
      metrics: {
        delivered: Metric.tagged(attempts, "outcome", "delivered"),
        failed: Metric.tagged(attempts, "outcome", "failed"),
        dropped: Metric.tagged(Metrics.alertsDropped, "sink", sink.name)
      },
      idle: yield* Effect.makeLatch(true),
      pending: 0
    }
    const done = Effect.sync(() => {
      if (--runner.pending === 0) runner.idle.unsafeOpen()
    })
    yield* Effect.forkScoped(
      Effect.forever(Effect.flatMap(Queue.take(runner.queue), (d) => Effect.ensuring(attempt(runner, d, 1), done)))
    )
    return runner
  })

const decodeOptions = (options: AlertsOptions) =>
  Effect.gen(function* () {
    const decoded = yield* Effect.mapError(decode(OptionsSchema, options), (error) =>
      secretOptions.has(error.option) ? new InvalidOption({ ...error, value: "<redacted>" }) : error
    )
    if (decoded.slack !== undefined)
      yield* check(
        "slack.webhookUrl",
        decoded.slack.webhookUrl,
        (url) => isHttpUrl(Redacted.value(url)),
        "must be an absolute http(s) URL"
      )
    return decoded
  })

/**
 * Starts the sinks `options` name, in `scope`: each subscribes to the `GuardEvents` hub and
 * delivers from a queue of its own; closing the scope waits a bounded time for alerts still being
 * delivered.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: AlertsOptions
): Effect.Effect<AlertsService, InvalidOption, HttpClient.HttpClient | Scope.Scope> =>
  Effect.gen(function* () {
    const decoded = yield* decodeOptions(options)
    // The client's spans record the full URL, and a webhook URL is a credential.
    const client = HttpClient.withTracerDisabledWhen(yield* HttpClient.HttpClient, () => true)
    const origin = { runId: yield* Events.RunId, pid: process.pid }
    const runners = yield* Effect.forEach(
      [
        ...(decoded.slack === undefined ? [] : [slackSink(decoded.slack, client, origin)]),
        ...(decoded.pagerDuty === undefined ? [] : [pagerDutySink(decoded.pagerDuty, client, origin)])
      ],
      run
    )
    const budget = yield* Effect.serviceOption(Budget)
    // Spend as it stood when the incident happened, whenever the alert is delivered.
    const spendNow = Option.match(budget, {
      onNone: () => Effect.succeed(undefined),
      onSome: (b) => Effect.map(b.snapshot, Alert.spendOf)
    })
    let state = Alert.initial
    const route = (event: Events.GuardEvent) => {
      const [alert, next] = Alert.decide(state, event)
      state = next
      if (alert === undefined) return Effect.void
      const accepting = runners.filter((r) => r.sink.accepts(alert))
      return Effect.flatMap(spendNow, (spend) => Effect.forEach(accepting, (r) => offer(r, { alert, spend })))
    }
    const subscription = yield* Events.subscribe
    const router = yield* Effect.forkScoped(
      Effect.forever(Effect.flatMap(Queue.takeBetween(subscription, 1, Infinity), Effect.forEach(route)))
    )
    // Added last, so it runs first: alerts raised before the close are delivered, for a while.
    yield* Effect.addFinalizer(() =>
      Effect.gen(function* () {
        // A router the hub has just handed events to runs before this fiber does again; interrupted
        // before it ran, it would lose them (an alert raised as the program ends).
        yield* Effect.yieldNow()
        yield* Fiber.interrupt(router)
        yield* Effect.forEach(yield* Queue.takeAll(subscription), route)
        yield* Effect.forEach(runners, drained, { concurrency: "unbounded" })
      })
    )
    return {
      sinks: runners.map((r) => r.sink.name),
      stats: Effect.sync(() => Object.fromEntries(runners.map((r) => [r.sink.name, { ...r.stats }])))
    } satisfies AlertsService
  })

/**
 * The `Alerts` service with the sinks `options` name, running for the layer's lifetime.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: AlertsOptions): Layer.Layer<Alerts, InvalidOption, HttpClient.HttpClient> =>
  Layer.scoped(Alerts, make(options))

/**
 * FLEETGUARD_SLACK_WEBHOOK_URL, FLEETGUARD_PAGERDUTY_ROUTING_KEY and FLEETGUARD_PAGERDUTY_URL;
 * undefined when neither sink is set.
 *
 * @since 0.1.0
 * @category config
 */
export const config: Config.Config<AlertsOptions | undefined> = Config.all({
  webhookUrl: Env.optional(Env.secret("FLEETGUARD_SLACK_WEBHOOK_URL")),
  routingKey: Env.optional(Env.secret("FLEETGUARD_PAGERDUTY_ROUTING_KEY")),
  url: Env.optional(Env.text("FLEETGUARD_PAGERDUTY_URL"))
}).pipe(
  Config.map(({ webhookUrl, routingKey, url }) =>
    webhookUrl === undefined && routingKey === undefined
      ? undefined
      : {
          slack: webhookUrl === undefined ? undefined : { webhookUrl },
          pagerDuty: routingKey === undefined ? undefined : { routingKey, url }
        }
  )
)

/**
 * The sinks the variables set, running for the layer's lifetime; nothing when none is set.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (options: Config.Config<AlertsOptions | undefined> = config) =>
  layerFromConfig(
    options,
    {
      "slack.webhookUrl": "FLEETGUARD_SLACK_WEBHOOK_URL",
      "pagerDuty.routingKey": "FLEETGUARD_PAGERDUTY_ROUTING_KEY",
      "pagerDuty.url": "FLEETGUARD_PAGERDUTY_URL"
    },
    (given): Layer.Layer<never, InvalidOption, HttpClient.HttpClient> =>
      given === undefined ? Layer.empty : Layer.scopedDiscard(make(given))
  )

/**
 * The tag of the running alert sinks, with the module's constructors and layers as static members.
 *
 * @since 0.1.0
 * @category tags
 */
export class Alerts extends Context.Tag("@fleetguard/core/Alerts")<Alerts, AlertsService>() {
  static readonly make = make
  static readonly layer = layer
  static readonly layerConfig = layerConfig
  static readonly config = config
}
