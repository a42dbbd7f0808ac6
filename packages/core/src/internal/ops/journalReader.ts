/**
 * Reading a journal back (what `fleetguard status` shows): the journal and its rotated files,
 * oldest first, each line decoded; a line that cannot be read is skipped and counted.
 */
import type { PlatformError } from "@effect/platform/Error"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import { Effect } from "effect"
import * as Format from "./journal.js"

/** What was read (the public `JournalContents`). */
export interface Contents {
  readonly files: ReadonlyArray<string>
  readonly lines: ReadonlyArray<Format.Line>
  readonly torn: number
  readonly unknown: number
}

/** The journal at `path` and its rotated files; undefined when none of them exists. */
export const read = (
  path: string
): Effect.Effect<Contents | undefined, PlatformError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const paths = yield* Path.Path
    const directory = paths.dirname(path)
    const base = paths.basename(path)
    const names = yield* Effect.catchIf(fs.readDirectory(directory), Format.isNotFound, () =>
      Effect.succeed<Array<string>>([])
    )
    const files = [...Format.rotated(base, names), ...(names.includes(base) ? [base] : [])]
    if (files.length === 0) return undefined
    const texts = yield* Effect.forEach(files, (name) =>
      // Rotated away between the listing and the read: its lines are in a file this read missed.
      Effect.catchIf(fs.readFileString(paths.join(directory, name)), Format.isNotFound, () => Effect.succeed(""))
    )
    const parsed = texts.map(Format.parse)
    return {
      files: files.map((name) => paths.join(directory, name)),
      lines: parsed.flatMap((p) => p.lines),
      torn: parsed.reduce((n, p) => n + p.torn, 0),
      unknown: parsed.reduce((n, p) => n + p.unknown, 0)
    }
  })
