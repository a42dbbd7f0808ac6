import { FileSystem } from "@effect/platform"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, FastCheck as fc, Layer, TestServices } from "effect"
import { Budget, Events, GuardEvents, Journal, type JournalContents, type JournalOptions, RunId } from "../src/index.js"
import * as Format from "../src/internal/ops/journal.js"

const settled = (agentId: string, at: number, costUsd = 0.01) =>
  new Events.CallSettled({
    at,
    agentId,
    model: "claude-haiku-4-5",
    outcome: "success",
    attempts: 1,
    reservedUsd: 0.02,
    costUsd,
    inputTokens: 10,
    outputTokens: 20,
    cacheCreationInputTokens: 0,
    cacheReadInputTokens: 0
  })

/** A temporary directory, a hub of the test's own and a fixed run id. */
const inTempDir = <A, E, R>(self: (dir: string) => Effect.Effect<A, E, R>) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    return yield* self(yield* fs.makeTempDirectoryScoped())
  }).pipe(
    Effect.scoped,
    Effect.provide(Layer.mergeAll(NodeContext.layer, GuardEvents.layer())),
    Effect.provideService(RunId, "run-1")
  )

/** Runs `self` with a journal open, then closes it (draining it). */
const journaling = <A, E, R>(options: JournalOptions, self: Effect.Effect<A, E, R>) =>
  Effect.scoped(Effect.zipRight(Journal.make(options), self))

const publishAll = (events: ReadonlyArray<Events.GuardEvent>) =>
  Effect.forEach(events, (event) => Events.publish(() => event), { discard: true })

const tags = (contents: JournalContents) => contents.lines.map((line) => line.event._tag)

