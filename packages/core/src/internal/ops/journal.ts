/**
 * The journal's format, as pure functions shared by the writer and the reader: one JSON line per
 * event, and the names of rotated files.
 */
import type { PlatformError } from "@effect/platform/Error"
import { Either, Schema } from "effect"
import { GuardEvent } from "../../Events.js"

/** One line: a version, when the event happened, the process and run that wrote it, and the event. */
export const Line = Schema.Struct({
  v: Schema.Literal(1),
  at: Schema.Number,
  pid: Schema.Number,
  runId: Schema.String,
  event: GuardEvent
})
export type Line = typeof Line.Type

const encodeLine = Schema.encodeEither(Line)
const decodeLine = Schema.decodeUnknownEither(Line)

/** The line's text, newline included; undefined for an event Schema cannot encode. */
export const encode = (line: Line): string | undefined =>
  Either.match(encodeLine(line), { onLeft: () => undefined, onRight: (json) => `${JSON.stringify(json)}\n` })

const parseJson = (text: string): Either.Either<unknown, undefined> => {
  try {
    return Either.right(JSON.parse(text))
  } catch {
    return Either.left(undefined)
  }
}

/**
 * A file's lines, and how many were skipped: `torn` ones are not JSON (cut short by a crash,
 * the last one still being written), `unknown` ones are JSON this version cannot read.
 */
export interface Parsed {
  readonly lines: ReadonlyArray<Line>
  readonly torn: number
  readonly unknown: number
}

export const parse = (text: string): Parsed => {
  const parts = text.split("\n")
  // Text after the last newline is a line not yet (or never) finished.
  let torn = parts.pop() === "" ? 0 : 1
  let unknown = 0
  const lines: Array<Line> = []
  for (const part of parts) {
    if (part.trim() === "") continue
    const json = parseJson(part)
    if (Either.isLeft(json)) torn++
    else
      Either.match(decodeLine(json.right), {
        onLeft: () => unknown++,
        onRight: (line) => lines.push(line)
      })
  }
  return { lines, torn, unknown }
}

/**
 * A rotated file is named after the journal, when it was rotated, by which process, and that
 * process's count of rotations: processes sharing a journal never pick the same name.
 */
export const rotatedName = (base: string, at: number, pid: number, seq: number): string => `${base}.${at}-${pid}-${seq}`

const stamp = /^\.(\d+)-(\d+)-(\d+)$/

/** The rotated files of the journal named `base` among `names`, oldest first. */
export const rotated = (base: string, names: ReadonlyArray<string>): ReadonlyArray<string> =>
  names
    .flatMap((name) => {
      const match = name.startsWith(base) ? stamp.exec(name.slice(base.length)) : null
      return match === null ? [] : [{ name, at: Number(match[1]), pid: Number(match[2]), seq: Number(match[3]) }]
    })
    .sort((a, b) => a.at - b.at || a.pid - b.pid || a.seq - b.seq)
    .map(({ name }) => name)

/** The oldest rotated files to delete so that `maxFiles` remain, the current one included. */
export const surplus = (rotatedOldestFirst: ReadonlyArray<string>, maxFiles: number): ReadonlyArray<string> =>
  rotatedOldestFirst.slice(0, Math.max(0, rotatedOldestFirst.length - (maxFiles - 1)))

/** A file or directory that is not there: a journal not written yet, or a file rotated away meanwhile. */
export const isNotFound = (error: PlatformError): boolean => error._tag === "SystemError" && error.reason === "NotFound"
