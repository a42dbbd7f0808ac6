import { FileSystem } from "@effect/platform"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { describe, expect, it } from "@effect/vitest"
import { Agent, type Completion, Events, Journal, LlmClient, RunId } from "@fleetguard/core"
import { TestProvider } from "@fleetguard/testing"
import { Effect, type Scope, TestClock } from "effect"
import { fleetguard, inProcess, spawned } from "./cli.js"
import { client, request } from "./helpers.js"
import { eventually } from "./receiver.js"

/** Tests that start the bin: under load, tsx takes seconds to start it. */
const spawning = 180_000

const nanos = (usd: number) => Math.round(usd * 1e9)
const sum = (completions: ReadonlyArray<Completion>) => completions.reduce((n, c) => n + nanos(c.costUsd), 0) / 1e9

/** One run of a fleet through every guard and a journal at `path`, as a program would write it. */
const writeRun = <A, E>(path: string, runId: string, body: Effect.Effect<A, E, LlmClient>) =>
  Effect.scoped(Effect.zipRight(Journal.make({ path }), body)).pipe(
    Effect.provide(client(TestProvider.always(TestProvider.reply()), { budget: { limitUsd: 2, perAgentLimitUsd: 1 } })),
    Effect.provideService(RunId, runId)
  )

const ask = (agentId: string, content: string, model?: string) =>
  Agent.run(agentId, LlmClient.complete(request(content, model)))

/** The latest run: three calls by two agents, a refusal, a trip, a capped pause extended once, two alerts. */
const latestRun = Effect.gen(function* () {
  const completions = [
    yield* ask("planner", "plan the research"),
    yield* ask("planner", "plan it again, longer"),
    yield* ask("writer", "write")
  ]
  yield* Effect.either(ask("writer", "unpriced", "no-such-model"))
  yield* TestClock.adjust("1 second")
  yield* Events.rejected("BudgetExceeded", "fleet budget exceeded", { agentId: "writer", scope: "fleet" })
  yield* Events.publish(
    (at) => new Events.BreakerOpened({ at, interrupted: 3, interruptedAgents: 1, trips: 1, reopenAt: at + 30_000 })
  )
  yield* Events.publish(
    (at) => new Events.RateLimitPause({ at, pausedUntil: at + 60_000, requestedMillis: 3_600_000, capped: true })
  )
  // Another 429 while the gate is closed: the same pause, ending later.
  yield* Events.publish(
    (at) =>
      new Events.RateLimitPause({
        at,
        pausedUntil: at + 65_000,
        requestedMillis: 65_000,
        capped: false,
        extended: true
      })
  )
  const attempt = { kind: "BreakerOpened" as const, incident: "breaker-1" }
  yield* Events.publish((at) => new Events.AlertDelivered({ at, sink: "slack", ...attempt, attempt: 1, status: 200 }))
  yield* Events.publish(
    (at) =>
      new Events.AlertFailed({
        at,
        sink: "pagerduty",
        ...attempt,
        attempt: 5,
        status: 500,
        reason: "answered 500",
        retrying: false
      })
  )
  yield* TestClock.adjust("1 second")
  return completions
})

const withJournal = <A, E>(self: (path: string) => Effect.Effect<A, E, NodeContext.NodeContext | Scope.Scope>) =>
  Effect.gen(function* () {
    const dir = yield* (yield* FileSystem.FileSystem).makeTempDirectoryScoped()
    return yield* self(`${dir}/fleet.jsonl`)
  }).pipe(Effect.scoped, Effect.provide(NodeContext.layer))

