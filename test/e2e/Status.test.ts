import { execFileSync } from "node:child_process"
import { closeSync, constants, openSync } from "node:fs"
import { FileSystem } from "@effect/platform"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { describe, expect, it } from "@effect/vitest"
import { Agent, type Completion, Events, Journal, type JournalOptions, LlmClient, RunId } from "@fleetguard/core"
import { TestProvider } from "@fleetguard/testing"
import { Array as Arr, Effect, type Scope, TestClock } from "effect"
import { fleetguard, inProcess, inProcessForked, spawned } from "../support/cli.js"
import { client, request } from "../support/client.js"
import { eventually } from "../support/receiver.js"

/** Tests that start the bin: under load, tsx takes seconds to start it. */
const spawning = 180_000

const nanos = (usd: number) => Math.round(usd * 1e9)
const sum = (completions: ReadonlyArray<Completion>) => completions.reduce((n, c) => n + nanos(c.costUsd), 0) / 1e9

/** One run of a fleet through every guard and a journal at `path`, as a program would write it. */
const writeRun = <A, E>(
  path: string,
  runId: string,
  body: Effect.Effect<A, E, LlmClient>,
  journal: Omit<JournalOptions, "path"> = {}
) =>
  Effect.scoped(Effect.zipRight(Journal.make({ path, ...journal }), body)).pipe(
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
            endedAt: 12_000,
            fleet: { limitUsd: 2, spentUsd: sum(completions), reservedUsd: 0 },
            agents: [
              { agentId: "planner", spentUsd: sum(completions.slice(0, 2)), calls: 2, rejections: {} },
              {
                agentId: "writer",
                spentUsd: sum(completions.slice(2)),
                calls: 1,
                rejections: { UnknownModel: 1, BudgetExceeded: 1 }
              }
            ],
            trips: [{ at: 11_000, interrupted: 3 }],
            pauses: [{ at: 11_000, untilMillis: 76_000, capped: true }],
            alerts: [
              { at: 11_000, kind: "BreakerOpened", incident: "breaker-1", sink: "slack", delivered: true },
              { at: 11_000, kind: "BreakerOpened", incident: "breaker-1", sink: "pagerduty", delivered: false }
            ],
            rejections: { UnknownModel: 1, BudgetExceeded: 1 },
            skippedLines: 0,
            droppedEvents: 0,
            prunedRuns: 0
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
          expect(table.stdout).toContain("state       ended at 1970-01-01T00:00:12.000Z")
          expect(table.stdout).toContain("last event  1970-01-01T00:00:12.000Z, 0 s ago")
          expect(table.stdout).toMatch(/fleet {7}\$0\.\d{4} spent of \$2\.0000 \(\d+%\), \$0\.0000 reserved/)
          expect(table.stdout).toMatch(/planner +\$0\.\d{4} +2 calls/)
          expect(table.stdout).toContain("1970-01-01T00:00:11.000Z  3 interrupted")
          expect(table.stdout).toContain("until 1970-01-01T00:01:16.000Z  capped by maxPause")
          expect(table.stdout).toContain("BreakerOpened (breaker-1) to pagerduty: not delivered")
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
          expect((yield* inProcess(["status", "--journal", path])).stdout).toContain("skipped 2 lines")
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

/** A journal line as a hostile writer could put it, `event` spliced in as raw JSON text. */
const rawLine = (at: string, runId: string, event: string) =>
  `{"v":1,"at":${at},"pid":1,"runId":${runId},"event":${event}}`
const rawSettled = (at: string, agentId: string, cost: string) =>
  `{"_tag":"CallSettled","at":${at},"agentId":${agentId},"model":"m","outcome":"success","attempts":1,"reservedUsd":0,"costUsd":${cost},"inputTokens":1,"outputTokens":1,"cacheCreationInputTokens":0,"cacheReadInputTokens":0}`

describe("fleetguard status, over a hostile journal", () => {
  it.effect("times no Date holds, amounts no ledger holds and escape codes in ids: skipped or escaped, counted", () =>
    withJournal((path) =>
      Effect.gen(function* () {
        const evil = JSON.stringify("evil\x1b]0;pwned\x07\x1b[2J\u009b31m")
        const lines = [
          rawLine("1000", '"run-1"', rawSettled("1000", evil, "0.5")),
          rawLine("1e400", '"run-1"', rawSettled("1000", '"a"', "0.5")),
          rawLine("2000", '"run-1"', rawSettled("1e20", '"a"', "0.5")),
          rawLine("3000", '"run-1"', rawSettled("3000", '"a"', "1e308")),
          rawLine("4000", '"run-1"', rawSettled("4000", '"a"', "1e308"))
        ]
        yield* (yield* FileSystem.FileSystem).writeFileString(path, `${lines.join("\n")}\n`)
        const json = yield* inProcess(["status", "--json", "--journal", path])
        expect(json).toMatchObject({ code: 0, stderr: "" })
        expect(json.stdout).not.toMatch(/Usd":null/)
        // biome-ignore lint/suspicious/noControlCharactersInRegex: none may reach the terminal raw
        expect(json.raw?.stdout).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/)
        expect(JSON.parse(json.stdout)).toMatchObject({
          skippedLines: 4,
          fleet: { spentUsd: 0.5 },
          agents: [{ agentId: JSON.parse(evil), spentUsd: 0.5, calls: 1 }]
        })
        const table = yield* inProcess(["status", "--journal", path])
        expect(table.code).toBe(0)
        // biome-ignore lint/suspicious/noControlCharactersInRegex: none may reach the terminal raw
        expect(table.raw?.stdout).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/)
        expect(table.stdout).toContain("evil\\x1b]0;pwned\\x07\\x1b[2J\\x9b31m  $0.5000")
        expect(table.stdout).toContain("skipped 4 lines")
      })
    )
  )

  it.live("a FIFO, a directory (any file that is not a regular one) is refused at once, exit 1, never waited on", () =>
    withJournal((path) =>
      Effect.gen(function* () {
        execFileSync("mkfifo", [path])
        // Should the read block, a writer's open and close frees it, so that the test fails rather than hangs.
        yield* Effect.addFinalizer(() =>
          Effect.try(() => closeSync(openSync(path, constants.O_WRONLY | constants.O_NONBLOCK))).pipe(Effect.ignore)
        )
        const fifo = yield* inProcess(["status", "--journal", path]).pipe(
          Effect.timeoutFail({ duration: "10 seconds", onTimeout: () => new Error("status blocked on a FIFO") })
        )
        expect(fifo.code).toBe(1)
        expect(fifo.stderr).toContain(`journal ${path} is unavailable`)
        expect(fifo.stderr).toContain("a FIFO (named pipe), not a regular file")
        const directory = `${path}.d`
        yield* (yield* FileSystem.FileSystem).makeDirectory(directory)
        const refused = yield* inProcess(["status", "--journal", directory])
        expect(refused.code).toBe(1)
        expect(refused.stderr).toContain("a directory, not a regular file")
        for (const { stderr } of [fifo, refused]) expect(stderr).not.toMatch(/^\s+at /m)
      })
    )
  )
})

