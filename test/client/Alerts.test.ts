// Alerts, in one place: what it decides and writes (the incidents, the messages, the options),
// then its delivery over real HTTP, through Guards.layerConfig and read back by `fleetguard status`
// (which is why it lives here rather than in core: the CLI and the HTTP receiver are not core's).

import { FetchHttpClient, FileSystem, HttpClient } from "@effect/platform"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { describe, expect, it } from "@effect/vitest"
import {
  Alerts,
  type AlertsOptions,
  Budget,
  Env,
  Events,
  GuardEvents,
  Guards,
  InvalidOption,
  Journal,
  RunId
} from "@fleetguard/core"
import {
  Cause,
  Chunk,
  ConfigError,
  ConfigProvider,
  Effect,
  Exit,
  FastCheck as fc,
  Layer,
  Logger,
  Queue,
  Redacted,
  TestClock,
  TestServices,
  Tracer,
  type Tracer as TracerModule
} from "effect"
import * as Alert from "../../packages/core/src/internal/ops/alerts.js"
import { inProcess } from "../support/cli.js"
import { eventually, receiver } from "../support/receiver.js"

const opened = (at: number) =>
  new Events.BreakerOpened({ at, interrupted: 3, interruptedAgents: 2, trips: 1, reopenAt: at + 30_000 })
const closed = (at: number) => new Events.BreakerClosed({ at })
const capped = (at: number, pausedUntil: number) =>
  new Events.RateLimitPause({ at, pausedUntil, requestedMillis: 3_600_000, capped: true })

const run = (events: ReadonlyArray<Events.GuardEvent>) => {
  let state = Alert.initial
  const alerts: Array<Alert.Alert> = []
  for (const event of events) {
    const [alert, next] = Alert.decide(state, event)
    state = next
    if (alert !== undefined) alerts.push(alert)
  }
  return alerts
}

const eventArb: fc.Arbitrary<Events.GuardEvent> = fc
  .tuple(
    fc.integer({ min: 0, max: 6 }),
    fc.integer({ min: 0, max: 100_000 }),
    fc.integer({ min: 0, max: 60_000 }),
    fc.constantFrom<readonly [number, number]>([0.9, 0], [0.5, 0.4], [1, 0])
  )
  .map(([kind, at, length, [spentUsd, reservedUsd]]) => {
    switch (kind) {
      case 0:
        return opened(at)
      case 1:
        return closed(at)
      case 2:
        return capped(at, at + length)
      case 3:
        return new Events.RateLimitPause({ at, pausedUntil: at + length, capped: false })
      case 4:
        return new Events.RateLimitResumed({ at })
      case 5:
        return new Events.BudgetThresholdCrossed({ at, alertAt: 0.8, limitUsd: 1, spentUsd: 0.7, reservedUsd: 0.1 })
      default:
        return new Events.BudgetExhausted({ at, agentId: "a", requestedUsd: 0.3, limitUsd: 1, spentUsd, reservedUsd })
    }
  })