describe("fleetguard status", () => {
  it.effect(
    "reads back what a fleet journaled: --json prints the documented object; --run, --all and the table",
    () =>
      withJournal((path) =>
        Effect.gen(function* () {
          const older = yield* writeRun(path, "run-older", ask("scout", "look around"))
          yield* TestClock.adjust("10 seconds")
          const completions = yield* writeRun(path, "run-latest", latestRun)

          const latest = yield* fleetguard(["status", "--json"], { FLEETGUARD_JOURNAL: path })
          expect(latest).toMatchObject({ code: 0, stderr: "" })
          expect(JSON.parse(latest.stdout)).toEqual({
            journal: path,
            runId: "run-latest",
            runs: 2,
            lastEventAt: 12_000,
            fleet: { limitUsd: 2, spentUsd: sum(completions), reservedUsd: 0 },
            agents: [
              { agentId: "planner", spentUsd: sum(completions.slice(0, 2)), calls: 2 },
              { agentId: "writer", spentUsd: sum(completions.slice(2)), calls: 1 }
            ],
            trips: [{ at: 11_000, interrupted: 3 }],
            pauses: [{ at: 11_000, untilMillis: 76_000, capped: true }],
            alerts: [
              { at: 11_000, kind: "BreakerOpened", sink: "slack", delivered: true },
              { at: 11_000, kind: "BreakerOpened", sink: "pagerduty", delivered: false }
            ],
            rejections: { UnknownModel: 1, BudgetExceeded: 1 },
            skippedLines: 0
          })

          // The same code in this process, for the rest: a child process costs seconds.
          const byPrefix = JSON.parse(
            (yield* inProcess(["status", "--json", "--journal", path, "--run", "run-o"])).stdout
          )
          expect(byPrefix).toMatchObject({
            runId: "run-older",
            agents: [{ agentId: "scout", spentUsd: older.costUsd, calls: 1 }]
          })
          const all = JSON.parse((yield* inProcess(["status", "--json", "--journal", path, "--all"])).stdout)
          expect(all).toMatchObject({ runId: "all", runs: 2, fleet: { spentUsd: sum([...completions, older]) } })
          expect(all.agents.map((a: { agentId: string }) => a.agentId).sort()).toEqual(["planner", "scout", "writer"])

          const table = yield* inProcess(["status", "--journal", path])
          expect(table.code).toBe(0)
          expect(table.stdout).toContain("run         run-latest (2 runs; --run ID or --all for others)")
          expect(table.stdout).toContain("last event  1970-01-01T00:00:12.000Z, 0 s ago")
          expect(table.stdout).toMatch(/fleet {7}\$0\.\d{4} spent of \$2\.0000 \(\d+%\), \$0\.0000 reserved/)
          expect(table.stdout).toMatch(/planner +\$0\.\d{4} +2 calls/)
          expect(table.stdout).toContain("1970-01-01T00:00:11.000Z  3 interrupted")
          expect(table.stdout).toContain("until 1970-01-01T00:01:16.000Z  capped by maxPause")
          expect(table.stdout).toContain("BreakerOpened to pagerduty: not delivered")
          expect(table.stdout).toContain("UnknownModel: 1")

          const ambiguous = yield* inProcess(["status", "--journal", path, "--run", "run-"])
          expect(ambiguous.code).toBe(1)
          expect(ambiguous.stderr).toContain("run- is the start of several runs' ids: run-older, run-latest")
        })
      ),
    spawning
  )

  it.effect(
    "skips a torn last line and a line it cannot read, and counts them",
    () =>
      withJournal((path) =>
        Effect.gen(function* () {
          yield* writeRun(path, "run-1", ask("a", "hello"))
          const fs = yield* FileSystem.FileSystem
          yield* fs.writeFileString(path, `{"v":7,"at":1}\n{"v":1,"at":5,"pid":1,"runId":"run-1","ev`, { flag: "a" })
          const status = yield* fleetguard(["status", "--json", "--journal", path])
          expect(status.code).toBe(0)
          expect(JSON.parse(status.stdout)).toMatchObject({
            runId: "run-1",
            skippedLines: 2,
            agents: [{ agentId: "a" }]
          })
          expect((yield* inProcess(["status", "--journal", path])).stdout).toContain("skipped 2 line(s)")
        })
      ),
    spawning
  )

  it.effect(
    "a missing journal: where it looked and how to set FLEETGUARD_JOURNAL, exit 1, no stack trace",
    () =>
      withJournal((path) =>
        Effect.gen(function* () {
          const missing = yield* fleetguard(["status"], { FLEETGUARD_JOURNAL: path })
          expect(missing).toMatchObject({ code: 1, stdout: "" })
          expect(missing.stderr).toContain(`no journal at ${path}`)
          expect(missing.stderr).toContain("Set FLEETGUARD_JOURNAL")
          const unset = yield* fleetguard(["status"])
          expect(unset.code).toBe(1)
          expect(unset.stderr).toContain("no journal given")
          expect(unset.stderr).toContain("FLEETGUARD_JOURNAL")
          for (const { stderr } of [missing, unset]) expect(stderr).not.toMatch(/^\s+at /m)
        })
      ),
    spawning
  )

  it.effect(
    "an empty journal says so",
    () =>
      withJournal((path) =>
        Effect.gen(function* () {
          yield* (yield* FileSystem.FileSystem).writeFileString(path, "")
          const empty = yield* fleetguard(["status", "--journal", path])
          expect(empty).toMatchObject({
            code: 0,
            stdout: `the journal at ${path} is empty: no fleet has written to it yet\n`
          })
          const json = JSON.parse((yield* inProcess(["status", "--json", "--journal", path])).stdout)
          expect(json).toMatchObject({ runId: "", runs: 0, lastEventAt: null, agents: [], skippedLines: 0 })
        })
      ),
    spawning
  )

  it.live("--since keeps what happened in the window", () =>
    withJournal((path) =>
      Effect.gen(function* () {
        const now = Date.now()
        const line = (at: number, agentId: string, costUsd: number) =>
          JSON.stringify({
            v: 1,
            at,
            pid: 1,
            runId: "run-1",
            event: {
              _tag: "CallSettled",
              at,
              agentId,
              model: "claude-haiku-4-5",
              outcome: "success",
              attempts: 1,
              reservedUsd: 0.5,
              costUsd,
              inputTokens: 1,
              outputTokens: 1,
              cacheCreationInputTokens: 0,
              cacheReadInputTokens: 0
            }
          })
        const lines = [line(now - 2 * 3_600_000, "old", 0.25), line(now - 600_000, "recent", 0.125)]
        yield* (yield* FileSystem.FileSystem).writeFileString(path, `${lines.join("\n")}\n`)
        const hour = JSON.parse((yield* inProcess(["status", "--json", "--journal", path, "--since", "1h"])).stdout)
        expect(hour).toMatchObject({ fleet: { spentUsd: 0.125 }, agents: [{ agentId: "recent", calls: 1 }] })
        expect(hour.agents).toHaveLength(1)
        const day = JSON.parse((yield* inProcess(["status", "--json", "--journal", path, "--since", "1 day"])).stdout)
        expect(day.agents).toHaveLength(2)
      })
    )
  )

  it.live(
    "--watch redraws as new lines arrive",
    () =>
      withJournal((path) =>
        Effect.gen(function* () {
          yield* writeRun(path, "run-1", ask("a", "hello"))
          const watching = yield* spawned(["status", "--watch", "--json", "--journal", path])
          const first = yield* eventually(watching.stdout, (out) => out.includes("\n"), "the first report")
          expect(JSON.parse(first)).toMatchObject({ agents: [{ agentId: "a", calls: 1 }] })
          yield* writeRun(path, "run-2", ask("b", "again"))
          const both = yield* eventually(watching.stdout, (out) => out.includes('"runId":"run-2"'), "a redraw")
          expect(JSON.parse(both.trim().split("\n").at(-1) ?? "")).toMatchObject({ runId: "run-2", runs: 2 })
        }).pipe(Effect.scoped)
      ),
    spawning
  )
})

