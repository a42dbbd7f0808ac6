/**
 * Delivering alerts: each sink has a bounded queue and one fiber that delivers from it in order,
 * retrying with backoff; each attempt is published as `AlertDelivered` or `AlertFailed`. Nothing
 * here waits on a caller or fails one: a full queue or a failing endpoint is counted and logged.
 * Closing has a deadline: no retry is waited for past it, and what is still undelivered when it
 * comes is given up, each alert published as a last `AlertFailed`.
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { Clock, Duration, Effect, Either, Fiber, Metric, type Scope } from "effect"
import * as Events from "../../Events.js"
import * as Metrics from "../../Metrics.js"
import type * as Alert from "./alerts.js"

/** Attempts per alert; the waits between them double from `firstRetryAfter`: 1, 2, 4, 8 s. */
export const maxAttempts = 5
const firstRetryAfter = Duration.seconds(1)
/** An endpoint that has not answered by then counts as a failed attempt. */
const attemptTimeout = Duration.seconds(10)
/** Alerts waiting per sink; rare by construction (once per incident), so a full queue means a stuck endpoint. */
const queueCapacity = 32
/** How long closing the layer waits, unless told otherwise, for alerts still being delivered. */
export const defaultDrainTimeout = Duration.seconds(10)
/** How long closing waits for a delivery fiber it interrupted (one on an HttpClient that ignores interruption). */
const interruptGrace = Duration.millis(100)

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

/** A sink with its deliveries, its counts, and how far the one in hand has gone. */
export interface Runner {
  readonly sink: Sink
  /**
   * The delivery in hand first, then the ones waiting. One leaves only once it is delivered or
   * given up, so that closing finds every one still owed, whenever the sink's fiber was stopped.
   */
  readonly deliveries: Array<Delivery>
  /** The latest attempt of the delivery in hand, and whether it is in flight or awaits its retry. */
  progress: { readonly attempt: number; readonly phase: "sending" | "waiting" } | undefined
  readonly stats: { delivered: number; failedAttempts: number; dropped: number }
  readonly metrics: { readonly [K in "delivered" | "failed" | "dropped"]: Metric.Metric.Counter<number> }
  /** Open while there is nothing to deliver. */
  readonly idle: Effect.Latch
  /** Open while there is something to deliver. */
  readonly busy: Effect.Latch
  /** Opened when the layer starts closing: wakes a delivery asleep before its retry. */
  readonly closing: Effect.Latch
  /** When closing gives up (epoch ms); undefined until the layer closes. */
  deadline: number | undefined
}

const attemptOf = (runner: Runner, alert: Alert.Alert, attempt: number) => ({
  sink: runner.sink.name,
  kind: alert.kind,
  incident: alert.incident,
  attempt
})

const drop = (runner: Runner, alert: Alert.Alert, why: string) =>
  Effect.zipRight(
    Effect.sync(() => {
      runner.stats.dropped++
      runner.metrics.dropped.unsafeUpdate(1, [])
    }),
    Effect.logWarning(`fleetguard alerts: the ${alert.kind} alert was not delivered to ${runner.sink.name}: ${why}`)
  )

/** The alert will not be delivered: its last `AlertFailed` says so (attempt 0: none was made), and it is dropped. */
const giveUp = (runner: Runner, alert: Alert.Alert, attempt: number, reason: string, status?: number) =>
  Effect.zipRight(
    Events.publish(
      (at) => new Events.AlertFailed({ at, ...attemptOf(runner, alert, attempt), status, reason, retrying: false })
    ),
    drop(runner, alert, `${reason} (attempt ${attempt})`)
  )

const backoffMillis = (n: number) => Duration.toMillis(firstRetryAfter) * 2 ** (n - 1)

const dueAfterDeadline = (runner: Runner, due: number) => runner.deadline !== undefined && due >= runner.deadline

/**
 * Sleeps until the retry is due and answers true; answers false as soon as the layer, closing,
 * would give up before then.
 */
const retryDue = (runner: Runner, millis: number) =>
  Effect.flatMap(Clock.currentTimeMillis, (now) =>
    Effect.raceFirst(
      Effect.as(Effect.sleep(millis), true),
      Effect.zipRight(
        runner.closing.await,
        Effect.suspend(() => (dueAfterDeadline(runner, now + millis) ? Effect.succeed(false) : Effect.never))
      )
    )
  )

const notRetried = "not retried: the layer closed before the retry was due"

/** The delivery in hand is done with: its last event, then it leaves, in one step closing cannot split. */
const finish = (runner: Runner, last: Effect.Effect<void>) =>
  Effect.uninterruptible(
    Effect.zipRight(
      last,
      Effect.sync(() => {
        runner.deliveries.shift()
        runner.progress = undefined
      })
    )
  )

