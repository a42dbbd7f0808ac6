import { FetchHttpClient, FileSystem } from "@effect/platform"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { describe, expect, it } from "@effect/vitest"
import { Alerts, type AlertsOptions, Budget, Events, GuardEvents, Guards, Journal, RunId } from "@fleetguard/core"
import {
  Chunk,
  ConfigProvider,
  Effect,
  Layer,
  Logger,
  Queue,
  Redacted,
  TestClock,
  TestServices,
  Tracer,
  type Tracer as TracerModule
} from "effect"
import { inProcess } from "./cli.js"
import { eventually, receiver } from "./receiver.js"

const slackSecret = "/services/T000/B000/SLACKSECRETPATH"
const routingKey = "PDROUTINGKEYSECRET"

const opened = (at: number) =>
  new Events.BreakerOpened({ at, interrupted: 4, interruptedAgents: 2, trips: 1, reopenAt: at + 30_000 })
const closed = (at: number) => new Events.BreakerClosed({ at })
const publishAll = (events: ReadonlyArray<Events.GuardEvent>) =>
  Effect.forEach(events, (event) => Events.publish(() => event), { discard: true })

/** Everything logged, and every span's attributes, as text. */
const recorder = Effect.gen(function* () {
  const builtIn = yield* Effect.tracer
  const output: Array<string> = []
  const tracer = Tracer.make({
    span: (name, parent, context, links, startTime, kind, options) => {
      const span: TracerModule.Span = builtIn.span(name, parent, context, links, startTime, kind, options)
      const attribute = span.attribute.bind(span)
      span.attribute = (key, value) => {
        output.push(`${name} ${key}=${String(value)}`)
        attribute(key, value)
      }
      return span
    },
    context: (f) => f()
  })
  const logger = Logger.make(({ message, cause, annotations }) => {
    output.push(JSON.stringify({ message, cause: String(cause), annotations: [...annotations] }))
  })
  return { output, tracer, logger }
})

/** Runs `self` with a hub of its own, a fixed run id, the platform, and logs and spans recorded. */
const operated = <A, E, R>(self: (output: ReadonlyArray<string>) => Effect.Effect<A, E, R>) =>
  Effect.flatMap(recorder, ({ output, tracer, logger }) =>
    self(output).pipe(
      Effect.scoped,
      Effect.provide(
        Layer.mergeAll(NodeContext.layer, GuardEvents.layer(), Logger.replace(Logger.defaultLogger, logger))
      ),
      Effect.provideService(RunId, "run-7"),
      Effect.withTracer(tracer)
    )
  )

const bodies = (received: ReadonlyArray<{ readonly path: string; readonly body: unknown }>, path: string) =>
  received.filter((r) => r.path === path).map((r) => r.body as Record<string, unknown>)

