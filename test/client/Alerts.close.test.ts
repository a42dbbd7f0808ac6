/**
 * Closing the alerts with an endpoint that is down ends within the drain timeout, whatever the
 * endpoint does (5xx, 429, no answer, a dropped connection), and every alert that was not
 * delivered is published — and so journaled — as a final `AlertFailed`.
 */
import { FetchHttpClient, FileSystem, HttpClient } from "@effect/platform"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { describe, expect, it } from "@effect/vitest"
import { Alerts, type AlertsOptions, Budget, Events, GuardEvents, Guards, Journal, RunId } from "@fleetguard/core"
import {
  Chunk,
  ConfigProvider,
  Context,
  Effect,
  Exit,
  Fiber,
  Layer,
  Logger,
  Queue,
  Redacted,
  Scope,
  TestClock
} from "effect"
import { type Answer, endsSoon, eventually, receiver, sleepersAt } from "../support/receiver.js"

const opened = (at: number) =>
  new Events.BreakerOpened({ at, interrupted: 1, interruptedAgents: 1, trips: 1, reopenAt: at + 30_000 })
const closed = (at: number) => new Events.BreakerClosed({ at })
const publishAll = (events: ReadonlyArray<Events.GuardEvent>) =>
  Effect.forEach(events, (event) => Events.publish(() => event), { discard: true })

const both = (url: string, extra: Partial<AlertsOptions> = {}): AlertsOptions => ({
  slack: { webhookUrl: Redacted.make(`${url}/slack`) },
  pagerDuty: { routingKey: Redacted.make("KEY"), url: `${url}/pd` },
  ...extra
})

const alertsAt = (options: AlertsOptions) => Alerts.layer(options).pipe(Layer.provide(FetchHttpClient.layer))

/** The last attempt event of each alert (sink, kind, incident), in the order the alerts first showed up. */
const lastAttempts = (events: ReadonlyArray<Events.GuardEvent>) => {
  const last = new Map<string, Events.AlertDelivered | Events.AlertFailed>()
  for (const e of events)
    if (e._tag === "AlertDelivered" || e._tag === "AlertFailed") last.set(`${e.sink}/${e.kind}/${e.incident}`, e)
  return [...last.values()]
}

const provided = <A, E, R>(self: Effect.Effect<A, E, R>) =>
  self.pipe(
    Effect.scoped,
    Effect.provide(Layer.mergeAll(NodeContext.layer, GuardEvents.layer(), Logger.remove(Logger.defaultLogger))),
    Effect.provideService(RunId, "run-close")
  )

const down: ReadonlyArray<readonly [string, Answer]> = [
  ["answers 500", 500],
  ["answers 429 with a retry-after", { status: 429, headers: { "retry-after": "30" } }],
  ["never answers", "hang"],
  ["drops the connection", "drop"]
]

describe("closing Alerts with an endpoint down", () => {
  for (const [behaviour, answer] of down)
    it.effect(
      `an endpoint that ${behaviour}: the close ends at the 10 s drain timeout; no alert is lost silently`,
      () =>
        provided(
          Effect.gen(function* () {
            const http = yield* receiver(() => answer)
            const events = yield* Events.subscribe
            const scope = yield* Scope.make()
            const alerts = Context.get(yield* Layer.buildWithScope(alertsAt(both(http.url)), scope), Alerts)
            // Slack gets the two triggers, PagerDuty the triggers and the resolve.
            yield* publishAll([opened(0), closed(1), opened(2)])
            yield* eventually(http.received, (r) => r.length >= 2, "the first attempts")
            const before = yield* sleepersAt(10_000)
            // A daemon: a close that hangs must fail the test, not hold it.
            const closing = yield* Effect.forkDaemon(Scope.close(scope, Exit.void))
            yield* eventually(sleepersAt(10_000), (n) => n > before, "the drain's deadline")
            yield* TestClock.adjust("10 seconds")
            yield* endsSoon(closing, "the close")

            const final = lastAttempts(Chunk.toReadonlyArray(yield* Queue.takeAll(events)))
            expect(final.map((e) => [e.sink, e.kind, e.incident]).sort()).toEqual(
              [
                ["slack", "BreakerOpened", "breaker-1"],
                ["pagerduty", "BreakerOpened", "breaker-1"],
                ["slack", "BreakerOpened", "breaker-2"],
                ["pagerduty", "BreakerClosed", "breaker-1"],
                ["pagerduty", "BreakerOpened", "breaker-2"]
              ].sort()
            )
            for (const e of final) expect(e).toMatchObject({ _tag: "AlertFailed", retrying: false })
            expect(yield* alerts.stats).toEqual({
              slack: expect.objectContaining({ delivered: 0, dropped: 2 }),
              pagerduty: expect.objectContaining({ delivered: 0, dropped: 3 })
            })
          })
        )
    )
})