describe("Alerts: incidents", () => {
  it.prop(
    "every incident triggers once, a resolve closes a triggered incident, budget alerts fire once a run each",
    [fc.array(eventArb, { maxLength: 60 })],
    ([unsorted]) => {
      const events = [...unsorted].sort((a, b) => a.at - b.at)
      const alerts = run(events)
      const triggers = alerts.filter((a) => a.action === "trigger").map((a) => a.incident)
      expect(new Set(triggers).size).toBe(triggers.length)
      for (const resolve of alerts.filter((a) => a.action === "resolve")) {
        expect(resolve.kind).toBe("BreakerClosed")
        const triggeredBefore = alerts.slice(0, alerts.indexOf(resolve)).map((a) => a.incident)
        expect(triggeredBefore).toContain(resolve.incident)
      }
      // As many breaker incidents as times it opened while closed.
      let open = false
      let incidents = 0
      for (const e of events) {
        if (e._tag === "BreakerOpened" && !open) incidents++
        if (e._tag === "BreakerOpened") open = true
        if (e._tag === "BreakerClosed") open = false
      }
      expect(alerts.filter((a) => a.kind === "BreakerOpened")).toHaveLength(incidents)
      // The budget is full (a warning) at most once, exhausted (critical) at most once, never full after exhausted.
      const budget = alerts.filter((a) => a.kind === "BudgetExhausted").map((a) => a.incident)
      expect([["budget-full"], ["budget-exhausted"], ["budget-full", "budget-exhausted"], []]).toContainEqual(budget)
      expect(alerts.filter((a) => a.kind === "BudgetThresholdCrossed").length).toBeLessThanOrEqual(1)
    }
  )

  it("a breaker that re-opens after a failed probe is the same incident; closing resolves it", () => {
    const alerts = run([opened(0), opened(30_000), closed(60_000), opened(90_000)])
    expect(alerts.map((a) => [a.action, a.incident])).toEqual([
      ["trigger", "breaker-1"],
      ["resolve", "breaker-1"],
      ["trigger", "breaker-2"]
    ])
  })

  it("capped pauses while the gate is still closed are one incident; after it reopened, a new one", () => {
    const alerts = run([capped(0, 60_000), capped(1_000, 61_000), capped(61_000, 121_000)])
    expect(alerts.map((a) => a.incident)).toEqual(["rate-limit-1", "rate-limit-2"])
    expect(run([new Events.RateLimitPause({ at: 0, pausedUntil: 5_000, capped: false })])).toEqual([])
  })
})

describe("Alerts: budget alerts say what is true", () => {
  const refused = (spentUsd: number, reservedUsd: number, requestedUsd = 0.0114) =>
    new Events.BudgetExhausted({ at: 0, agentId: "agent-9", requestedUsd, limitUsd: 0.1, spentUsd, reservedUsd })

  it("a refusal while calls in flight hold the budget and nothing is spent: a warning that says so, not 'exhausted'", () => {
    const [alert] = run([refused(0, 0.0912)])
    expect(alert).toMatchObject({ kind: "BudgetExhausted", incident: "budget-full", severity: "warning" })
    expect(alert?.summary).toBe(
      "Fleet budget fully reserved by calls in flight: nothing spent yet, $0.0912 held, of the $0.1000 limit; a call of agent agent-9 asking $0.0114 was refused (what is held comes back as those calls settle)"
    )
    expect(alert?.summary).not.toMatch(/exhausted/i)
  })

  it("some spent, more held: both figures, still a warning", () => {
    const [alert] = run([refused(0.05, 0.045)])
    expect(alert?.severity).toBe("warning")
    expect(alert?.summary).toContain(
      "fully reserved by calls in flight: $0.0500 spent, $0.0450 held, of the $0.1000 limit"
    )
  })

  it("nothing held, a call larger than what is left: a warning naming what is left", () => {
    const [alert] = run([refused(0.03, 0, 0.09)])
    expect(alert).toMatchObject({ incident: "budget-full", severity: "warning" })
    expect(alert?.summary).toBe(
      "A call of agent agent-9 asking $0.0900 was refused: only $0.0700 is left of the $0.1000 fleet budget ($0.0300 spent, nothing held)"
    )
  })

  it("exhausted, critical, only when spend itself has reached the limit; it follows a warning once", () => {
    const alerts = run([refused(0, 0.0912), refused(0.1, 0), refused(0.1, 0.01), refused(0.05, 0.05)])
    expect(alerts.map((a) => [a.incident, a.severity])).toEqual([
      ["budget-full", "warning"],
      ["budget-exhausted", "critical"]
    ])
    expect(alerts[1]?.summary).toBe(
      "Fleet budget exhausted: $0.1000 spent of the $0.1000 limit; every call is refused (the first: agent agent-9, asking $0.0114)"
    )
  })

  it("the threshold alert says how much is spent and how much held", () => {
    const [alert] = run([
      new Events.BudgetThresholdCrossed({ at: 0, alertAt: 0.8, limitUsd: 0.1, spentUsd: 0, reservedUsd: 0.0912 })
    ])
    expect(alert?.summary).toBe(
      "Fleet spend and reservations reached 80% of the $0.1000 limit: nothing spent yet, $0.0912 held by calls in flight"
    )
  })

  it("the spend line tells spent from held", () => {
    const [alert] = run([refused(0, 0.0912)])
    const spend = { limitUsd: 0.1, spentUsd: 0, reservedUsd: 0.0912, topAgents: [] }
    expect(Alert.slackMessage(alert as Alert.Alert, spend, { runId: "r", pid: 1 }).text.split("\n")[1]).toBe(
      "Spend: $0.0000 spent of $0.1000 (0%), $0.0912 held by calls in flight"
    )
  })
})

