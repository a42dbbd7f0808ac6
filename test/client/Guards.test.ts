import { FileSystem } from "@effect/platform"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { describe, expect, it } from "@effect/vitest"
import {
  Agent,
  Budget,
  CircuitBreaker,
  CircuitOpen,
  Concurrency,
  Depth,
  Guards,
  type GuardsOptions,
  Overloaded
} from "@fleetguard/core"
import { ConfigProvider, Effect, Fiber, Layer, TestClock } from "effect"
import { defaultGuards, paths } from "../support/client.js"

describe.each(paths)("Guards.wrap ($name)", ({ wrap }) => {
  const wrapped = <A, E, R>(self: Effect.Effect<A, E, R>, actualUsd: (a: A) => number = () => 0.01) =>
    Guards.wrap({ estimateUsd: 0.05, actualUsd })(self)

  it.effect("charges a success its actual cost to the running agent, holding a permit while it runs", () =>
    Effect.gen(function* () {
      const inside = yield* Agent.run("sdk-agent", wrapped(Effect.map(Concurrency.snapshot, (s) => s.inFlight)))
      expect(inside).toBe(1)
      expect((yield* Budget.snapshot).agents["sdk-agent"]).toEqual({ spentUsd: 0.01, reservedUsd: 0 })
      expect(yield* Concurrency.snapshot).toMatchObject({ inFlight: 0, waiting: 0 })
    }).pipe(Effect.provide(wrap(Guards.layer(defaultGuards))))
  )

  it.effect("counts upstream failures in the breaker, and a trip cuts a wrapped call off with CircuitOpen", () =>
    Effect.gen(function* () {
      const hanging = yield* Effect.fork(Agent.run("hanging", wrapped(Effect.never)))
      yield* Effect.yieldNow()
      yield* Effect.either(Agent.run("failing", wrapped(Effect.fail(new Overloaded({ message: "busy" })))))
      expect(yield* CircuitBreaker.state).toBe("Open")
      expect(yield* Effect.flip(Fiber.join(hanging))).toEqual(
        new CircuitOpen({ interrupted: true, retryAfterMillis: 30_000 })
      )
      // The cut-off call had started: it is charged its reservation; the failed one nothing.
      expect(yield* Budget.snapshot).toMatchObject({
        spentUsd: 0.05,
        reservedUsd: 0,
        agents: { hanging: { spentUsd: 0.05 }, failing: { spentUsd: 0 } }
      })
      yield* TestClock.adjust("30 seconds")
      expect(yield* wrapped(Effect.succeed("probe"))).toBe("probe")
    }).pipe(
      Effect.provide(
        wrap(
          Guards.layer({
            ...defaultGuards,
            breaker: { failureThreshold: 1, resetAfter: "30 seconds", halfOpenMaxCalls: 1 }
          })
        )
      )
    )
  )

  it.effect("refuses without running: past the depth limit, or over budget", () =>
    Effect.gen(function* () {
      let ran = 0
      const work = Effect.sync(() => ran++)
      expect((yield* Effect.flip(Depth.nested(Depth.nested(Depth.nested(wrapped(work))))))._tag).toBe(
        "DepthLimitExceeded"
      )
      expect((yield* Effect.flip(Guards.wrap({ estimateUsd: 1_000, actualUsd: () => 0 })(work)))._tag).toBe(
        "BudgetExceeded"
      )
      expect(ran).toBe(0)
    }).pipe(Effect.provide(wrap(Guards.layer(defaultGuards))))
  )
})

