/**
 * Delivering alerts: each sink has a bounded queue and one fiber that delivers from it in order,
 * retrying with backoff; each attempt is published as `AlertDelivered` or `AlertFailed`. Nothing
 * here waits on a caller or fails one: a full queue or a failing endpoint is counted and logged.
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { Duration, Effect, Either, Metric, Queue, type Scope } from "effect"
import * as Events from "../Events.js"
import * as Metrics from "../Metrics.js"
import type * as Alert from "./alerts.js"

/** Attempts per alert; the waits between them double from `firstRetryAfter`: 1, 2, 4, 8 s. */
export const maxAttempts = 5
const firstRetryAfter = Duration.seconds(1)
/** An endpoint that has not answered by then counts as a failed attempt. */
const attemptTimeout = Duration.seconds(10)
/** Alerts waiting per sink; rare by construction (once per incident), so a full queue means a stuck endpoint. */
const queueCapacity = 32
/** How long closing the layer waits for alerts still being delivered. */
const drainTimeout = Duration.seconds(10)

/** Why an attempt failed, in words that never hold the URL or the key. */
export interface Failure {
  readonly status?: number | undefined
  readonly reason: string
  readonly retryable: boolean
}

export interface Sink {
  readonly name: Events.AlertSink
  readonly accepts: (alert: Alert.Alert) => boolean
  readonly send: (alert: Alert.Alert, spend: Alert.Spend | undefined) => Effect.Effect<number, Failure>
}

/** POSTs `body` and classifies the answer: 2xx delivered; 429, 5xx and no answer retried; other 4xx not. */
export const post = (client: HttpClient.HttpClient, url: string, body: unknown): Effect.Effect<number, Failure> =>
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

export interface Delivery {
  readonly alert: Alert.Alert
  readonly spend: Alert.Spend | undefined
}

/** A sink with its queue, its counts, and whether anything is waiting or being delivered. */
export interface Runner {
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
export const offer = (runner: Runner, delivery: Delivery) =>
  Effect.suspend(() => {
    if (!runner.queue.unsafeOffer(delivery))
      return drop(runner, delivery.alert, 1, `${queueCapacity} alerts were already waiting`)
    runner.pending++
    runner.idle.unsafeClose()
    return Effect.void
  })

/** Waits, for at most `drainTimeout`, until nothing is waiting or being delivered. */
export const drained = (runner: Runner) =>
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
export const run = (sink: Sink): Effect.Effect<Runner, never, Scope.Scope> =>
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
