/**
 * Journal: every `GuardEvent` as one JSON line in a file, appended through @effect/platform's
 * `FileSystem` — the durable record of what the guards decided, and what `fleetguard status` reads.
 *
 * Writing never slows or fails a call. Events go from the hub through a bounded queue to one
 * writer fiber; when the queue is full newer events are dropped and counted, and the count is
 * itself journaled (`EventsDropped`). The queue is drained when the scope closes, for 5 seconds at
 * most: what the file system has not taken by then is counted lost. A run's first line is
 * `RunStarted` with the limits in force, its last `RunEnded`. Files rotate by size, and several
 * processes may append to one journal.
 *
 * @module
 * @since 0.1.0
 */

import type { PlatformError } from "@effect/platform/Error"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import {
  Chunk,
  Clock,
  Config,
  Context,
  Duration,
  Effect,
  Exit,
  Fiber,
  Layer,
  Option,
  Queue,
  Schema,
  type Scope
} from "effect"
import { Budget } from "./Budget.js"
import { Concurrency } from "./Concurrency.js"
import { Depth } from "./Depth.js"
import * as Env from "./Env.js"
import { InvalidOption } from "./Errors.js"
import * as Events from "./Events.js"
import * as Format from "./internal/ops/journal.js"
import * as Appender from "./internal/ops/journalAppender.js"
import * as Metrics from "./Metrics.js"
import { decode, layerFromConfig, Options, option, PositiveInteger } from "./Options.js"

/**
 * Where a journal is written, when its files rotate, and how many events may wait for the writer.
 *
 * @since 0.1.0
 * @category models
 */
export interface JournalOptions {
  /** The file to append to; its directory is created when missing. */
  readonly path: string
  /** Rotate before a line would take the file past this size; default 10 MiB. */
  readonly maxBytes?: number | undefined
  /** Files kept, the current one included; default 5. */
  readonly maxFiles?: number | undefined
  /** Events waiting for the writer before newer ones are dropped; default 4096, what the hub holds. */
  readonly capacity?: number | undefined
}

/**
 * A journal line: `{ v: 1, at, pid, runId, event }`.
 *
 * @useDeclaredType
 * @since 0.1.0
 * @category models
 */
export type JournalLine = Format.Line
/**
 * The schema of a journal line, `{ v: 1, at, pid, runId, event }`, for decoding lines read by
 * other means than `Journal.read`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const JournalLine = Format.Line

/**
 * What the journal's writer has done so far: lines written, events dropped, lines lost.
 *
 * @since 0.1.0
 * @category models
 */
export interface JournalStats {
  /** Lines appended. */
  readonly written: number
  /** Events dropped because the queue was full. */
  readonly dropped: number
  /** Lines lost to a failed write (a full disk, a file made read-only). */
  readonly failed: number
}

/**
 * A running journal: the file it appends to, the run it records, and its writer's counts.
 *
 * @since 0.1.0
 * @category models
 */
export interface JournalService {
  readonly path: string
  readonly runId: string
  readonly stats: Effect.Effect<JournalStats>
}

/**
 * The journal cannot be opened, written or read; `reason` says why (the system's error).
 *
 * @since 0.1.0
 * @category errors
 */
export class JournalUnavailable extends Schema.TaggedError<JournalUnavailable>()("JournalUnavailable", {
  path: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `journal ${this.path} is unavailable: ${this.reason}`
  }
}

/**
 * Neither the journal nor any rotated file of it exists.
 *
 * @since 0.1.0
 * @category errors
 */
export class JournalNotFound extends Schema.TaggedError<JournalNotFound>()("JournalNotFound", {
  path: Schema.String
}) {
  override get message(): string {
    return `no journal at ${this.path}`
  }
}