describe("Alerts over HTTP", () => {
  it.effect(
    "through Guards.layerConfig: Slack and PagerDuty payloads, one page per incident, each delivery journaled, no secret anywhere",
    () =>
      operated((output) =>
        Effect.gen(function* () {
          const fs = yield* FileSystem.FileSystem
          const dir = yield* fs.makeTempDirectoryScoped()
          const http = yield* receiver()
          const journal = `${dir}/journal.jsonl`
          const env = {
            FLEETGUARD_BUDGET_USD: "1",
            FLEETGUARD_AGENT_BUDGET_USD: "1",
            FLEETGUARD_JOURNAL: journal,
            FLEETGUARD_SLACK_WEBHOOK_URL: `${http.url}${slackSecret}`,
            FLEETGUARD_PAGERDUTY_ROUTING_KEY: routingKey,
            FLEETGUARD_PAGERDUTY_URL: `${http.url}/pd`
          }
          yield* Effect.gen(function* () {
            yield* Budget.commit(yield* Budget.reserve("planner", 0.5), 0.5)
            // Exposure goes from 75% to 85% when the writer's call settles above its estimate: past alertAt (80%).
            yield* Budget.commit(yield* Budget.reserve("writer", 0.25), 0.35)
            // Opened, re-opened after a failed probe (the same incident), closed.
            yield* publishAll([opened(1_000), opened(40_000), closed(80_000)])
            yield* eventually(http.received, (r) => r.length === 5, "five deliveries")
          }).pipe(
            Effect.provide(Guards.layerConfig()),
            Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))
          )

          const received = yield* http.received
          const slack = bodies(received, slackSecret)
          expect(slack).toHaveLength(2)
          const [threshold, breaker] = slack.map((b) => String(b.text).split("\n"))
          expect(threshold).toEqual([
            "*fleetguard*: Fleet spend and reservations reached 80% of the $1.00 limit",
            "Spend: $0.8500 of $1.00 (85%), $0.0000 reserved",
            "Top agents: planner $0.5000, writer $0.3500",
            `Run run-7, pid ${process.pid}, at 1970-01-01T00:00:00.000Z`
          ])
          expect(breaker?.[0]).toContain("Circuit breaker opened until 1970-01-01T00:00:31.000Z: 4 call(s)")

          const pagerDuty = bodies(received, "/pd")
          expect(pagerDuty.map((b) => [b.event_action, b.dedup_key])).toEqual([
            ["trigger", "fleetguard/run-7/budget-threshold"],
            ["trigger", "fleetguard/run-7/breaker-1"],
            ["resolve", "fleetguard/run-7/breaker-1"]
          ])
          expect(pagerDuty.every((b) => b.routing_key === routingKey)).toBe(true)
          expect(pagerDuty[1]?.payload).toMatchObject({
            severity: "error",
            source: "fleetguard run run-7",
            component: "circuit-breaker",
            class: "BreakerOpened",
            custom_details: { spend: { limitUsd: 1, spentUsd: 0.85 } }
          })

          const lines = (yield* Journal.read(journal)).lines
          const deliveries = lines.flatMap((l) => (l.event._tag === "AlertDelivered" ? [l.event] : []))
          expect(deliveries.map((d) => [d.sink, d.kind, d.incident, d.attempt, d.status])).toEqual(
            expect.arrayContaining([
              ["slack", "BudgetThresholdCrossed", "budget-threshold", 1, 200],
              ["slack", "BreakerOpened", "breaker-1", 1, 200],
              ["pagerduty", "BudgetThresholdCrossed", "budget-threshold", 1, 200],
              ["pagerduty", "BreakerOpened", "breaker-1", 1, 200],
              ["pagerduty", "BreakerClosed", "breaker-1", 1, 200]
            ])
          )
          expect(deliveries).toHaveLength(5)
          expect(lines[0]?.event).toMatchObject({ _tag: "RunStarted", budget: { limitUsd: 1 } })

          const status = yield* inProcess(["status", "--journal", journal])
          expect(status.stdout).toContain("BreakerClosed to pagerduty: delivered")
          const json = yield* inProcess(["status", "--json", "--journal", journal])
          const everything = [yield* fs.readFileString(journal), ...output, status.stdout, json.stdout].join("\n")
          expect(output.some((o) => o.includes("Alerts.deliver"))).toBe(true)
          for (const secret of [slackSecret, "SLACKSECRETPATH", routingKey]) expect(everything).not.toContain(secret)
        })
      )
  )

  it.effect("a 500 is retried after the backoff and the retry delivered; each attempt is published", () =>
    operated(() =>
      Effect.gen(function* () {
        const http = yield* receiver((i) => (i === 0 ? 500 : 202))
        const events = yield* Events.subscribe
        yield* Effect.gen(function* () {
          yield* publishAll([opened(0)])
          yield* eventually(http.received, (r) => r.length === 1, "the first attempt")
          // Asleep until 1 s: 999 ms later it still is, and nothing more was sent.
          yield* eventually(TestClock.sleeps(), (s) => Chunk.toReadonlyArray(s).includes(1_000), "the backoff")
          yield* TestClock.adjust("999 millis")
          expect(Chunk.toReadonlyArray(yield* TestClock.sleeps())).toContain(1_000)
          expect(yield* http.received).toHaveLength(1)
          yield* TestClock.adjust("1 millis")
          yield* eventually(http.received, (r) => r.length === 2, "the retry")
        }).pipe(Effect.provide(pagerDutyTo(`${http.url}/pd`)))
        const attempts = Chunk.toReadonlyArray(yield* Queue.takeAll(events)).filter(
          (e) => e._tag === "AlertFailed" || e._tag === "AlertDelivered"
        )
        expect(attempts).toMatchObject([
          { _tag: "AlertFailed", sink: "pagerduty", attempt: 1, status: 500, reason: "answered 500", retrying: true },
          { _tag: "AlertDelivered", sink: "pagerduty", attempt: 2, status: 202 }
        ])
      })
    )
  )

  it.effect(
    "an endpoint that stays down gets each alert at most 5 times, one request at a time; it is logged without its URL",
    () =>
      operated((output) =>
        Effect.gen(function* () {
          const http = yield* receiver(() => 500)
          const stats = yield* Effect.gen(function* () {
            const alerts = yield* Alerts
            yield* publishAll([opened(0), closed(1), opened(2)])
            // Each failed attempt is followed by a backoff of at most 8 s: move the clock on after each.
            let seen = 0
            while ((yield* alerts.stats).pagerduty?.dropped !== 3) {
              seen =
                (yield* eventually(alerts.stats, (s) => (s.pagerduty?.failedAttempts ?? 0) > seen, "an attempt"))
                  .pagerduty?.failedAttempts ?? 0
              yield* TestClock.adjust("8 seconds")
            }
            return yield* alerts.stats
          }).pipe(Effect.provide(Alerts.layer(pagerDuty(`${http.url}/pd`)).pipe(Layer.provide(FetchHttpClient.layer))))
          expect(stats.pagerduty).toEqual({ delivered: 0, failedAttempts: 15, dropped: 3 })
          const received = yield* http.received
          expect(received).toHaveLength(15)
          expect(received.every((r) => r.concurrent === 1)).toBe(true)
          expect(output.filter((o) => o.includes("was not delivered to pagerduty"))).toHaveLength(3)
          expect(output.join("\n")).not.toContain(routingKey)
        })
      )
  )

  it.effect("an alert raised as the program ends is still delivered", () =>
    operated(() =>
      Effect.gen(function* () {
        const http = yield* receiver(() => 202)
        const exhausted = new Events.BudgetExhausted({
          at: 0,
          agentId: "a",
          requestedUsd: 0.5,
          limitUsd: 1,
          spentUsd: 0.75,
          reservedUsd: 0
        })
        // The router is waiting for events, and the scope closes right after the hub hands it one.
        yield* TestServices.provideLive(Effect.sleep("10 millis")).pipe(
          Effect.zipRight(publishAll([exhausted])),
          Effect.provide(pagerDutyTo(`${http.url}/pd`))
        )
        expect(bodies(yield* http.received, "/pd").map((b) => b.dedup_key)).toEqual([
          "fleetguard/run-7/budget-exhausted"
        ])
      })
    )
  )

  it.effect("alerts beyond the queue are dropped and counted, never waited for", () =>
    operated(() =>
      Effect.gen(function* () {
        const http = yield* receiver(() => 400)
        const incidents = Array.from({ length: 40 }, (_, i) => [opened(2 * i), closed(2 * i + 1)]).flat()
        const stats = yield* Effect.gen(function* () {
          yield* publishAll(incidents)
          const alerts = yield* Alerts
          return yield* eventually(alerts.stats, (s) => s.pagerduty?.dropped === 80, "every alert handled")
        }).pipe(Effect.provide(pagerDutyTo(`${http.url}/pd`)))
        const received = yield* http.received
        // A 400 is not retried: one attempt per alert the queue took, and the rest dropped at once.
        expect(stats.pagerduty?.failedAttempts).toBe(received.length)
        expect(received.length).toBeLessThan(80)
        expect(received.every((r) => r.concurrent === 1)).toBe(true)
      })
    )
  )
})

const pagerDuty = (url: string): AlertsOptions => ({ pagerDuty: { routingKey: Redacted.make(routingKey), url } })

const pagerDutyTo = (url: string) => Alerts.layer(pagerDuty(url)).pipe(Layer.provide(FetchHttpClient.layer))