describe("closing Alerts on time", () => {
  it.live(
    "with drainTimeout 200 millis, each kind of endpoint down holds the close about 200 ms, on the wall clock",
    () =>
      Effect.forEach(down, ([behaviour, answer]) =>
        provided(
          Effect.gen(function* () {
            const http = yield* receiver(() => answer)
            const scope = yield* Scope.make()
            yield* Layer.buildWithScope(alertsAt(both(http.url, { drainTimeout: "200 millis" })), scope)
            yield* publishAll([opened(0), closed(1), opened(2)])
            yield* eventually(http.received, (r) => r.length >= 2, "the first attempts")
            const start = Date.now()
            yield* endsSoon(yield* Effect.forkDaemon(Scope.close(scope, Exit.void)), "the close")
            // The bound, and what a busy machine adds to it (without the fix: 15 s and more).
            expect(Date.now() - start, behaviour).toBeLessThan(3_000)
          })
        )
      )
  )

  it.effect("an HttpClient that ignores interruption holds the close 100 ms past the deadline, no more", () =>
    provided(
      Effect.gen(function* () {
        const deaf = HttpClient.make(() => Effect.uninterruptible(Effect.never))
        const events = yield* Events.subscribe
        const scope = yield* Scope.make()
        const layer = Alerts.layer({ pagerDuty: { routingKey: Redacted.make("KEY") } })
        yield* Layer.buildWithScope(Layer.provide(layer, Layer.succeed(HttpClient.HttpClient, deaf)), scope)
        yield* publishAll([opened(0)])
        // The attempt's own timeout is at 10 s too; the drain's deadline makes a second sleeper there.
        yield* eventually(sleepersAt(10_000), (n) => n === 1, "the attempt")
        const closing = yield* Effect.forkDaemon(Scope.close(scope, Exit.void))
        yield* eventually(sleepersAt(10_000), (n) => n === 2, "the drain's deadline")
        yield* TestClock.adjust("10 seconds")
        yield* eventually(sleepersAt(10_100), (n) => n === 1, "the grace after the interruption")
        expect(closing.unsafePoll()).toBe(null)
        yield* TestClock.adjust("100 millis")
        expect(Exit.isSuccess(yield* endsSoon(closing, "the close"))).toBe(true)
        expect(lastAttempts(Chunk.toReadonlyArray(yield* Queue.takeAll(events)))).toMatchObject([
          { _tag: "AlertFailed", attempt: 1, retrying: false, reason: "no answer before the layer closed" }
        ])
      })
    )
  )

  it.effect("interrupting the program does not cut the drain short: a retry due before the deadline is delivered", () =>
    provided(
      Effect.gen(function* () {
        const http = yield* receiver((i) => (i === 0 ? 500 : 202))
        const events = yield* Events.subscribe
        const program = yield* Effect.forkDaemon(
          Effect.scoped(
            Effect.gen(function* () {
              yield* Layer.buildWithScope(alertsAt({ pagerDuty: both(http.url).pagerDuty }), yield* Effect.scope)
              yield* publishAll([opened(0)])
              return yield* Effect.never
            })
          )
        )
        yield* eventually(http.received, (r) => r.length === 1, "the first attempt")
        yield* eventually(TestClock.sleeps(), (s) => Chunk.toReadonlyArray(s).includes(1_000), "the backoff")
        yield* Fiber.interruptFork(program)
        yield* eventually(sleepersAt(10_000), (n) => n === 1, "the drain's deadline")
        yield* TestClock.adjust("1 second")
        expect(Exit.isInterrupted(yield* endsSoon(program, "the program's end"))).toBe(true)
        expect(yield* http.received).toHaveLength(2)
        expect(lastAttempts(Chunk.toReadonlyArray(yield* Queue.takeAll(events)))).toMatchObject([
          { _tag: "AlertDelivered", sink: "pagerduty", attempt: 2, status: 202 }
        ])
      })
    )
  )

  it.effect("a ledger that does not answer delays an alert 1 s at most; it goes without the spend", () =>
    provided(
      Effect.gen(function* () {
        const http = yield* receiver(() => 200)
        const stuck = Layer.effect(
          Budget,
          Effect.map(Budget.make({ limitUsd: 1 }), (b) => ({ ...b, snapshot: Effect.never }))
        )
        const scope = yield* Scope.make()
        yield* Layer.buildWithScope(alertsAt(both(http.url)).pipe(Layer.provide(stuck)), scope)
        yield* publishAll([opened(0)])
        yield* eventually(TestClock.sleeps(), (s) => Chunk.toReadonlyArray(s).includes(1_000), "the wait for the spend")
        expect(yield* http.received).toEqual([])
        yield* TestClock.adjust("1 second")
        const received = yield* eventually(http.received, (r) => r.length === 2, "both deliveries")
        const slack = received.find((r) => r.path === "/slack")?.body as { text: string }
        expect(slack.text).toContain("Circuit breaker opened")
        expect(slack.text).not.toContain("Spend:")
        yield* endsSoon(yield* Effect.forkDaemon(Scope.close(scope, Exit.void)), "the close")
      })
    )
  )
})

