import { HttpClient } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Cause, ConfigError, ConfigProvider, Effect, Exit, FastCheck as fc, Layer, Redacted } from "effect"
import { Alerts, Env, Events, Guards, InvalidOption } from "../src/index.js"
import * as Alert from "../src/internal/ops/alerts.js"

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