/** Attempt `n` of the delivery in hand, and the ones after it while the failures are worth retrying. */
const attempt = (runner: Runner, delivery: Delivery, n: number): Effect.Effect<void> =>
  Effect.suspend(() => {
    runner.progress = { attempt: n, phase: "sending" }
    const about = attemptOf(runner, delivery.alert, n)
    return Effect.flatMap(Effect.either(traced(runner.sink.send(delivery.alert, delivery.spend), about)), (result) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        if (Either.isRight(result)) {
          runner.stats.delivered++
          runner.metrics.delivered.unsafeUpdate(1, [])
          return finish(
            runner,
            Events.publish((at) => new Events.AlertDelivered({ at, ...about, status: result.right }))
          )
        }
        const { status, reason, retryable } = result.left
        runner.stats.failedAttempts++
        runner.metrics.failed.unsafeUpdate(1, [])
        if (!retryable || n >= maxAttempts) return finish(runner, giveUp(runner, delivery.alert, n, reason, status))
        if (dueAfterDeadline(runner, now + backoffMillis(n)))
          return finish(runner, giveUp(runner, delivery.alert, n, `${reason}; ${notRetried}`, status))
        runner.progress = { attempt: n, phase: "waiting" }
        return Effect.zipRight(
          Events.publish((at) => new Events.AlertFailed({ at, ...about, status, reason, retrying: true })),
          Effect.flatMap(retryDue(runner, backoffMillis(n)), (due) =>
            due ? attempt(runner, delivery, n + 1) : finish(runner, giveUp(runner, delivery.alert, n, notRetried))
          )
        )
      })
    )
  })

/** Queues a delivery, or drops it (counted) when the queue is full: the router never waits. */
export const offer = (runner: Runner, delivery: Delivery) =>
  Effect.suspend(() => {
    // The one in hand does not count: `queueCapacity` may wait behind it.
    if (runner.deliveries.length > queueCapacity)
      return drop(runner, delivery.alert, `${queueCapacity} alerts were already waiting`)
    runner.deliveries.push(delivery)
    runner.idle.unsafeClose()
    runner.busy.unsafeOpen()
    return Effect.void
  })

/** Delivers the delivery in hand (the first); waits when there is none. */
const deliverNext = (runner: Runner): Effect.Effect<void> =>
  Effect.suspend(() => {
    const delivery = runner.deliveries[0]
    if (delivery !== undefined) return attempt(runner, delivery, 1)
    runner.busy.unsafeClose()
    runner.idle.unsafeOpen()
    return runner.busy.await
  })

/**
 * Closing: waits until every sink is idle or `deadline` (epoch ms) has come, then stops the sinks'
 * fibers and gives up what is left, each alert published as a last `AlertFailed`. It runs in a
 * finalizer, where nothing is interruptible: each wait is made interruptible and bounded by a
 * timeout, which runs it in a fiber of its own — a timeout around an uninterruptible wait would
 * fire on time and then wait for it to end.
 */
export const close = (runners: ReadonlyArray<Runner>, fibers: ReadonlyArray<Fiber.Fiber<unknown>>, deadline: number) =>
  Effect.gen(function* () {
    for (const runner of runners) {
      runner.deadline = deadline
      runner.closing.unsafeOpen()
    }
    const idle = Effect.forEach(runners, (runner) => runner.idle.await, { concurrency: "unbounded", discard: true })
    const left = Math.max(0, deadline - (yield* Clock.currentTimeMillis))
    yield* Effect.timeoutOption(Effect.interruptible(idle), left)
    yield* Effect.forEach(fibers, Fiber.interruptFork, { discard: true })
    yield* Effect.timeoutOption(Effect.interruptible(Fiber.awaitAll(fibers)), interruptGrace)
    yield* Effect.forEach(runners, abandon, { discard: true })
  })

/** Gives up a closed sink's delivery in hand and every waiting one: nothing recorded is lost silently. */
const abandon = (runner: Runner) =>
  Effect.gen(function* () {
    const [inHand, ...waiting] = runner.deliveries.splice(0)
    const progress = runner.progress
    runner.progress = undefined
    if (inHand !== undefined)
      yield* progress === undefined
        ? giveUp(runner, inHand.alert, 0, "not attempted: the layer closed first")
        : giveUp(
            runner,
            inHand.alert,
            progress.attempt,
            progress.phase === "sending" ? "no answer before the layer closed" : notRetried
          )
    for (const delivery of waiting)
      yield* giveUp(runner, delivery.alert, 0, "not attempted: the layer closed with it still queued")
  })

/** A sink's deliveries and the fiber that delivers them, one alert at a time. */
export const run = (sink: Sink): Effect.Effect<readonly [Runner, Fiber.Fiber<never>], never, Scope.Scope> =>
  Effect.gen(function* () {
    const attempts = Metric.tagged(Metrics.alertAttempts, "sink", sink.name)
    const runner: Runner = {
      sink,
      deliveries: [],
      progress: undefined,
      stats: { delivered: 0, failedAttempts: 0, dropped: 0 },
      metrics: {
        delivered: Metric.tagged(attempts, "outcome", "delivered"),
        failed: Metric.tagged(attempts, "outcome", "failed"),
        dropped: Metric.tagged(Metrics.alertsDropped, "sink", sink.name)
      },
      idle: yield* Effect.makeLatch(true),
      busy: yield* Effect.makeLatch(false),
      closing: yield* Effect.makeLatch(false),
      deadline: undefined
    }
    // A daemon, interrupted without waiting when the scope closes: a scoped fiber would be awaited,
    // and a request on an HttpClient that ignores interruption would hold the close for ever.
    const fiber = yield* Effect.forkDaemon(Effect.forever(deliverNext(runner)))
    yield* Effect.addFinalizer(() => Fiber.interruptFork(fiber))
    return [runner, fiber] as const
  })
