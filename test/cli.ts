/**
 * Runs the real bins in child processes, as a user would, with FLEETGUARD_* variables from `env`
 * only; or `fleetguard`'s own code in this process, which is much faster to start.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { stripVTControlCharacters } from "node:util"
import { Cli } from "@fleetguard/cli"
import { type Console, Effect } from "effect"

const bin = "packages/cli/src/bin.ts"

const environment = (env: Readonly<Record<string, string>>) => ({
  ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("FLEETGUARD_"))),
  ...env
})

export interface Ran {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

// @effect/cli colours its help even when it is not printed to a terminal.
export const plain = (text: string) => stripVTControlCharacters(text)

/** Runs a TypeScript bin of the repository (a path from the root) in a child process. */
export const runBin = (path: string, args: ReadonlyArray<string>, env: Readonly<Record<string, string>> = {}) =>
  Effect.async<Ran>((resume) => {
    const child = execFile(
      process.execPath,
      ["--import", "tsx", fileURLToPath(new URL(`../${path}`, import.meta.url)), ...args],
      { env: environment(env), timeout: 60_000 },
      (error, stdout, stderr) =>
        resume(
          Effect.succeed({
            code: error === null ? 0 : typeof error.code === "number" ? error.code : 1,
            stdout: plain(stdout),
            stderr: plain(stderr)
          })
        )
    )
    return Effect.sync(() => child.kill())
  })

export const fleetguard = (args: ReadonlyArray<string>, env: Readonly<Record<string, string>> = {}) =>
  runBin(bin, args, env)

/** A bin running in a child process, killed when the scope closes: its output so far, and its exit. */
export const spawnBin = (path: string, args: ReadonlyArray<string>, env: Readonly<Record<string, string>> = {}) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const child: ChildProcess = spawn(
        process.execPath,
        ["--import", "tsx", fileURLToPath(new URL(`../${path}`, import.meta.url)), ...args],
        { env: environment(env) }
      )
      let stdout = ""
      child.stdout?.on("data", (chunk) => {
        stdout += String(chunk)
      })
      const exited = Effect.async<number>((resume) => {
        if (child.exitCode !== null) return resume(Effect.succeed(child.exitCode))
        child.once("exit", (code) => resume(Effect.succeed(code ?? 1)))
      })
      return { child, stdout: Effect.sync(() => plain(stdout)), exited }
    }),
    ({ child }) => Effect.sync(() => child.kill())
  )

/** A long-running `fleetguard` (`status --watch`). */
export const spawned = (args: ReadonlyArray<string>, env: Readonly<Record<string, string>> = {}) =>
  spawnBin(bin, args, env)

/** Runs `fleetguard args` in this process — the bin's own code — with what it prints captured. */
export const inProcess = (args: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const out: Array<string> = []
    const err: Array<string> = []
    const console = yield* Effect.console
    const capture: Console.Console = {
      ...console,
      log: (...parts) => Effect.sync(() => void out.push(`${parts.join(" ")}\n`)),
      error: (...parts) => Effect.sync(() => void err.push(`${parts.join(" ")}\n`))
    }
    const code = yield* Effect.withConsole(Cli.main(["node", "fleetguard", ...args]), capture)
    return { code, stdout: plain(out.join("")), stderr: plain(err.join("")) } satisfies Ran
  })
