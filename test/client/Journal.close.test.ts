/**
 * Closing the journal ends on time whatever the file system does: a write that never completes, a
 * file whose close never completes, a ledger that does not answer for `RunEnded`'s spend.
 */
import { FileSystem } from "@effect/platform"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { describe, expect, it } from "@effect/vitest"
import { Budget, Events, GuardEvents, Journal, RunId } from "@fleetguard/core"
import { Context, Effect, Exit, Layer, Logger, Scope, TestClock } from "effect"
import { endsSoon, eventually, sleepersAt } from "../support/receiver.js"

const settled = (at: number) =>
  new Events.CallSettled({
    at,
    agentId: "a",
    model: "claude-haiku-4-5",
    outcome: "success",
    attempts: 1,
    reservedUsd: 0.02,
    costUsd: 0.01,
    inputTokens: 10,
    outputTokens: 20,
    cacheCreationInputTokens: 0,
    cacheReadInputTokens: 0
  })

/** The real file system, but every file opened `stuck` at writing or at closing. */
const stuck = (at: "write" | "close") =>
  Layer.effect(
    FileSystem.FileSystem,
    Effect.map(FileSystem.FileSystem, (fs) => ({
      ...fs,
      open: (path: string, options?: FileSystem.OpenFileOptions) =>
        at === "write"
          ? Effect.map(fs.open(path, options), (file) =>
              Object.assign(Object.create(file) as FileSystem.File, { writeAll: () => Effect.never })
            )
          : Effect.zipRight(
              Effect.addFinalizer(() => Effect.never),
              fs.open(path, options)
            )
    }))
  ).pipe(Layer.provideMerge(NodeContext.layer))

/** Opens a journal in a scope of its own, publishes `events`, and starts closing it (a daemon: a hang must fail the test). */
const closing = (path: string, events: number) =>
  Effect.gen(function* () {
    const scope = yield* Scope.make()
    const journal = Context.get(yield* Layer.buildWithScope(Journal.layer({ path }), scope), Journal)
    yield* Effect.forEach(
      Array.from({ length: events }, (_, i) => settled(i)),
      (e) => Events.publish(() => e)
    )
    return { journal, closed: yield* Effect.forkDaemon(Scope.close(scope, Exit.void)) }
  })

/** Runs `self` on `platform` with a journal path in a temporary directory, a hub of its own and a fixed run id. */
const inTempDir = <A, E, R>(
  platform: Layer.Layer<FileSystem.FileSystem | NodeContext.NodeContext>,
  self: (path: string) => Effect.Effect<A, E, R>
) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    return yield* self(`${yield* fs.makeTempDirectoryScoped()}/journal.jsonl`)
  }).pipe(
    Effect.scoped,
    Effect.provide(Layer.mergeAll(platform, GuardEvents.layer(), Logger.remove(Logger.defaultLogger))),
    Effect.provideService(RunId, "run-close")
  )

describe("closing the journal on time", () => {
  it.effect("a write that never completes: the close ends after 5 s, every line not written counted lost", () =>
    inTempDir(stuck("write"), (path) =>
      Effect.gen(function* () {
        const { journal, closed } = yield* closing(path, 3)
        yield* eventually(sleepersAt(5_000), (n) => n === 1, "the close's deadline")
        yield* TestClock.adjust("4999 millis")
        expect(closed.unsafePoll()).toBe(null)
        yield* TestClock.adjust("1 millis")
        expect(Exit.isSuccess(yield* endsSoon(closed, "the close"))).toBe(true)
        // RunStarted, the three events, RunEnded.
        expect(yield* journal.stats).toEqual({ written: 0, dropped: 0, failed: 5 })
      })
    )
  )

  it.effect("a file whose close never completes: every line written, the close ends 1 s later", () =>
    inTempDir(stuck("close"), (path) =>
      Effect.gen(function* () {
        const { journal, closed } = yield* closing(path, 3)
        yield* eventually(sleepersAt(1_000), (n) => n === 1, "the file close's deadline")
        yield* TestClock.adjust("1 second")
        expect(Exit.isSuccess(yield* endsSoon(closed, "the close"))).toBe(true)
        expect(yield* journal.stats).toEqual({ written: 5, dropped: 0, failed: 0 })
        expect((yield* Journal.read(path)).lines.map((l) => l.event._tag).at(-1)).toBe("RunEnded")
      })
    )
  )

  it.effect("a ledger that does not answer: RunEnded is written after 1 s, without the spend", () =>
    inTempDir(NodeContext.layer, (path) =>
      Effect.gen(function* () {
        const { closed } = yield* closing(path, 1)
        yield* eventually(sleepersAt(1_000), (n) => n === 1, "the wait for the spend")
        yield* TestClock.adjust("1 second")
        expect(Exit.isSuccess(yield* endsSoon(closed, "the close"))).toBe(true)
        const last = (yield* Journal.read(path)).lines.at(-1)?.event
        expect(last).toEqual(new Events.RunEnded({ at: 1_000 }))
      }).pipe(
        Effect.provide(
          Layer.effect(
            Budget,
            Effect.map(Budget.make({ limitUsd: 1 }), (b) => ({ ...b, snapshot: Effect.never }))
          )
        )
      )
    )
  )
})
