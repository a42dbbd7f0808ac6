/** Runs the repository's bins in child processes, as a user would, with FLEETGUARD_* variables from `env` only. */
import { type ChildProcess, spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { Effect } from "effect"

const environment = (env: Readonly<Record<string, string>>) => ({
  ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("FLEETGUARD_"))),
  ...env
})

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
      return { child, stdout: Effect.sync(() => stdout), exited }
    }),
    ({ child }) => Effect.sync(() => child.kill())
  )