describe("Alerts: payloads", () => {
  const origin = { runId: "run-1", pid: 42 }
  const spend: Alert.Spend = {
    limitUsd: 10,
    spentUsd: 8.5,
    reservedUsd: 0.25,
    topAgents: [
      { agentId: "planner", spentUsd: 4 },
      { agentId: "<writer>", spentUsd: 3 }
    ]
  }

  it("Slack: what happened, spend against the limit, the top agents, the run; markup escaped", () => {
    const [alert] = run([opened(Date.UTC(2026, 0, 1))])
    const { text } = Alert.slackMessage(alert as Alert.Alert, spend, origin)
    expect(text.split("\n")).toEqual([
      "*fleetguard*: Circuit breaker opened until 2026-01-01T00:00:30.000Z: 3 call(s) and agent(s) in flight were interrupted (2 agent(s))",
      "Spend: $8.50 spent of $10.00 (85%), $0.2500 held by calls in flight",
      "Top agents: planner $4.00, &lt;writer&gt; $3.00",
      "Run run-1, pid 42, at 2026-01-01T00:00:00.000Z"
    ])
  })

  it("PagerDuty: a trigger with a dedup key per incident and run, and a resolve with the same key", () => {
    const [trigger, resolve] = run([opened(0), closed(1_000)])
    expect(Alert.pagerDutyEvent(trigger as Alert.Alert, spend, origin)).toEqual({
      event_action: "trigger",
      dedup_key: "fleetguard/run-1/breaker-1",
      payload: {
        summary: (trigger as Alert.Alert).summary,
        source: "fleetguard run run-1",
        severity: "error",
        timestamp: "1970-01-01T00:00:00.000Z",
        component: "circuit-breaker",
        group: "run-1",
        class: "BreakerOpened",
        custom_details: { pid: 42, event: opened(0), spend }
      }
    })
    expect(Alert.pagerDutyEvent(resolve as Alert.Alert, spend, origin)).toEqual({
      event_action: "resolve",
      dedup_key: "fleetguard/run-1/breaker-1"
    })
  })

  it("top agents: the three that spent most, highest first", () => {
    const agents = { a: 1, b: 5, c: 3, d: 4 }
    const snapshot = {
      limitUsd: 20,
      perAgentLimitUsd: 10,
      alertAt: 0.8,
      spentUsd: 13,
      reservedUsd: 0,
      agents: Object.fromEntries(Object.entries(agents).map(([id, spentUsd]) => [id, { spentUsd, reservedUsd: 0 }]))
    }
    expect(Alert.spendOf(snapshot).topAgents.map((a) => a.agentId)).toEqual(["b", "d", "c"])
  })
})

/** A client for layers that must not send anything. */
const noClient = Layer.succeed(
  HttpClient.HttpClient,
  HttpClient.make(() => Effect.dieMessage("no request expected"))
)