describe("fleetguard status, telling what the journal lost", () => {
  it.effect(
    "rotation pruned the run's first lines: the figure its RunEnded carries, and a word that the agents are partial",
    () =>
      withJournal((path) =>
        Effect.gen(function* () {
          const completions = yield* writeRun(
            path,
            "run-1",
            Effect.forEach(Arr.range(1, 40), (i) => ask(`agent-${i % 3}`, `question ${i}`)),
            { maxBytes: 4_000, maxFiles: 2 }
          )
          const contents = yield* Journal.read(path)
          expect(contents.files.length).toBe(2)
          expect(contents.lines.some((l) => l.event._tag === "RunStarted")).toBe(false)
          const report = JSON.parse((yield* inProcess(["status", "--json", "--journal", path])).stdout)
          expect(report).toMatchObject({ runId: "run-1", prunedRuns: 1, fleet: { spentUsd: sum(completions) } })
          // Every CallSettled kept is counted, the rotated file's too; the pruned ones are not.
          const counted = report.agents.reduce((n: number, a: { calls: number }) => n + a.calls, 0)
          const kept = (text: string) => text.split("\n").filter((l) => l.includes('"_tag":"CallSettled"')).length
          const current = kept(yield* (yield* FileSystem.FileSystem).readFileString(path))
          expect(counted).toBe(contents.lines.filter((l) => l.event._tag === "CallSettled").length)
          expect(current).toBeLessThan(counted)
          expect(counted).toBeLessThan(completions.length)
          const table = (yield* inProcess(["status", "--journal", path])).stdout
          expect(table).toContain("agents by spend: partial, the run's first lines were rotated away (maxFiles)")
        })
      ),
    spawning
  )

  it.effect("events the writer dropped: counted, and the agents said to be short of them", () =>
    withJournal((path) =>
      Effect.gen(function* () {
        const body = Effect.forEach(Arr.range(1, 60), (i) => ask(`agent-${i % 3}`, `question ${i}`), {
          concurrency: "unbounded"
        })
        yield* writeRun(path, "run-1", body, { capacity: 1 })
        const contents = yield* Journal.read(path)
        const dropped = contents.lines.reduce((n, l) => n + (l.event._tag === "EventsDropped" ? l.event.dropped : 0), 0)
        expect(dropped).toBeGreaterThan(0)
        const report = JSON.parse((yield* inProcess(["status", "--json", "--journal", path])).stdout)
        expect(report.droppedEvents).toBe(dropped)
        const table = (yield* inProcess(["status", "--journal", path])).stdout
        expect(table).toContain(
          `agents by spend: partial, the journal's writer dropped ${dropped} events (EventsDropped)`
        )
      })
    )
  )
})