describe("closing Guards.layerConfig() with alerts and a journal", () => {
  it.effect(
    "an endpoint that never answers: closed at the 10 s deadline, each alert journaled AlertFailed before RunEnded",
    () =>
      provided(
        Effect.gen(function* () {
          const fs = yield* FileSystem.FileSystem
          const journal = `${yield* fs.makeTempDirectoryScoped()}/journal.jsonl`
          const http = yield* receiver(() => "hang")
          const env = {
            FLEETGUARD_BUDGET_USD: "1",
            FLEETGUARD_JOURNAL: journal,
            FLEETGUARD_SLACK_WEBHOOK_URL: `${http.url}/slack`,
            FLEETGUARD_PAGERDUTY_ROUTING_KEY: "KEY",
            FLEETGUARD_PAGERDUTY_URL: `${http.url}/pd`
          }
          const program = yield* Effect.forkDaemon(
            Effect.zipRight(
              publishAll([opened(0)]),
              eventually(http.received, (r) => r.length === 2, "both first attempts")
            ).pipe(
              Effect.provide(Guards.layerConfig()),
              Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))
            )
          )
          // Two attempts time out at 10 s; the drain's deadline is the third sleeper then.
          yield* eventually(sleepersAt(10_000), (n) => n === 3, "the drain's deadline")
          yield* TestClock.adjust("10 seconds")
          expect(Exit.isSuccess(yield* endsSoon(program, "the close"))).toBe(true)
          const events = (yield* Journal.read(journal)).lines.map((l) => l.event)
          expect(lastAttempts(events)).toMatchObject([
            { _tag: "AlertFailed", attempt: 1, retrying: false, reason: "no answer before the layer closed" },
            { _tag: "AlertFailed", attempt: 1, retrying: false, reason: "no answer before the layer closed" }
          ])
          expect(events.at(-1)?._tag).toBe("RunEnded")
        })
      )
  )
})