describe("Alerts options", () => {
  it.effect("a URL or key that is not Redacted, or not a URL, fails InvalidOption without showing it", () =>
    Effect.gen(function* () {
      const secret = "https://hooks.example.com/services/T0/B0/SECRET"
      const bad = [
        { slack: { webhookUrl: secret } },
        { slack: { webhookUrl: Redacted.make("ftp://SECRET") } },
        { slack: { webhookUrl: Redacted.make("mailto:SECRET@example.com") } },
        { slack: { webhookUrl: Redacted.make("") } },
        { pagerDuty: { routingKey: "SECRET" } },
        { pagerDuty: { routingKey: Redacted.make("") } },
        { pagerDuty: { routingKey: Redacted.make("  ") } },
        { pagerDuty: { routingKey: Redacted.make("k"), url: "not a url" } },
        { pagerDuty: { routingKey: Redacted.make("SECRET"), url: "" } },
        { slack: { webhookUrl: Redacted.make("https://hooks.example.com/SECRET") }, drainTimeout: -1 }
      ]
      const options = [
        "slack.webhookUrl",
        "slack.webhookUrl",
        "slack.webhookUrl",
        "slack.webhookUrl",
        "pagerDuty.routingKey",
        "pagerDuty.routingKey",
        "pagerDuty.routingKey",
        "pagerDuty.url",
        "pagerDuty.url",
        "drainTimeout"
      ]
      for (const [i, given] of bad.entries()) {
        const exit = yield* Effect.exit(Effect.scoped(Alerts.make(given as never)))
        expect(exit, options[i]).toMatchObject({ _tag: "Failure" })
        if (Exit.isFailure(exit)) {
          expect(Cause.squash(exit.cause)).toBeInstanceOf(InvalidOption)
          const text = JSON.stringify(exit.cause) + String(exit.cause)
          expect(text).toContain(options[i])
          expect(text).not.toContain("SECRET")
        }
      }
    }).pipe(Effect.provide(noClient))
  )
})

describe("Alerts.layerConfig", () => {
  const built = (env: Record<string, string>, layer: Layer.Layer<never, unknown, never>) =>
    Effect.flip(
      Effect.withConfigProvider(Effect.scoped(Layer.build(layer)), ConfigProvider.fromMap(new Map(Object.entries(env))))
    )

  it.effect("FLEETGUARD_PAGERDUTY_URL without a routing key fails, naming both variables; so does a blank key", () =>
    Effect.gen(function* () {
      const cases: ReadonlyArray<Record<string, string>> = [
        { FLEETGUARD_PAGERDUTY_URL: "https://events.example.com/v2/enqueue" },
        {
          FLEETGUARD_SLACK_WEBHOOK_URL: "https://hooks.example.com/SECRET",
          FLEETGUARD_PAGERDUTY_URL: "https://x.example.com"
        }
      ]
      for (const env of cases)
        for (const layer of [Alerts.layerConfig().pipe(Layer.provide(noClient)), Guards.layerConfig()]) {
          const error = yield* built({ FLEETGUARD_BUDGET_USD: "1", ...env }, layer)
          expect(ConfigError.isConfigError(error)).toBe(true)
          const text = `${String(error)} ${Env.explain(error as ConfigError.ConfigError)}`
          expect(text).toContain("FLEETGUARD_PAGERDUTY_ROUTING_KEY")
          expect(text).toContain("FLEETGUARD_PAGERDUTY_URL")
          expect(text).not.toContain("SECRET")
        }
      for (const key of ["", "   "]) {
        const error = yield* built(
          { FLEETGUARD_PAGERDUTY_ROUTING_KEY: key },
          Alerts.layerConfig().pipe(Layer.provide(noClient))
        )
        expect(Env.explain(error as ConfigError.ConfigError)).toContain("FLEETGUARD_PAGERDUTY_ROUTING_KEY")
      }
    })
  )
})