describe("fleetguard, the command", () => {
  it.effect(
    "--help, demo --help and status --help document every option",
    () =>
      Effect.gen(function* () {
        const root = yield* fleetguard(["--help"])
        expect(root.code).toBe(0)
        expect(root.stdout).toMatch(
          /- demo \[--scenario NAME\] \[--report FILE\] \[--live\] \[--limit USD\] +Each failure mode as a scenario/
        )
        expect(root.stdout).toContain(
          "- status [--journal PATH] [--run ID] [--all] [--since DURATION] [--json] [--watch]"
        )
        const demo = yield* fleetguard(["demo", "--help"])
        expect(demo.stdout).toContain("$ demo")
        expect(demo.stdout).toContain("against a local FakeAnthropic")
        const status = yield* fleetguard(["status", "--help"])
        for (const option of ["--journal PATH", "--run ID", "--all", "--since DURATION", "--json", "--watch"])
          expect(status.stdout).toContain(`\n${option}\n`)
        expect(status.stdout).toContain("Default: FLEETGUARD_JOURNAL")
      }),
    spawning
  )

  it.effect(
    "an unknown option or command is refused with the usage, exit 2, no stack trace",
    () =>
      Effect.gen(function* () {
        const flag = yield* fleetguard(["status", "--jsn"])
        expect(flag.code).toBe(2)
        expect(flag.stderr).toContain("Received unknown argument: '--jsn'")
        expect(flag.stderr).toContain("usage: fleetguard status [--journal PATH]")
        const command = yield* fleetguard(["stauts"])
        expect(command.code).toBe(2)
        expect(command.stderr).toContain("usage: fleetguard demo [--scenario NAME]")
        expect(command.stderr).toContain("\n       fleetguard status")
        const since = yield* inProcess(["status", "--since", "soon"])
        expect(since.code).toBe(2)
        expect(since.stderr).toContain('--since "soon": not a duration')
        const both = yield* inProcess(["status", "--all", "--run", "x", "--journal", "j.jsonl"])
        expect(both).toMatchObject({ code: 1, stderr: "fleetguard: --run and --all cannot be used together\n" })
        for (const { stderr } of [flag, command, since, both]) expect(stderr).not.toMatch(/^\s+at /m)
      }).pipe(Effect.provide(NodeContext.layer)),
    spawning
  )
})
