// The TypeScript blocks of the README and the docs, read from the markdown: a test runs each one
// as written, in a process of its own, so the code in the docs is the code that is tested.

import { execFile } from "node:child_process"
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs"
import { fileURLToPath } from "node:url"

export const root = fileURLToPath(new URL("../", import.meta.url))

/** Where the blocks are written to be run (git-ignored; outside tsconfig's globs, which skip dot-folders). */
export const generated = fileURLToPath(new URL("./.examples/", import.meta.url))

/** Every ```ts block of `doc` (a path from the repository's root), in order. */
export const blocks = (doc: string): ReadonlyArray<string> =>
  Array.from(readFileSync(`${root}${doc}`, "utf8").matchAll(/^```ts\n([\s\S]*?)^```$/gm), (m) => m[1] ?? "")

/** Writes block `index` of `doc` to a file of its own; answers its path. */
export const write = (doc: string, index: number): string => {
  const code = blocks(doc)[index]
  if (code === undefined) throw new Error(`${doc} has no TypeScript block #${index + 1}`)
  mkdirSync(generated, { recursive: true })
  const file = `${generated}${doc.replace(/[/.]/g, "-")}-${index + 1}.ts`
  // Written aside, then renamed into place: a test running the file meanwhile never reads it half written.
  const aside = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}`
  writeFileSync(aside, code)
  renameSync(aside, file)
  return file
}

export interface Ran {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Runs a TypeScript file with tsx, with only PATH and `env` in its environment. */
export const run = (file: string, env: Readonly<Record<string, string>> = {}): Promise<Ran> =>
  new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", file],
      { cwd: root, env: { PATH: process.env.PATH ?? "", ...env }, timeout: 50_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1
        resolve({ code, stdout, stderr })
      }
    )
  })