const slackSecret = "/services/T000/B000/SLACKSECRETPATH"
const routingKey = "PDROUTINGKEYSECRET"

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
            "*fleetguard*: Fleet spend and reservations reached 80% of the $1.00 limit: $0.8500 spent, $0.0000 held by calls in flight",
            "Spend: $0.8500 spent of $1.00 (85%), $0.0000 held by calls in flight",
            "Top agents: planner $0.5000, writer $0.3500",
            `Run run-7, pid ${process.pid}, at 1970-01-01T00:00:00.000Z`
          ])
          expect(breaker?.[0]).toContain("Circuit breaker opened until 1970-01-01T00:00:31.000Z: 3 call(s)")

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
          expect(status.stdout).toContain("BreakerClosed (breaker-1) to pagerduty: delivered")
          const json = yield* inProcess(["status", "--json", "--journal", journal])
          const everything = [yield* fs.readFileString(journal), ...output, status.stdout, json.stdout].join("\n")
          expect(output.some((o) => o.includes("Alerts.deliver"))).toBe(true)
          for (const secret of [slackSecret, "SLACKSECRETPATH", routingKey]) expect(everything).not.toContain(secret)
        })
      )
  )

  it.effect(
    "a fleet whose budget is held by calls in flight is a warning that says so; exhausted, critical, only once spend reaches the limit",
    () =>
      operated(() =>
        Effect.gen(function* () {
          const http = yield* receiver(() => 202)
          const sinks: AlertsOptions = {
            slack: { webhookUrl: Redacted.make(`${http.url}/slack`) },
            ...pagerDuty(`${http.url}/pd`)
          }
          const fleet = (self: Effect.Effect<unknown, unknown, Budget>, deliveries: number) =>
            Effect.zipRight(
              self,
              eventually(http.received, (r) => r.length === deliveries, `${deliveries} deliveries`)
            ).pipe(
              Effect.provide(
                Alerts.layer(sinks).pipe(
                  Layer.provideMerge(Budget.layer({ limitUsd: 0.1, perAgentLimitUsd: 0.1, alertAt: 1 })),
                  Layer.provide(FetchHttpClient.layer)
                )
              )
            )
          // The reported run: agents each reserving $0.0114 against $0.10; the ninth is refused, nothing spent.
          const agents = Array.from({ length: 9 }, (_, i) => `agent-${i}`)
          yield* fleet(
            Effect.forEach(agents, (id) => Effect.either(Budget.reserve(id, 0.0114))),
            2
          )
          // A ledger whose spend has reached its limit (the threshold, at 100%, is alerted too).
          const spendAll = Effect.flatMap(Budget.reserve("a", 0.1), (r) => Budget.commit(r, 0.1))
          yield* fleet(Effect.zipRight(spendAll, Effect.either(Budget.reserve("b", 0.01))), 6)

          const received = yield* http.received
          const refusals = (path: string) =>
            bodies(received, path).filter((b) => !JSON.stringify(b).includes("reached 100%"))
          expect(refusals("/slack").map((b) => String(b.text).split("\n").slice(0, 2))).toEqual([
            [
              "*fleetguard*: Fleet budget fully reserved by calls in flight: nothing spent yet, $0.0912 held, of the $0.1000 limit; a call of agent agent-8 asking $0.0114 was refused (what is held comes back as those calls settle)",
              "Spend: $0.0000 spent of $0.1000 (0%), $0.0912 held by calls in flight"
            ],
            [
              "*fleetguard*: Fleet budget exhausted: $0.1000 spent of the $0.1000 limit; every call is refused (the first: agent b, asking $0.0100)",
              "Spend: $0.1000 spent of $0.1000 (100%), $0.0000 held by calls in flight"
            ]
          ])
          expect(
            refusals("/pd").map((b) => {
              const payload = b.payload as Record<string, unknown>
              return [b.dedup_key, payload.severity, String(payload.summary).split(":")[0]]
            })
          ).toEqual([
            ["fleetguard/run-7/budget-full", "warning", "Fleet budget fully reserved by calls in flight"],
            ["fleetguard/run-7/budget-exhausted", "critical", "Fleet budget exhausted"]
          ])
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
          spentUsd: 1,
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
