/**
 * The journal's writer: events go from the hub through a bounded queue to one writer fiber, which
 * encodes and appends them a batch at a time; closing publishes the run's `RunEnded` and waits
 * until it is written, for a deadline at most. What is written, dropped and lost is counted.
 */
import type { PlatformError } from "@effect/platform/Error"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import { Chunk, Clock, Duration, Effect, Exit, Fiber, Option, Queue, type Scope } from "effect"
import { Budget } from "../../Budget.js"
import { Concurrency } from "../../Concurrency.js"
import { Depth } from "../../Depth.js"
import * as Events from "../../Events.js"
import * as Metrics from "../../Metrics.js"
import * as Format from "./journal.js"
import * as Appender from "./journalAppender.js"

export interface Settings {
  readonly path: string
  readonly maxBytes: number
  readonly maxFiles: number
  readonly capacity: number
}

interface Stats {
  written: number
  dropped: number
  failed: number
}

/** A running journal (the public `JournalService`). */
export interface Running {
  readonly path: string
  readonly runId: string
  readonly stats: Effect.Effect<Readonly<Stats>>
}

/**
 * How long closing waits for the lines still queued to be written; then they are counted lost.
 * Past it the file system is not taking them (a stuck mount, a full pipe), and a program must end.
 */
const closeTimeout = Duration.seconds(5)
/** How long closing waits for the ledger's spend, for `RunEnded`: a store that is down must not hold it. */
const spendTimeout = Duration.seconds(1)

/** The limits of the guards the journal is built over, as far as their services say. */
const runStarted = (journal: Events.RunStarted["journal"]) =>
  Effect.gen(function* () {
    const budget = yield* Effect.serviceOption(Budget)
    const concurrency = yield* Effect.serviceOption(Concurrency)
    const depth = yield* Effect.serviceOption(Depth)
    return new Events.RunStarted({
      at: yield* Clock.currentTimeMillis,
      budget: Option.getOrUndefined(
        Option.map(budget, ({ limitUsd, perAgentLimitUsd, alertAt }) => ({ limitUsd, perAgentLimitUsd, alertAt }))
      ),
      concurrency: Option.getOrUndefined(
        Option.map(concurrency, (c) => ({ maxConcurrency: c.limit, maxPauseMillis: c.maxPauseMillis }))
      ),
      depth: Option.getOrUndefined(Option.map(depth, ({ maxDepth, maxFanOut }) => ({ maxDepth, maxFanOut }))),
      journal
    })
  })

/** The run's last line: with the ledger's spend when it answers within `spendTimeout`, else without. */
const runEnded = Effect.flatMap(Effect.serviceOption(Budget), (budget) =>
  Effect.flatMap(
    Option.match(budget, {
      onNone: () => Effect.succeedNone,
      // Run in a fiber of its own, interruptible: this runs in a finalizer, where a timeout around
      // an uninterruptible wait would fire on time and then wait for it to end.
      onSome: (b) => Effect.timeoutOption(Effect.interruptible(b.snapshot), spendTimeout)
    }),
    (snapshot) =>
      Effect.map(Clock.currentTimeMillis, (at) =>
        Option.match(snapshot, {
          onNone: () => new Events.RunEnded({ at }),
          onSome: (s) => new Events.RunEnded({ at, spentUsd: s.spentUsd, reservedUsd: s.reservedUsd })
        })
      )
  )
)

/** The writer's counts and what it says of them: a warning when lines start being lost, a word when writing resumes. */
const makeCounts = (path: string) => {
  const stats: Stats = { written: 0, dropped: 0, failed: 0 }
  let failing = false

  const lost = (lines: number, reason: string) =>
    Effect.suspend(() => {
      stats.failed += lines
      Metrics.journalFailed.unsafeUpdate(lines, [])
      if (failing) return Effect.void
      failing = true
      return Effect.logWarning(`fleetguard journal ${path}: lines are being lost: ${reason}`)
    })

  const written = (lines: number, rotations: number) =>
    Effect.suspend(() => {
      stats.written += lines
      Metrics.journalLines.unsafeUpdate(lines, [])
      if (rotations > 0) Metrics.journalRotations.unsafeUpdate(rotations, [])
      if (!failing) return Effect.void
      failing = false
      return Effect.logInfo(`fleetguard journal ${path}: writing again`)
    })

  /** Closing gave up on the writer: `lines` it had not written are lost. */
  const abandoned = (lines: number) =>
    Effect.suspend(() => {
      stats.failed += lines
      Metrics.journalFailed.unsafeUpdate(lines, [])
      return Effect.logWarning(
        `fleetguard journal ${path}: ${lines} line(s) lost at close: the file did not take them within ${Duration.format(closeTimeout)}`
      )
    })

  return { stats, lost, written, abandoned }
}