describe("fleetguard status, as a newcomer meets it", () => {
  it.effect("--watch on a terminal: the last event's age ticks with the clock", () =>
    withJournal((path) =>
      Effect.gen(function* () {
        yield* writeRun(path, "run-1", ask("a", "hello"))
        const watching = yield* inProcessForked(["status", "--watch", "--journal", path], {
          output: { terminal: true, colour: false }
        })
        yield* eventually(watching.stdout, (out) => out.includes("0 s ago"), "the first table")
        yield* TestClock.adjust("5 seconds")
        const later = yield* eventually(watching.stdout, (out) => out.includes("5 s ago"), "a redraw as time passes")
        expect(later).toContain("\x1b[2J\x1b[H")
        expect(later).toContain("state       ended at 1970-01-01T00:00:00.000Z")
      })
    )
  )

  it.effect("an empty FLEETGUARD_JOURNAL counts as unset; an explicit --journal wins over it", () =>
    withJournal((path) =>
      Effect.gen(function* () {
        yield* writeRun(path, "run-1", ask("a", "hello"))
        const given = yield* inProcess(["status", "--json", "--journal", path], { env: { FLEETGUARD_JOURNAL: "" } })
        expect(given).toMatchObject({ code: 0, stderr: "" })
        expect(JSON.parse(given.stdout)).toMatchObject({ runId: "run-1" })
        const none = yield* inProcess(["status"], { env: { FLEETGUARD_JOURNAL: " " } })
        expect(none.code).toBe(1)
        expect(none.stderr).toContain("no journal given")
      })
    )
  )
})

describe("fleetguard, the command", () => {
  it.effect(
    "--help is plain text when piped, gives every option a description of its own and the usage in full",
    () =>
      Effect.gen(function* () {
        const root = yield* fleetguard(["--help"])
        expect(root.code).toBe(0)
        expect(root.raw?.stdout).not.toContain("\x1b")
        expect(root.stdout).toContain("fleetguard demo [--scenario NAME] [--report FILE] [--live] [--limit USD]")
        expect(root.stdout).toContain(
          "fleetguard status [--journal PATH] [--run ID] [--all] [--since DURATION] [--json] [--watch]"
        )
        expect(root.stdout).toMatch(/- demo \[--scenario NAME\].* +Each failure mode as a scenario/)
        const status = yield* inProcess(["status", "--help"])
        const demo = yield* inProcess(["demo", "-h"])
        const bare = yield* inProcess([])
        for (const help of [root, status, demo, bare]) {
          expect(help.stdout).not.toContain("A user-defined piece of text")
          expect(help.stdout).not.toContain("A true or false value")
          expect(help.stdout).not.toContain("$ ")
        }
        expect(bare).toEqual(yield* inProcess(["--help"]))
        for (const option of ["--journal PATH", "--run ID", "--all", "--since DURATION", "--json", "--watch"])
          expect(status.stdout).toMatch(new RegExp(`\\n${option.replace(/[-[\]]/g, "\\$&")}\\n\\n {2}[A-Z]`))
        expect(status.stdout).toContain("Default: FLEETGUARD_JOURNAL")
        for (const option of ["--scenario NAME", "--report FILE", "--live", "--limit USD"])
          expect(demo.stdout).toMatch(new RegExp(`\\n${option}\\n\\n {2}[A-Z]`))
        const coloured = yield* inProcess(["status", "--help"], { output: { terminal: true, colour: true } })
        expect(coloured.stdout).toBe(status.stdout)
        expect(coloured.raw?.stdout).toContain("\x1b[")
        expect(status.raw?.stdout).not.toContain("\x1b")
      }).pipe(Effect.provide(NodeContext.layer)),
    spawning
  )

  it.effect(
    "a command line that cannot run as written is refused with the usage, exit 2, no stack trace",
    () =>
      Effect.gen(function* () {
        const flag = yield* fleetguard(["status", "--jsn"])
        expect(flag.code).toBe(2)
        expect(flag.stderr).toContain("Received unknown argument: '--jsn'")
        expect(flag.stderr).toContain("usage: fleetguard status [--journal PATH]")
        const command = yield* inProcess(["stauts"])
        expect(command.code).toBe(2)
        expect(command.stderr).toContain("usage: fleetguard demo [--scenario NAME]")
        expect(command.stderr).toContain("\n       fleetguard status")
        const since = yield* inProcess(["status", "--since", "soon"])
        expect(since.code).toBe(2)
        expect(since.stderr).toContain('--since "soon": not a duration')
        const both = yield* inProcess(["status", "--all", "--run", "x", "--journal", "j.jsonl"])
        expect(both.code).toBe(2)
        expect(both.stderr).toContain("fleetguard: --run and --all cannot be used together\nusage: fleetguard status")
        const empty = yield* inProcess(["status", "--journal", ""])
        expect(empty.code).toBe(2)
        expect(empty.stderr).toContain("--journal: an empty path")
        const scenario = yield* inProcess(["demo", "--scenario", "nope"])
        expect(scenario.code).toBe(2)
        expect(scenario.stderr).toContain("usage: fleetguard demo")
        for (const { stderr } of [flag, command, since, both, empty, scenario]) expect(stderr).not.toMatch(/^\s+at /m)
      }).pipe(Effect.provide(NodeContext.layer)),
    spawning
  )
})
