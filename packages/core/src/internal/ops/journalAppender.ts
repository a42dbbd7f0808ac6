/**
 * Appends whole lines to a journal file that other processes may append to as well. Lines go out
 * whole, several to a write, on a file opened for append: one write is never split by another
 * process's, so lines from several processes never interleave.
 * Rotation renames the file to a name no other process would pick, then starts a new one; a
 * process whose file was rotated by another notices (its inode is gone from the path) and reopens.
 */

import type { PlatformError } from "@effect/platform/Error"
import type * as FileSystem from "@effect/platform/FileSystem"
import type * as Path from "@effect/platform/Path"
import { Clock, Duration, Effect, Either, Exit, Option, Scope } from "effect"
import * as Format from "./journal.js"

export interface Settings {
  readonly path: string
  readonly maxBytes: number
  readonly maxFiles: number
  readonly pid: number
}

export interface Appender {
  /** Before a batch: re-reads the size (other processes append too) and reopens a rotated file. */
  readonly refresh: Effect.Effect<void, PlatformError>
  /**
   * Appends whole lines, in one write unless a rotation comes between them (before a line that
   * would take the file past `maxBytes`); answers how many rotations there were.
   */
  readonly append: (lines: ReadonlyArray<Uint8Array>) => Effect.Effect<number, PlatformError>
}

interface Handle {
  readonly file: FileSystem.File
  readonly scope: Scope.CloseableScope
  readonly ino: number | undefined
  size: number
  /** The file ends in an unfinished line (a crash): the next line must start on a line of its own. */
  torn: boolean
}

const newline = 10
/** How long closing the journal waits for its file to close. */
const closeTimeout = Duration.seconds(1)

const isNotFound = (error: PlatformError) => error._tag === "SystemError" && error.reason === "NotFound"

const open = (fs: FileSystem.FileSystem, path: string): Effect.Effect<Handle, PlatformError> =>
  Effect.flatMap(Scope.make(), (scope) =>
    Effect.gen(function* () {
      const file = yield* Scope.extend(fs.open(path, { flag: "a+" }), scope)
      const info = yield* file.stat
      const size = Number(info.size)
      let torn = false
      if (size > 0) {
        yield* file.seek(size - 1, "start")
        torn = Option.match(yield* file.readAlloc(1), { onNone: () => false, onSome: (last) => last[0] !== newline })
      }
      return { file, scope, ino: Option.getOrUndefined(info.ino), size, torn }
    }).pipe(Effect.onError(() => Scope.close(scope, Exit.void)))
  )

/** Whole lines in one buffer, for one write; after a torn line, starting on a line of its own. */
const joined = (lines: ReadonlyArray<Uint8Array>, torn: boolean): Uint8Array => {
  const bytes = new Uint8Array(lines.reduce((n, line) => n + line.length, torn ? 1 : 0))
  let at = 0
  if (torn) bytes[at++] = newline
  for (const line of lines) {
    bytes.set(line, at)
    at += line.length
  }
  return bytes
}

const write = (target: Handle, lines: ReadonlyArray<Uint8Array>) =>
  Effect.suspend(() => {
    const bytes = joined(lines, target.torn)
    return Effect.map(target.file.writeAll(bytes), () => {
      target.torn = false
      target.size += bytes.length
    })
  })

export const make = (
  fs: FileSystem.FileSystem,
  path: Path.Path,
  settings: Settings
): Effect.Effect<Appender, PlatformError, Scope.Scope> =>
  Effect.gen(function* () {
    const directory = path.dirname(settings.path)
    const base = path.basename(settings.path)
    yield* fs.makeDirectory(directory, { recursive: true })
    // Undefined after a reopen failed: the next batch tries again.
    let handle: Handle | undefined = yield* open(fs, settings.path)
    // A close the file system never completes (a stuck mount) is left to finish in the background:
    // disconnected and interruptible, for a timeout in a finalizer would otherwise wait for it.
    yield* Effect.addFinalizer(() =>
      handle === undefined
        ? Effect.void
        : Effect.timeoutOption(
            Effect.interruptible(Effect.disconnect(Scope.close(handle.scope, Exit.void))),
            closeTimeout
          )
    )
    let rotations = 0

    const reopen: Effect.Effect<Handle, PlatformError> = Effect.suspend(() => {
      const closing = handle === undefined ? Effect.void : Scope.close(handle.scope, Exit.void)
      handle = undefined
      return Effect.zipRight(
        closing,
        Effect.tap(open(fs, settings.path), (next) => {
          handle = next
        })
      )
    })

    /** The file's size if the path still names the file this process appends to (else another rotated it). */
    const sizeIfOurs = (ours: Handle) =>
      Effect.map(Effect.either(fs.stat(settings.path)), (info) =>
        Either.isRight(info) && (ours.ino === undefined || Option.getOrUndefined(info.right.ino) === ours.ino)
          ? Number(info.right.size)
          : undefined
      )

    const refresh = Effect.suspend(() => {
      const ours = handle
      if (ours === undefined) return Effect.asVoid(reopen)
      return Effect.flatMap(sizeIfOurs(ours), (size) => {
        if (size === undefined) return Effect.asVoid(reopen)
        ours.size = size
        return Effect.void
      })
    })

    const prune = Effect.flatMap(fs.readDirectory(directory), (names) =>
      Effect.forEach(
        Format.surplus(Format.rotated(base, names), settings.maxFiles),
        // Another process pruning at the same time may have removed it already.
        (name) => Effect.ignore(fs.remove(path.join(directory, name))),
        { discard: true }
      )
    )

    // Between the check and the rename another process may rotate too: the cost is at most one
    // small rotated file, never a lost line.
    const rotate = (ours: Handle) =>
      Effect.gen(function* () {
        if ((yield* sizeIfOurs(ours)) !== undefined) {
          const at = yield* Clock.currentTimeMillis
          const name = Format.rotatedName(base, at, settings.pid, rotations++)
          // Gone already: another process renamed it between the check and here.
          yield* Effect.catchIf(fs.rename(settings.path, path.join(directory, name)), isNotFound, () => Effect.void)
        }
        const next = yield* reopen
        yield* prune
        return next
      })

    const append = (lines: ReadonlyArray<Uint8Array>) =>
      Effect.gen(function* () {
        let target = handle ?? (yield* reopen)
        let rotations = 0
        let chunk: Array<Uint8Array> = []
        let pending = 0
        for (const line of lines) {
          const size = target.size + pending
          if (size > 0 && size + line.length > settings.maxBytes) {
            if (chunk.length > 0) yield* write(target, chunk)
            chunk = []
            pending = 0
            target = yield* rotate(target)
            rotations++
          }
          chunk.push(line)
          pending += line.length
        }
        if (chunk.length > 0) yield* write(target, chunk)
        return rotations
      })

    return { refresh, append }
  })
