import { FileSystem } from "@effect/platform"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { describe, expect, it } from "@effect/vitest"
import { Journal, type JournalContents } from "@fleetguard/core"
import { Effect } from "effect"
import { spawnBin } from "../support/cli.js"
import { eventually } from "../support/receiver.js"

const count = 2_000

/** Two processes append `count` events each to one journal at once; what the reader gets back. */
const appendTogether = (maxBytes: number) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = `${yield* fs.makeTempDirectoryScoped()}/shared.jsonl`
    const args = [path, String(count), String(maxBytes)]
    const writers = [
      yield* spawnBin("test/e2e/fixtures/appendJournal.ts", args),
      yield* spawnBin("test/e2e/fixtures/appendJournal.ts", args)
    ]
    for (const writer of writers) yield* eventually(writer.stdout, (out) => out.includes("ready"), "a writer ready")
    yield* fs.writeFileString(`${path}.go`, "")
    for (const writer of writers) {
      expect(yield* writer.exited).toBe(0)
      const stats = JSON.parse((yield* writer.stdout).split("\n").at(-2) ?? "")
      expect(stats).toEqual({ written: count + 2, dropped: 0, failed: 0 })
    }
    return yield* Journal.read(path)
  }).pipe(Effect.scoped, Effect.provide(NodeContext.layer))

/** Each run's events in file order, and how often consecutive lines switch from one run to the other. */
const byRun = (contents: JournalContents) => {
  const runs = new Map<string, Array<number>>()
  let switches = 0
  contents.lines.forEach((line, i) => {
    if (i > 0 && contents.lines[i - 1]?.runId !== line.runId) switches++
    if (line.event._tag === "CallSettled")
      runs.set(line.runId, [...(runs.get(line.runId) ?? []), line.event.inputTokens])
  })
  return { runs: [...runs.values()], switches }
}

const inOrder = Array.from({ length: count }, (_, i) => i)

describe("Journal: two processes appending to one file", () => {
  it.live(
    "every line whole and readable, each process's lines in order",
    () =>
      Effect.gen(function* () {
        const contents = yield* appendTogether(100 * 1024 * 1024)
        expect(contents).toMatchObject({ torn: 0, unknown: 0 })
        expect(contents.files).toHaveLength(1)
        const { runs, switches } = byRun(contents)
        expect(runs).toEqual([inOrder, inOrder])
        // The writes did interleave: this tested appends racing, not one process after the other.
        expect(switches).toBeGreaterThan(2)
        expect(contents.lines.filter((l) => l.event._tag === "RunStarted")).toHaveLength(2)
        expect(contents.lines.filter((l) => l.event._tag === "RunEnded")).toHaveLength(2)
      }),
    180_000
  )

  it.live(
    "while both rotate it, no line is lost or torn",
    () =>
      Effect.gen(function* () {
        const contents = yield* appendTogether(32 * 1024)
        expect(contents).toMatchObject({ torn: 0, unknown: 0 })
        expect(contents.files.length).toBeGreaterThan(4)
        const { runs } = byRun(contents)
        // Rotation can put a process's later lines in an earlier-named file: every line is there once.
        expect(runs.map((run) => [...run].sort((a, b) => a - b))).toEqual([inOrder, inOrder])
      }),
    180_000
  )
})