describe("Guards.layerConfig", () => {
  const fromEnv = (env: Record<string, string>) =>
    Effect.withConfigProvider(
      Effect.provide(
        Effect.all([Budget.snapshot, Concurrency.snapshot, Depth, CircuitBreaker.state]),
        Guards.layerConfig()
      ),
      ConfigProvider.fromMap(new Map(Object.entries(env)))
    )

  it.effect("reads every FLEETGUARD_* variable", () =>
    Effect.gen(function* () {
      const [budget, concurrency, depth, state] = yield* fromEnv({
        FLEETGUARD_BUDGET_USD: "20",
        FLEETGUARD_AGENT_BUDGET_USD: "2",
        FLEETGUARD_ALERT_AT: "0.9",
        FLEETGUARD_MAX_CONCURRENCY: "3",
        FLEETGUARD_MAX_DEPTH: "2",
        FLEETGUARD_MAX_FANOUT: "6",
        FLEETGUARD_BREAKER_THRESHOLD: "4",
        FLEETGUARD_BREAKER_RESET: "5 seconds",
        FLEETGUARD_BREAKER_HALF_OPEN_CALLS: "2"
      })
      expect(budget).toMatchObject({ limitUsd: 20, perAgentLimitUsd: 2, alertAt: 0.9 })
      expect(concurrency.limit).toBe(3)
      expect([depth.maxDepth, depth.maxFanOut]).toEqual([2, 6])
      expect(state).toBe("Closed")
    })
  )

  it.effect("fails naming the variable that is wrong", () =>
    Effect.gen(function* () {
      for (const [variable, value] of [
        ["FLEETGUARD_MAX_CONCURRENCY", "0"],
        ["FLEETGUARD_MAX_DEPTH", "deep"],
        ["FLEETGUARD_ALERT_AT", "80"],
        ["FLEETGUARD_BREAKER_RESET", "0 seconds"]
      ] as const) {
        const error = yield* Effect.flip(fromEnv({ FLEETGUARD_BUDGET_USD: "20", [variable]: value }))
        expect(String(error)).toContain(variable)
      }
    })
  )

  it.effect("refuses what Effect's own readers would take: an empty variable, hex, a negative or NaN duration", () =>
    Effect.gen(function* () {
      for (const [variable, value] of [
        ["FLEETGUARD_BUDGET_USD", ""],
        ["FLEETGUARD_BUDGET_USD", "0x10"],
        ["FLEETGUARD_AGENT_BUDGET_USD", " "],
        ["FLEETGUARD_MAX_CONCURRENCY", ""],
        ["FLEETGUARD_MAX_CONCURRENCY", "1e1"],
        ["FLEETGUARD_RELEASE_WINDOW", "-5 seconds"],
        ["FLEETGUARD_RELEASE_WINDOW", "NaN seconds"],
        ["FLEETGUARD_MAX_PAUSE", "0 seconds"],
        ["FLEETGUARD_MAX_PAUSE", "30 days"],
        ["FLEETGUARD_BUDGET_USD", "0.0000000001"]
      ] as const) {
        const error = yield* Effect.flip(fromEnv({ FLEETGUARD_BUDGET_USD: "20", [variable]: value }))
        expect(String(error), `${variable}=${JSON.stringify(value)}`).toContain(variable)
      }
    })
  )

  it.effect("journal and alert variables: a bad one is named, a secret never shown", () =>
    Effect.gen(function* () {
      const dir = yield* (yield* FileSystem.FileSystem).makeTempDirectoryScoped()
      const journal = { FLEETGUARD_JOURNAL: `${dir}/journal.jsonl` }
      const pagerDuty = { FLEETGUARD_PAGERDUTY_ROUTING_KEY: "KEYSECRET" }
      for (const [variable, env] of [
        ["FLEETGUARD_JOURNAL", { FLEETGUARD_JOURNAL: " " }],
        ["FLEETGUARD_JOURNAL_MAX_BYTES", { ...journal, FLEETGUARD_JOURNAL_MAX_BYTES: "0" }],
        ["FLEETGUARD_JOURNAL_MAX_FILES", { ...journal, FLEETGUARD_JOURNAL_MAX_FILES: "two" }],
        ["FLEETGUARD_SLACK_WEBHOOK_URL", { FLEETGUARD_SLACK_WEBHOOK_URL: "ftp://hooks/URLSECRET" }],
        ["FLEETGUARD_SLACK_WEBHOOK_URL", { FLEETGUARD_SLACK_WEBHOOK_URL: "" }],
        ["FLEETGUARD_PAGERDUTY_ROUTING_KEY", { FLEETGUARD_PAGERDUTY_ROUTING_KEY: "" }],
        ["FLEETGUARD_PAGERDUTY_URL", { ...pagerDuty, FLEETGUARD_PAGERDUTY_URL: "events.pagerduty.com" }]
      ] as const) {
        const error = yield* Effect.flip(fromEnv({ FLEETGUARD_BUDGET_USD: "20", ...env }))
        expect(String(error), variable).toContain(variable)
        expect(String(error)).not.toMatch(/SECRET/)
      }
    }).pipe(Effect.scoped, Effect.provide(NodeContext.layer))
  )

  it.effect(
    "FLEETGUARD_JOURNAL set in a program that provides no FileSystem: a ConfigError that says what to provide",
    () =>
      Effect.gen(function* () {
        const error = yield* Effect.flip(fromEnv({ FLEETGUARD_BUDGET_USD: "20", FLEETGUARD_JOURNAL: "journal.jsonl" }))
        expect(String(error)).toContain("FLEETGUARD_JOURNAL")
        expect(String(error)).toContain("NodeContext.layer")
      })
  )

  it.effect("reads FLEETGUARD_MAX_PAUSE", () =>
    Effect.gen(function* () {
      const pausedUntil = yield* Effect.withConfigProvider(
        Effect.provide(
          Effect.zipRight(
            Concurrency.pauseFor("1 hour"),
            Effect.map(Concurrency.snapshot, (s) => s.pausedUntil)
          ),
          Guards.layerConfig()
        ),
        ConfigProvider.fromMap(
          new Map([
            ["FLEETGUARD_BUDGET_USD", "20"],
            ["FLEETGUARD_MAX_PAUSE", "90 seconds"]
          ])
        )
      )
      expect(pausedUntil).toBe(90_000)
    })
  )
})