describe("Journal", () => {
  it.effect("writes every event as a line between RunStarted (with the limits) and RunEnded (with the spend)", () =>
    inTempDir((dir) =>
      Effect.gen(function* () {
        const path = `${dir}/nested/journal.jsonl`
        yield* journaling(
          { path },
          Effect.gen(function* () {
            const reservation = yield* Budget.reserve("a", 0.5)
            yield* Budget.commit(reservation, 0.3)
            yield* publishAll([settled("a", 1, 0.3)])
          })
        ).pipe(Effect.provide(Budget.layer({ limitUsd: 1, perAgentLimitUsd: 1, alertAt: 0.4 })))
        const contents = yield* Journal.read(path)
        expect(tags(contents)).toEqual(["RunStarted", "BudgetThresholdCrossed", "CallSettled", "RunEnded"])
        expect(contents.lines.every((l) => l.v === 1 && l.runId === "run-1" && l.pid === process.pid)).toBe(true)
        const [first, , , last] = contents.lines.map((l) => l.event)
        expect(first).toMatchObject({ budget: { limitUsd: 1, perAgentLimitUsd: 1, alertAt: 0.4 } })
        expect(first).toMatchObject({ journal: { maxBytes: 10 * 1024 * 1024, maxFiles: 5, capacity: 4096 } })
        expect(last).toMatchObject({ _tag: "RunEnded", spentUsd: 0.3, reservedUsd: 0 })
        expect(contents).toMatchObject({ torn: 0, unknown: 0 })
      })
    )
  )

  it.effect("an event published as the scope closes is written, before RunEnded", () =>
    inTempDir((dir) =>
      Effect.gen(function* () {
        const path = `${dir}/journal.jsonl`
        // The journal is waiting for events, and its scope closes right after the hub hands it one.
        yield* journaling(
          { path },
          Effect.zipRight(TestServices.provideLive(Effect.sleep("10 millis")), publishAll([settled("a", 1)]))
        )
        expect(tags(yield* Journal.read(path))).toEqual(["RunStarted", "CallSettled", "RunEnded"])
      })
    )
  )

  it.effect("skips and counts a torn last line, and starts the next run on a line of its own", () =>
    inTempDir((dir) =>
      Effect.gen(function* () {
        const fs = yield* FileSystem.FileSystem
        const path = `${dir}/journal.jsonl`
        const whole = Format.encode({ v: 1, at: 1, pid: 7, runId: "crashed", event: settled("a", 1) }) ?? ""
        yield* fs.writeFileString(path, `${whole}${whole.slice(0, 40)}`)
        expect(yield* Journal.read(path)).toMatchObject({ torn: 1, unknown: 0 })
        yield* journaling({ path }, publishAll([settled("b", 2)]))
        const contents = yield* Journal.read(path)
        expect(tags(contents)).toEqual(["CallSettled", "RunStarted", "CallSettled", "RunEnded"])
        expect(contents).toMatchObject({ torn: 1, unknown: 0 })
      })
    )
  )

  it.effect("counts lines of an unknown version or event as unknown", () =>
    inTempDir((dir) =>
      Effect.gen(function* () {
        const fs = yield* FileSystem.FileSystem
        const path = `${dir}/journal.jsonl`
        const line = { v: 1, at: 1, pid: 7, runId: "r", event: { _tag: "FromTheFuture", at: 1 } }
        yield* fs.writeFileString(path, `${JSON.stringify(line)}\n${JSON.stringify({ ...line, v: 2 })}\n`)
        expect(yield* Journal.read(path)).toMatchObject({ lines: [], torn: 0, unknown: 2 })
      })
    )
  )

  it.effect("a missing journal fails JournalNotFound naming the path", () =>
    inTempDir((dir) =>
      Effect.gen(function* () {
        const error = yield* Effect.flip(Journal.read(`${dir}/nowhere/journal.jsonl`))
        expect(error).toMatchObject({ _tag: "JournalNotFound", path: `${dir}/nowhere/journal.jsonl` })
      })
    )
  )

  it.effect("with the writer stuck, a full queue drops newer events, counts them and journals the count", () =>
    inTempDir((dir) =>
      Effect.gen(function* () {
        const path = `${dir}/journal.jsonl`
        const stuck = yield* Deferred.make<void>()
        const events = Array.from({ length: 50 }, (_, i) => settled("a", i))
        const journal = yield* Effect.scoped(
          Effect.gen(function* () {
            const journal = yield* Journal.make({ path, capacity: 8 })
            // Every publish returns while nothing can be written; then the journal's fibers catch up.
            yield* publishAll(events)
            yield* Effect.repeat(Effect.zipRight(Effect.yieldNow(), journal.stats), { until: (s) => s.dropped > 0 })
            yield* Deferred.succeed(stuck, undefined)
            return journal
          })
        ).pipe(Effect.provide(gatedWrites(Deferred.await(stuck))))
        const stats = yield* journal.stats
        const contents = yield* Journal.read(path)
        const written = contents.lines.filter((l) => l.event._tag === "CallSettled").length
        const reported = contents.lines.flatMap((l) => (l.event._tag === "EventsDropped" ? [l.event.dropped] : []))
        expect(stats.dropped).toBeGreaterThan(0)
        expect(reported).toEqual([stats.dropped])
        expect(written + stats.dropped).toBe(events.length)
        // The oldest are kept, in order: what was dropped is what came after the queue filled.
        expect(contents.lines.flatMap((l) => (l.event._tag === "CallSettled" ? [l.event.at] : []))).toEqual(
          events.slice(0, written).map((e) => e.at)
        )
      })
    )
  )

  it.effect("rotates by size, keeps maxFiles files, and the reader follows them in order", () =>
    inTempDir((dir) =>
      Effect.gen(function* () {
        const fs = yield* FileSystem.FileSystem
        const path = `${dir}/journal.jsonl`
        const events = Array.from({ length: 40 }, (_, i) => settled(`agent-${i}`, i))
        const lineBytes = (
          Format.encode({ v: 1, at: 0, pid: process.pid, runId: "run-1", event: settled("agent-0", 0) }) ?? ""
        ).length
        // About four lines a file: many rotations, and the oldest files pruned.
        yield* journaling({ path, maxBytes: lineBytes * 4 + 10, maxFiles: 3 }, publishAll(events))
        const files = (yield* fs.readDirectory(dir)).filter((name) => name.startsWith("journal.jsonl"))
        expect(files.length).toBe(3)
        for (const name of files) expect(Number((yield* fs.stat(`${dir}/${name}`)).size)).toBeLessThan(lineBytes * 5)
        const contents = yield* Journal.read(path)
        expect(contents.files).toHaveLength(3)
        const ats = contents.lines.flatMap((l) => (l.event._tag === "CallSettled" ? [l.event.at] : []))
        // What is left is the newest lines, in the order they were written.
        expect(ats).toEqual(events.slice(40 - ats.length).map((e) => e.at))
        expect(tags(contents).at(-1)).toBe("RunEnded")
      })
    )
  )
})

