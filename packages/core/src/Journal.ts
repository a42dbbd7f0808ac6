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
import type * as FileSystem from "@effect/platform/FileSystem"
import type * as Path from "@effect/platform/Path"
import { Config, Context, Effect, Layer, Schema, type Scope } from "effect"
import * as Env from "./Env.js"
import { InvalidOption } from "./Errors.js"
import * as Events from "./Events.js"
import * as Format from "./internal/ops/journal.js"
import * as Reader from "./internal/ops/journalReader.js"
import * as Writer from "./internal/ops/journalWriter.js"
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

/** A file rotates before it would pass 10 MiB; 5 files are kept, the current one included. */
const defaultMaxBytes = 10 * 1024 * 1024
const defaultMaxFiles = 5

const OptionsSchema = Options({
  path: option((u): u is string => typeof u === "string" && u.trim() !== "", "must be a file path"),
  maxBytes: Schema.optional(PositiveInteger),
  maxFiles: Schema.optional(PositiveInteger),
  capacity: Schema.optional(PositiveInteger)
})

const unavailable = (path: string) => (error: PlatformError) => new JournalUnavailable({ path, reason: error.message })

/**
 * Opens the journal `options` name and starts its writer in the scope: every event published on
 * the `GuardEvents` hub is appended, from `RunStarted` to the `RunEnded` written when the scope
 * closes, after the queue is drained.
 *
 * @since 0.1.0
 * @category constructors
 */
const make = (
  options: JournalOptions
): Effect.Effect<JournalService, InvalidOption | JournalUnavailable, FileSystem.FileSystem | Path.Path | Scope.Scope> =>
  Effect.flatMap(decode(OptionsSchema, options), (decoded) =>
    Effect.mapError(
      Writer.start({
        path: decoded.path,
        maxBytes: decoded.maxBytes ?? defaultMaxBytes,
        maxFiles: decoded.maxFiles ?? defaultMaxFiles,
        capacity: decoded.capacity ?? Events.defaultCapacity
      }),
      unavailable(decoded.path)
    )
  )

/**
 * The `Journal` `options` name, running for the layer's lifetime.
 *
 * @since 0.1.0
 * @category layers
 */
const layer = (
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
const config: Config.Config<JournalOptions | undefined> = Config.all({
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
const layerConfig = (options: Config.Config<JournalOptions | undefined> = config) =>
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
const read = (
  path: string
): Effect.Effect<JournalContents, JournalNotFound | JournalUnavailable, FileSystem.FileSystem | Path.Path> =>
  Effect.flatMap(Effect.mapError(Reader.read(path), unavailable(path)), (contents) =>
    contents === undefined ? Effect.fail(new JournalNotFound({ path })) : Effect.succeed(contents)
  )

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