describe("Guards.layer refuses bad options naming them, never with a TypeError", () => {
  const build = (options: unknown) => Effect.flip(Effect.scoped(Layer.build(Guards.layer(options as GuardsOptions))))

  it.effect("a missing or wrong group, a bad option inside one, and a limit the ledger would round to $0", () =>
    Effect.gen(function* () {
      const good = {
        budget: { limitUsd: 1 },
        concurrency: { maxConcurrency: 2 },
        depth: { maxDepth: 2, maxFanOut: 2 },
        breaker: { failureThreshold: 2, resetAfter: "1 second", halfOpenMaxCalls: 1 }
      }
      const cases: ReadonlyArray<readonly [unknown, string]> = [
        [{ ...good, budget: undefined }, "budget"],
        [{ ...good, depth: null }, "depth"],
        [null, "options"],
        [{ ...good, concurrency: { maxConcurrency: 2, releaseWindow: -5 } }, "concurrency.releaseWindow"],
        [{ ...good, concurrency: { maxConcurrency: 2, releaseWindow: Number.NaN } }, "concurrency.releaseWindow"],
        [{ ...good, concurrency: { maxConcurrency: 2, maxPause: "forever" } }, "concurrency.maxPause"],
        [{ ...good, budget: { limitUsd: 1e-12 } }, "budget.limitUsd"],
        [{ ...good, budget: { limitUsd: 1, perAgentLimitUsd: 2 } }, "budget.perAgentLimitUsd"],
        [{ ...good, breaker: { ...good.breaker, failureRate: { threshold: 2 } } }, "breaker.failureRate.threshold"],
        [{ ...good, pricing: { mine: { input: "1" } } }, "pricing.mine.input"]
      ]
      for (const [options, option] of cases) {
        expect(yield* build(options), JSON.stringify(options)).toMatchObject({ _tag: "InvalidOption", option })
      }
    })
  )
})
