/**
 * `fleetguard status`'s journal, as read from disk: once, or again as lines arrive (`--watch`).
 */
import { SystemError } from "@effect/platform/Error"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import { Journal, type JournalContents } from "@fleetguard/core"
import { Console, Effect, Schedule, Stream } from "effect"
import { Output } from "../../Output.js"

const kinds: Readonly<Record<FileSystem.File.Type, string>> = {
  File: "a file",
  Directory: "a directory",
  SymbolicLink: "a symbolic link",
  BlockDevice: "a block device",
  CharacterDevice: "a character device",
  FIFO: "a FIFO (named pipe)",
  Socket: "a socket",
  Unknown: "not a regular file"
}

/**
 * The file system, reading regular files only: reading a FIFO named like the journal (or one of
 * its rotated files) would wait for a writer for ever, and a device would never end.
 */
const regularFilesOnly = (fs: FileSystem.FileSystem): FileSystem.FileSystem => ({
  ...fs,
  readFileString: (path, encoding) =>
    Effect.flatMap(fs.stat(path), (info) =>
      info.type === "File"
        ? fs.readFileString(path, encoding)
        : Effect.fail(
            new SystemError({
              reason: "InvalidData",
              module: "FileSystem",
              method: "readFileString",
              pathOrDescriptor: path,
              description: `${kinds[info.type]}, not a regular file: a journal is a file its fleet appends to`
            })
          )
    )
})

/** The journal and its rotated files, as they are now. */
export const read = (path: string) =>
  Effect.flatMap(FileSystem.FileSystem, (fs) =>
    Effect.provideService(Journal.read(path), FileSystem.FileSystem, regularFilesOnly(fs))
  )

// A burst of appends is one redraw.
const settle = "200 millis"
// How often a terminal's table is redrawn as its times age ("last event 5 s ago").
const tick = "1 second"

/**
 * Prints `render`'s text, then again whenever the journal changes — and, on a terminal or with
 * --json, every second from the lines last read: ages move, and lines leave a --since window. Only
 * a text that differs from the last one is printed; a pipe gets no ticking table.
 */
export const watch = <E, R>(
  path: string,
  render: (contents: JournalContents) => Effect.Effect<string, E, R>,
  json: boolean
) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const paths = yield* Path.Path
    const { terminal } = yield* Output
    const clear = terminal && !json
    let latest = yield* read(path)
    let shown = ""
    /** Draws the journal as read now (`contents`), or as last read. */
    const draw = (contents?: JournalContents) => {
      if (contents !== undefined) latest = contents
      return Effect.flatMap(render(latest), (text) => {
        if (text === shown) return Effect.void
        shown = text
        return Console.log(clear ? `\x1b[2J\x1b[H${text}` : text)
      })
    }
    const changes = fs.watch(paths.dirname(path)).pipe(
      Stream.debounce(settle),
      Stream.mapEffect(() => read(path))
    )
    const ticks = terminal || json ? Stream.fromSchedule(Schedule.spaced(tick)) : Stream.empty
    yield* draw()
    yield* Stream.merge(changes, Stream.as(ticks, undefined)).pipe(Stream.runForEach(draw))
  })
