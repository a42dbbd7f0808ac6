// The TypeScript blocks of the README and the docs, read from the markdown: a test runs each one
// as written, in a process of its own, so the code in the docs is the code that is tested.

import { execFile } from "node:child_process"
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { fences } from "../../scripts/verify-install/markdown.js"

export const root = fileURLToPath(new URL("../../", import.meta.url))

/** Where the blocks are written to be run: test/.examples/ (git-ignored; outside tsconfig's globs, which skip dot-folders). */
export const generated = fileURLToPath(new URL("../.examples/", import.meta.url))

/** The text of `doc` (a path from the repository's root). */
export const read = (doc: string): string => readFileSync(`${root}${doc}`, "utf8")

/** Every ```ts block of `doc`, in order. */
export const blocks = (doc: string): ReadonlyArray<string> => fences(read(doc), "ts")

/**
 * Writes block `index` of `doc` to a file of its own, in `dir` (an absolute path ending in "/"): a block
 * imports what `dir` resolves. Answers its path.
 */
export const write = (doc: string, index: number, dir: string = generated): string => {
  const code = blocks(doc)[index]
  if (code === undefined) throw new Error(`${doc} has no TypeScript block #${index + 1}`)
  mkdirSync(dir, { recursive: true })
  const file = `${dir}${doc.replace(/[/.]/g, "-")}-${index + 1}.ts`
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
