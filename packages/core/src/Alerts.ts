/**
 * Alerts: webhook sinks on the `GuardEvents` hub — Slack incoming webhooks and the PagerDuty Events
 * API v2, through @effect/platform's `HttpClient`. They fire when exposure crosses `alertAt`, when
 * a call is refused at the fleet limit (critical only once spend itself has reached it), when the
 * breaker opens (PagerDuty resolves it when it closes) and when a rate-limit pause is capped by
 * `maxPause`; once per incident.
 *
 * Delivery never blocks or fails a call: each sink has a bounded queue and one fiber that delivers
 * in order, retrying with backoff. Each attempt is published as `AlertDelivered` or `AlertFailed`
 * (and so journaled). Closing waits `drainTimeout` at most, then gives up what is left, each alert
 * published as a last `AlertFailed`. The webhook URL and the routing key are `Redacted`: they appear in no log,
 * error, event or span (the HTTP client's spans, which record the URL, are turned off).
 *
 * @module
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import {
  Config,
  ConfigError,
  Context,
  type Duration,
  Effect,
  Either,
  Layer,
  Redacted,
  Schema,
  type Scope
} from "effect"
import * as Env from "./Env.js"
import { InvalidOption } from "./Errors.js"
import type * as Events from "./Events.js"
import * as Routing from "./internal/ops/alertRouting.js"
import { check, DurationMillis, decode, layerFromConfig, Options, option } from "./Options.js"

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
  /**
   * How long closing the layer waits for alerts still being delivered; default 10 seconds. What is
   * still undelivered then is given up, each alert published as a last `AlertFailed`.
   */
  readonly drainTimeout?: Duration.DurationInput | undefined
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
  ),
  drainTimeout: Schema.optional(DurationMillis(true))
})

/** Options whose value an error must not show, even when given in the wrong form. */
const secretOptions: ReadonlySet<string> = new Set(["slack.webhookUrl", "pagerDuty.routingKey"])

const decodeOptions = (options: AlertsOptions) =>
  Effect.gen(function* () {
    const decoded = yield* Effect.mapError(decode(OptionsSchema, options), (error) =>
      secretOptions.has(error.option) ? new InvalidOption({ ...error, value: "<redacted>" }) : error
    )
    // Checked as text here, not by the schema: a failure must show the Redacted, never the text.
    if (decoded.slack !== undefined)
      yield* check(
        "slack.webhookUrl",
        decoded.slack.webhookUrl,
        (url) => isHttpUrl(Redacted.value(url)),
        "must be an absolute http(s) URL"
      )
    if (decoded.pagerDuty !== undefined)
      yield* check(
        "pagerDuty.routingKey",
        decoded.pagerDuty.routingKey,
        (key) => Redacted.value(key).trim() !== "",
        "must not be empty"
      )
    return decoded
  })

/**
 * Starts the sinks `options` name, in `scope`: each subscribes to the `GuardEvents` hub and
 * delivers from a queue of its own; closing the scope waits for alerts still being delivered, for
 * `drainTimeout` at most, and gives up the rest (each published as a last `AlertFailed`).
 *
 * @since 0.1.0
 * @category constructors
 */
const make = (
  options: AlertsOptions
): Effect.Effect<AlertsService, InvalidOption, HttpClient.HttpClient | Scope.Scope> =>
  Effect.flatMap(decodeOptions(options), Routing.start)

/**
 * The `Alerts` service with the sinks `options` name, running for the layer's lifetime.
 *
 * @since 0.1.0
 * @category layers
 */
const layer = (options: AlertsOptions): Layer.Layer<Alerts, InvalidOption, HttpClient.HttpClient> =>
  Layer.scoped(Alerts, make(options))

/**
 * FLEETGUARD_SLACK_WEBHOOK_URL, FLEETGUARD_PAGERDUTY_ROUTING_KEY and FLEETGUARD_PAGERDUTY_URL;
 * undefined when neither sink is set. FLEETGUARD_PAGERDUTY_URL without a routing key fails.
 *
 * @since 0.1.0
 * @category config
 */
const config: Config.Config<AlertsOptions | undefined> = Config.all({
  webhookUrl: Env.optional(Env.secret("FLEETGUARD_SLACK_WEBHOOK_URL")),
  routingKey: Env.optional(Env.secret("FLEETGUARD_PAGERDUTY_ROUTING_KEY")),
  url: Env.optional(Env.text("FLEETGUARD_PAGERDUTY_URL"))
}).pipe(
  Config.mapOrFail(({ webhookUrl, routingKey, url }) => {
    // An endpoint with no key to send it would turn PagerDuty off without a word.
    if (url !== undefined && routingKey === undefined)
      return Either.left(
        ConfigError.InvalidData(
          ["FLEETGUARD_PAGERDUTY_ROUTING_KEY"],
          "is not set, but FLEETGUARD_PAGERDUTY_URL is: PagerDuty alerts need a routing key (or unset FLEETGUARD_PAGERDUTY_URL)"
        )
      )
    return Either.right(
      webhookUrl === undefined && routingKey === undefined
        ? undefined
        : {
            slack: webhookUrl === undefined ? undefined : { webhookUrl },
            pagerDuty: routingKey === undefined ? undefined : { routingKey, url }
          }
    )
  })
)

/**
 * The sinks the variables set, running for the layer's lifetime; nothing when none is set.
 *
 * @since 0.1.0
 * @category layers
 */
const layerConfig = (options: Config.Config<AlertsOptions | undefined> = config) =>
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
