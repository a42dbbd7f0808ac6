/** What every benchmark shares: forced collections, the header, tables and the timed loop. */

import { availableParallelism, cpus } from "node:os"
import { performance } from "node:perf_hooks"
import { setFlagsFromString } from "node:v8"
import { runInNewContext } from "node:vm"
import { Effect } from "effect"

// `tsx` runs without --expose-gc; turning the flag on at runtime still gives us a handle, so that
// one run's garbage is collected before the next is timed (or a memory baseline is taken).
export const collectGarbage = ((): { readonly run: () => void; readonly source: string } => {
  const exposed = globalThis.gc
  if (exposed !== undefined) return { run: () => void exposed(), source: "--expose-gc" }
  try {
    setFlagsFromString("--expose-gc")
    const gc: unknown = runInNewContext("gc")
    if (typeof gc === "function") return { run: () => void gc(), source: "v8.setFlagsFromString" }
  } catch {
    // Fall through: measure without forced collections.
  }
  return { run: () => undefined, source: "unavailable" }
})()

/** `--full`: the long runs. Without it each benchmark takes about a minute. */
export const FULL = process.argv.includes("--full")

/** A line on stderr as the run goes, so that a long run shows where it is (and stdout keeps only figures). */
export const progress = (line: string): void => void process.stderr.write(`… ${line}\n`)

export const median = (xs: ReadonlyArray<number>): number => {
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? (sorted[mid] ?? Number.NaN) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2
}

/** The title and the machine, so that figures are never read without their context. */
export const printHeader = (title: string): void => {
  console.log(title)
  console.log(`date:  ${new Date().toISOString()}`)
  console.log(`node:  ${process.version} (${process.platform}/${process.arch})`)
  console.log(`cpu:   ${cpus()[0]?.model ?? "unknown"} × ${availableParallelism()}`)
  console.log(`gc:    ${collectGarbage.source}`)
}

export const printTable = (headers: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): void => {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)))
  // First column is a label (left-aligned); the rest are figures (right-aligned).
  const line = (cells: ReadonlyArray<string>) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join("  ")
  console.log(line(headers))
  console.log(widths.map((w) => "-".repeat(w)).join("  "))
  for (const row of rows) console.log(line(row))
}

export const fixed = (n: number, digits: number) => n.toFixed(digits)
export const count = (n: number) => n.toLocaleString("en-US")

/** Milliseconds for `n` calls of `call`, `concurrency` at a time. */
export const timeLoop = <E, R>(
  n: number,
  concurrency: number,
  call: () => Effect.Effect<unknown, E, R>
): Effect.Effect<number, E, R> =>
  Effect.suspend(() => {
    const items = Array.from({ length: n }, (_, i) => i)
    const start = performance.now()
    return Effect.map(Effect.forEach(items, call, { concurrency, discard: true }), () => performance.now() - start)
  })

/** Polls until `done` holds: first by yielding (cheap), then with short real sleeps; fails with `what` after a minute. */
export const waitUntil = <S, R>(snapshot: Effect.Effect<S, never, R>, done: (s: S) => boolean, what: string) =>
  Effect.gen(function* () {
    for (let attempt = 0; ; attempt++) {
      const s = yield* snapshot
      if (done(s)) return s
      yield* attempt < 1_000 ? Effect.yieldNow() : Effect.sleep("1 millis")
    }
  }).pipe(Effect.timeoutFail({ duration: "60 seconds", onTimeout: () => new Error(what) }))