/** Encodes and appends lines a batch at a time, counting what is written, dropped and lost. */
const makeWriter = (appender: Appender.Appender, path: string, pid: number, runId: string) => {
  const encoder = new TextEncoder()
  const counts = makeCounts(path)
  let unreported = 0

  const accept = (queue: Queue.Queue<Events.GuardEvent>, events: Iterable<Events.GuardEvent>) =>
    Effect.sync(() => {
      for (const event of events) {
        if (queue.unsafeOffer(event)) continue
        counts.stats.dropped++
        unreported++
        Metrics.journalDropped.unsafeUpdate(1, [])
      }
    })

  /** The batch's lines, and a line saying how many events were dropped since the last one did. */
  const encode = (events: Iterable<Events.GuardEvent>, now: number) => {
    const all = [...events]
    if (unreported > 0) all.push(new Events.EventsDropped({ at: now, dropped: unreported }))
    unreported = 0
    const lines: Array<Uint8Array> = []
    for (const event of all) {
      const text = Format.encode({ v: 1, at: event.at, pid, runId, event })
      if (text !== undefined) lines.push(encoder.encode(text))
    }
    return { lines, unencodable: all.length - lines.length }
  }

  /** Lines of the batch being written, until the write ends. */
  let writing = 0

  const writeBatch = (events: Iterable<Events.GuardEvent>) =>
    Effect.gen(function* () {
      const { lines, unencodable } = encode(events, yield* Clock.currentTimeMillis)
      if (unencodable > 0) yield* counts.lost(unencodable, `${unencodable} event(s) could not be encoded`)
      writing = lines.length
      yield* Effect.catchAll(appender.refresh, (error) => Effect.logDebug(error.message))
      yield* Effect.matchEffect(appender.append(lines), {
        onFailure: (error) => counts.lost(lines.length, error.message),
        onSuccess: (rotations) => counts.written(lines.length, rotations)
      })
      writing = 0
    })

  /** Closing gave up on the writer: the batch it was writing and every event still queued are lost. */
  const abandon = (queued: number) =>
    Effect.suspend(() => {
      const lines = writing + queued
      writing = 0
      return counts.abandoned(lines)
    })

  return { stats: counts.stats, accept, writeBatch, abandon }
}

/**
 * Closing: waits until the pump has handed `RunEnded` over and the writer has written it, or
 * `deadline` has come; then stops the writer, and `abandon`s what it did not write.
 */
const drainUntil = (
  deadline: number,
  pumping: Fiber.Fiber<void>,
  writing: Fiber.Fiber<void>,
  abandon: Effect.Effect<void>
) =>
  Effect.gen(function* () {
    // A pump cut off (its hub shut down first) never hands the writer RunEnded: stop waiting.
    const drained = Effect.flatMap(Fiber.await(pumping), (pumped) =>
      Exit.isSuccess(pumped) ? Effect.asVoid(Fiber.await(writing)) : Effect.void
    )
    const left = Math.max(0, deadline - (yield* Clock.currentTimeMillis))
    // Interruptible, in a fiber of its own (the timeout's): this runs in a finalizer, where the
    // deadline could not cut an uninterruptible wait short.
    const done = yield* Effect.timeoutOption(Effect.interruptible(drained), left)
    yield* Fiber.interruptFork(writing)
    if (Option.isNone(done)) yield* abandon
  })

/**
 * Opens the journal and starts its writer in the scope: every event published on the hub is
 * appended, from `RunStarted` to the `RunEnded` written when the scope closes, after the queue is
 * drained. Fails only when the file cannot be opened.
 */
export const start = (
  settings: Settings
): Effect.Effect<Running, PlatformError, FileSystem.FileSystem | Path.Path | Scope.Scope> =>
  Effect.gen(function* () {
    const runId = yield* Events.RunId
    const pid = process.pid
    const { path, maxBytes, maxFiles, capacity } = settings
    const appender = yield* Appender.make(yield* FileSystem.FileSystem, yield* Path.Path, {
      path,
      pid,
      maxBytes,
      maxFiles
    })
    const writer = makeWriter(appender, path, pid, runId)
    const subscription = yield* Events.subscribe
    const queue = yield* Queue.bounded<Events.GuardEvent>(capacity)
    yield* writer.accept(queue, [yield* runStarted({ maxBytes, maxFiles, capacity })])

    // Closing publishes the run's RunEnded on the hub and waits until it is written: it follows every
    // event published before it, and no fiber is interrupted holding an event (an interrupted take
    // loses what it was handed).
    let last: Events.RunEnded | undefined

    // The pump does no I/O, so it keeps up with the hub. Another journal's RunEnded, on a hub two
    // journals share, is not this run's.
    const pump = (): Effect.Effect<void> =>
      Effect.flatMap(Queue.takeBetween(subscription, 1, Infinity), (events) => {
        const taken = Chunk.toReadonlyArray(events)
        const end = last === undefined ? -1 : taken.indexOf(last)
        const before = (end < 0 ? taken : taken.slice(0, end)).filter((event) => event._tag !== "RunEnded")
        return Effect.zipRight(
          writer.accept(queue, before),
          end < 0 || last === undefined ? pump() : Queue.offer(queue, last)
        )
      })

    const write = (): Effect.Effect<void> =>
      Effect.flatMap(Queue.takeBetween(queue, 1, capacity), (batch) =>
        Effect.zipRight(writer.writeBatch(batch), Chunk.some(batch, (event) => event === last) ? Effect.void : write())
      )

    const pumping = yield* Effect.forkScoped(pump())
    // A daemon, stopped without waiting: a write the file system never completes must not hold the close.
    const writing = yield* Effect.forkDaemon(write())
    yield* Effect.addFinalizer(() => Fiber.interruptFork(writing))
    const hub = yield* Events.GuardEvents
    // Added last, so it runs first: before the subscription ends and the file is closed.
    yield* Effect.addFinalizer(() =>
      Effect.gen(function* () {
        const deadline = (yield* Clock.currentTimeMillis) + Duration.toMillis(closeTimeout)
        last = yield* runEnded
        yield* hub.publish(last)
        yield* drainUntil(deadline, pumping, writing, Effect.flatMap(Queue.size(queue), writer.abandon))
      })
    )
    return { path, runId, stats: Effect.sync(() => ({ ...writer.stats })) }
  })