/**
 * The default `maxBytes`: a file rotates before it would pass 10 MiB.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultMaxBytes = 10 * 1024 * 1024
/**
 * The default `maxFiles`: 5 files kept, the current one included.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultMaxFiles = 5

const OptionsSchema = Options({
  path: option((u): u is string => typeof u === "string" && u.trim() !== "", "must be a file path"),
  maxBytes: Schema.optional(PositiveInteger),
  maxFiles: Schema.optional(PositiveInteger),
  capacity: Schema.optional(PositiveInteger)
})

const unavailable = (path: string) => (error: PlatformError) => new JournalUnavailable({ path, reason: error.message })

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

/**
 * How long closing waits for the lines still queued to be written; then they are counted lost.
 * Past it the file system is not taking them (a stuck mount, a full pipe), and a program must end.
 */
const closeTimeout = Duration.seconds(5)
/** How long closing waits for the ledger's spend, for `RunEnded`: a store that is down must not hold it. */
const spendTimeout = Duration.seconds(1)

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

/** Encodes and appends lines a batch at a time, counting what is written, dropped and lost. */
const makeWriter = (appender: Appender.Appender, path: string, pid: number, runId: string) => {
  const encoder = new TextEncoder()
  const stats = { written: 0, dropped: 0, failed: 0 }
  let unreported = 0
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

  const accept = (queue: Queue.Queue<Events.GuardEvent>, events: Iterable<Events.GuardEvent>) =>
    Effect.sync(() => {
      for (const event of events) {
        if (queue.unsafeOffer(event)) continue
        stats.dropped++
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
      if (unencodable > 0) yield* lost(unencodable, `${unencodable} event(s) could not be encoded`)
      writing = lines.length
      yield* Effect.catchAll(appender.refresh, (error) => Effect.logDebug(error.message))
      yield* Effect.matchEffect(appender.append(lines), {
        onFailure: (error) => lost(lines.length, error.message),
        onSuccess: (rotations) => written(lines.length, rotations)
      })
      writing = 0
    })

  /** Closing gave up on the writer: the batch it was writing and every event still queued are lost. */
  const abandon = (queued: number) =>
    Effect.suspend(() => {
      const lines = writing + queued
      writing = 0
      stats.failed += lines
      Metrics.journalFailed.unsafeUpdate(lines, [])
      return Effect.logWarning(
        `fleetguard journal ${path}: ${lines} line(s) lost at close: the file did not take them within ${Duration.format(closeTimeout)}`
      )
    })

  return { stats, accept, writeBatch, abandon }
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
 * Opens the journal `options` name and starts its writer in the scope: every event published on
 * the `GuardEvents` hub is appended, from `RunStarted` to the `RunEnded` written when the scope
 * closes, after the queue is drained.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: JournalOptions
): Effect.Effect<JournalService, InvalidOption | JournalUnavailable, FileSystem.FileSystem | Path.Path | Scope.Scope> =>
  Effect.gen(function* () {
    const decoded = yield* decode(OptionsSchema, options)
    const settings = {
      maxBytes: decoded.maxBytes ?? defaultMaxBytes,
      maxFiles: decoded.maxFiles ?? defaultMaxFiles,
      capacity: decoded.capacity ?? Events.defaultCapacity
    }
    const runId = yield* Events.RunId
    const pid = process.pid
    const appender = yield* Appender.make(yield* FileSystem.FileSystem, yield* Path.Path, {
      path: decoded.path,
      pid,
      ...settings
    }).pipe(Effect.mapError(unavailable(decoded.path)))
    const writer = makeWriter(appender, decoded.path, pid, runId)
    const subscription = yield* Events.subscribe
    const queue = yield* Queue.bounded<Events.GuardEvent>(settings.capacity)
    yield* writer.accept(queue, [yield* runStarted(settings)])

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
      Effect.flatMap(Queue.takeBetween(queue, 1, settings.capacity), (batch) =>
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
    return { path: decoded.path, runId, stats: Effect.sync(() => ({ ...writer.stats })) } satisfies JournalService
  })

/**
 * The `Journal` `options` name, running for the layer's lifetime.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: JournalOptions
): Layer.Layer<Journal, InvalidOption | JournalUnavailable, FileSystem.FileSystem | Path.Path> =>
  Layer.scoped(Journal, make(options))

/**
 * FLEETGUARD_JOURNAL (unset: no journal), FLEETGUARD_JOURNAL_MAX_BYTES, FLEETGUARD_JOURNAL_MAX_FILES.
 * Build it over the guards so that `RunStarted` records their limits.
 *
 * @since 0.1.0
 * @category config
 */
export const config: Config.Config<JournalOptions | undefined> = Config.all({
  path: Env.optional(Env.text("FLEETGUARD_JOURNAL")),
  maxBytes: Env.optional(Env.int("FLEETGUARD_JOURNAL_MAX_BYTES")),
  maxFiles: Env.optional(Env.int("FLEETGUARD_JOURNAL_MAX_FILES"))
}).pipe(Config.map(({ path, ...rest }) => (path === undefined ? undefined : { path, ...rest })))

/**
 * The journal FLEETGUARD_JOURNAL names, running for the layer's lifetime; nothing when it is unset.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (options: Config.Config<JournalOptions | undefined> = config) =>
  layerFromConfig(
    options,
    {
      path: "FLEETGUARD_JOURNAL",
      maxBytes: "FLEETGUARD_JOURNAL_MAX_BYTES",
      maxFiles: "FLEETGUARD_JOURNAL_MAX_FILES"
    },
    (given): Layer.Layer<never, InvalidOption, FileSystem.FileSystem | Path.Path> =>
      given === undefined
        ? Layer.empty
        : Layer.scopedDiscard(
            Effect.mapError(make(given), (error) =>
              error instanceof InvalidOption
                ? error
                : new InvalidOption({ option: "path", value: given.path, reason: error.reason })
            )
          )
  )

/**
 * What `Journal.read` found: the files it read, their lines, and how many lines it could not read.
 *
 * @since 0.1.0
 * @category models
 */
export interface JournalContents {
  /** The files read, oldest first: the rotated ones, then the journal itself. */
  readonly files: ReadonlyArray<string>
  readonly lines: ReadonlyArray<JournalLine>
  /** Lines that are not JSON: cut short by a crash, or still being written. */
  readonly torn: number
  /** JSON lines this version cannot read. */
  readonly unknown: number
}

/**
 * Reads a journal and its rotated files, oldest first; a line that cannot be read is skipped and counted.
 *
 * @since 0.1.0
 * @category utils
 */
export const read = (
  path: string
): Effect.Effect<JournalContents, JournalNotFound | JournalUnavailable, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const paths = yield* Path.Path
    const directory = paths.dirname(path)
    const base = paths.basename(path)
    const names = yield* fs.readDirectory(directory).pipe(
      Effect.catchIf(
        (error) => error._tag === "SystemError" && error.reason === "NotFound",
        () => Effect.succeed<Array<string>>([])
      ),
      Effect.mapError(unavailable(path))
    )
    const files = [...Format.rotated(base, names), ...(names.includes(base) ? [base] : [])]
    if (files.length === 0) return yield* new JournalNotFound({ path })
    const texts = yield* Effect.forEach(files, (name) =>
      fs.readFileString(paths.join(directory, name)).pipe(
        // Rotated away between the listing and the read: its lines are in a file this read missed.
        Effect.catchIf(
          (error) => error._tag === "SystemError" && error.reason === "NotFound",
          () => Effect.succeed("")
        ),
        Effect.mapError(unavailable(path))
      )
    )
    const parsed = texts.map(Format.parse)
    return {
      files: files.map((name) => paths.join(directory, name)),
      lines: parsed.flatMap((p) => p.lines),
      torn: parsed.reduce((n, p) => n + p.torn, 0),
      unknown: parsed.reduce((n, p) => n + p.unknown, 0)
    }
  })

/**
 * The tag of a running journal, with the module's constructors, layers and reader as static
 * members.
 *
 * @since 0.1.0
 * @category tags
 */
export class Journal extends Context.Tag("@fleetguard/core/Journal")<Journal, JournalService>() {
  static readonly make = make
  static readonly layer = layer
  static readonly layerConfig = layerConfig
  static readonly config = config
  static readonly read = read
}