describe("Journal format", () => {
  const lineArb = fc
    .record({
      at: fc.integer({ min: 0, max: 2 ** 40 }),
      agent: fc.string(),
      cents: fc.integer({ min: 0, max: 10_000 })
    })
    .map(({ at, agent, cents }) => ({ v: 1 as const, at, pid: 1, runId: "r", event: settled(agent, at, cents / 100) }))

  it.prop(
    "parse reads back what encode wrote, and counts a cut-off tail as one torn line",
    [fc.array(lineArb, { maxLength: 20 }), fc.nat()],
    ([lines, cut]) => {
      const text = lines.map((line) => Format.encode(line) ?? "").join("")
      const tail = Format.encode({ v: 1, at: 0, pid: 1, runId: "r", event: settled("tail", 0) }) ?? ""
      const torn = tail.slice(0, 1 + (cut % (tail.length - 1)))
      const parsed = Format.parse(text + torn)
      expect(parsed.lines).toEqual(lines)
      expect(parsed).toMatchObject({ torn: 1, unknown: 0 })
    }
  )

  it.prop(
    "rotated files sort oldest first and surplus keeps the newest maxFiles − 1",
    [
      fc.uniqueArray(fc.tuple(fc.nat(), fc.nat(), fc.nat()), { selector: (t) => t.join("-") }),
      fc.integer({ min: 1, max: 6 })
    ],
    ([stamps, maxFiles]) => {
      const names = stamps.map(([at, pid, seq]) => Format.rotatedName("j.jsonl", at, pid, seq))
      const sorted = Format.rotated("j.jsonl", [...names, "j.jsonl", "other.jsonl.1-2-3", "j.jsonl.tmp"])
      const expected = [...stamps]
        .sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2])
        .map(([at, pid, seq]) => Format.rotatedName("j.jsonl", at, pid, seq))
      expect(sorted).toEqual(expected)
      const surplus = Format.surplus(sorted, maxFiles)
      expect(sorted.slice(surplus.length)).toHaveLength(Math.min(sorted.length, maxFiles - 1))
      expect(surplus).toEqual(sorted.slice(0, surplus.length))
    }
  )
})

/** The platform's FileSystem, but every write of a journal line first waits for `gate`. */
const gatedWrites = (gate: Effect.Effect<void>) =>
  Layer.effect(
    FileSystem.FileSystem,
    Effect.map(FileSystem.FileSystem, (fs) =>
      FileSystem.make({
        ...fs,
        open: (path, options) =>
          Effect.map(
            fs.open(path, options),
            (file) =>
              new Proxy(file, {
                get: (target, key) =>
                  key === "writeAll"
                    ? (bytes: Uint8Array) => Effect.zipRight(gate, target.writeAll(bytes))
                    : Reflect.get(target, key)
              })
          )
      })
    )
  ).pipe(Layer.provide(NodeContext.layer), (gated) => Layer.merge(NodeContext.layer, gated))
