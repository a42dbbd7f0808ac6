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

/** What the steps of appending share: where the journal is, and the file this process appends to. */
interface Target {
  readonly fs: FileSystem.FileSystem
  readonly path: Path.Path
  readonly settings: Settings
  readonly directory: string
  readonly base: string
  /** Undefined after a reopen failed: the next batch tries again. */
  handle: Handle | undefined
  /** This process's count of rotations, in the names it gives rotated files. */
  rotations: number
}

const reopen = (target: Target): Effect.Effect<Handle, PlatformError> =>
  Effect.suspend(() => {
    const closing = target.handle === undefined ? Effect.void : Scope.close(target.handle.scope, Exit.void)
    target.handle = undefined
    return Effect.zipRight(
      closing,
      Effect.tap(open(target.fs, target.settings.path), (next) => {
        target.handle = next
      })
    )
  })

/** The file's size if the path still names the file this process appends to (else another rotated it). */
const sizeIfOurs = (target: Target, ours: Handle) =>
  Effect.map(Effect.either(target.fs.stat(target.settings.path)), (info) =>
    Either.isRight(info) && (ours.ino === undefined || Option.getOrUndefined(info.right.ino) === ours.ino)
      ? Number(info.right.size)
      : undefined
  )

const refresh = (target: Target): Effect.Effect<void, PlatformError> =>
  Effect.suspend(() => {
    const ours = target.handle
    if (ours === undefined) return Effect.asVoid(reopen(target))
    return Effect.flatMap(sizeIfOurs(target, ours), (size) => {
      if (size === undefined) return Effect.asVoid(reopen(target))
      ours.size = size
      return Effect.void
    })
  })

const prune = ({ fs, path, settings, directory, base }: Target) =>
  Effect.flatMap(fs.readDirectory(directory), (names) =>
    Effect.forEach(
      Format.surplus(Format.rotated(base, names), settings.maxFiles),
      // Another process pruning at the same time may have removed it already.
      (name) => Effect.ignore(fs.remove(path.join(directory, name))),
      { discard: true }
    )
  )

// Between the check and the rename another process may rotate too: the cost is at most one
// small rotated file, never a lost line.
const rotate = (target: Target, ours: Handle) =>
  Effect.gen(function* () {
    if ((yield* sizeIfOurs(target, ours)) !== undefined) {
      const at = yield* Clock.currentTimeMillis
      const name = Format.rotatedName(target.base, at, target.settings.pid, target.rotations++)
      // Gone already: another process renamed it between the check and here.
      yield* Effect.catchIf(
        target.fs.rename(target.settings.path, target.path.join(target.directory, name)),
        Format.isNotFound,
        () => Effect.void
      )
    }
    const next = yield* reopen(target)
    yield* prune(target)
    return next
  })

const append = (target: Target, lines: ReadonlyArray<Uint8Array>) =>
  Effect.gen(function* () {
    let file = target.handle ?? (yield* reopen(target))
    let rotations = 0
    let chunk: Array<Uint8Array> = []
    let pending = 0
    for (const line of lines) {
      const size = file.size + pending
      if (size > 0 && size + line.length > target.settings.maxBytes) {
        if (chunk.length > 0) yield* write(file, chunk)
        chunk = []
        pending = 0
        file = yield* rotate(target, file)
        rotations++
      }
      chunk.push(line)
      pending += line.length
    }
    if (chunk.length > 0) yield* write(file, chunk)
    return rotations
  })

export const make = (
  fs: FileSystem.FileSystem,
  path: Path.Path,
  settings: Settings
): Effect.Effect<Appender, PlatformError, Scope.Scope> =>
  Effect.gen(function* () {
    const directory = path.dirname(settings.path)
    yield* fs.makeDirectory(directory, { recursive: true })
    const target: Target = {
      fs,
      path,
      settings,
      directory,
      base: path.basename(settings.path),
      handle: yield* open(fs, settings.path),
      rotations: 0
    }
    // A close the file system never completes (a stuck mount) is left to finish in the background:
    // disconnected and interruptible, for a timeout in a finalizer would otherwise wait for it.
    yield* Effect.addFinalizer(() =>
      target.handle === undefined
        ? Effect.void
        : Effect.timeoutOption(
            Effect.interruptible(Effect.disconnect(Scope.close(target.handle.scope, Exit.void))),
            closeTimeout
          )
    )
    return { refresh: refresh(target), append: (lines) => append(target, lines) }
  })
