/**
 * Runs the real bins in child processes, as a user would, with FLEETGUARD_* variables from `env`
 * only; or `fleetguard`'s own code in this process, which is much faster to start.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { stripVTControlCharacters } from "node:util"
import { Cli, Output } from "@fleetguard/cli"
import { ConfigProvider, type Console, Effect, Fiber, type Scope } from "effect"

const bin = "packages/cli/src/bin.ts"

const environment = (env: Readonly<Record<string, string>>) => ({
  ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("FLEETGUARD_"))),
  ...env
})

export interface Ran {
  readonly code: number
  /** Without escape codes, as a reader sees it. */
  readonly stdout: string
  readonly stderr: string
  /** Exactly as written, escape codes included. */
  readonly raw?: { readonly stdout: string; readonly stderr: string }
}

// What a reader sees, whatever codes a bin writes.
export const plain = (text: string) => stripVTControlCharacters(text)

/** Runs a TypeScript bin of the repository (a path from the root) in a child process. */
export const runBin = (path: string, args: ReadonlyArray<string>, env: Readonly<Record<string, string>> = {}) =>
  Effect.async<Ran>((resume) => {
    const child = execFile(
      process.execPath,
      ["--import", "tsx", fileURLToPath(new URL(`../../${path}`, import.meta.url)), ...args],
      { env: environment(env), timeout: 60_000 },
      (error, stdout, stderr) =>
        resume(
          Effect.succeed({
            code: error === null ? 0 : typeof error.code === "number" ? error.code : 1,
            stdout: plain(stdout),
            stderr: plain(stderr),
            raw: { stdout, stderr }
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
        ["--import", "tsx", fileURLToPath(new URL(`../../${path}`, import.meta.url)), ...args],
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

/** How `inProcess` runs `fleetguard`: the output it prints to, and the environment it reads (its only variables). */
export interface InProcessOptions {
  readonly output?: Output.OutputService
  readonly env?: Readonly<Record<string, string>>
}

/** `fleetguard args` started in this process, what it prints captured as it prints it. */
const started = (args: ReadonlyArray<string>, options: InProcessOptions) =>
  Effect.gen(function* () {
    const out: Array<string> = []
    const err: Array<string> = []
    const console = yield* Effect.console
    const capture: Console.Console = {
      ...console,
      log: (...parts) => Effect.sync(() => void out.push(`${parts.join(" ")}\n`)),
      error: (...parts) => Effect.sync(() => void err.push(`${parts.join(" ")}\n`))
    }
    const main = Cli.main(["node", "fleetguard", ...args]).pipe(
      Effect.withConsole(capture),
      options.output === undefined ? (self) => self : Effect.provideService(Output.Output, options.output),
      options.env === undefined
        ? (self) => self
        : Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(options.env))))
    )
    return { main, stdout: () => out.join(""), stderr: () => err.join("") }
  })

/** Runs `fleetguard args` in this process — the bin's own code — with what it prints captured. */
export const inProcess = (args: ReadonlyArray<string>, options: InProcessOptions = {}) =>
  Effect.gen(function* () {
    const run = yield* started(args, options)
    const code = yield* run.main
    const raw = { stdout: run.stdout(), stderr: run.stderr() }
    return { code, stdout: plain(raw.stdout), stderr: plain(raw.stderr), raw } satisfies Ran
  })

/** A long-running `fleetguard args` in this process (`status --watch`), interrupted when the scope closes. */
export const inProcessForked = (
  args: ReadonlyArray<string>,
  options: InProcessOptions = {}
): Effect.Effect<
  { readonly stdout: Effect.Effect<string> },
  never,
  Scope.Scope | Effect.Effect.Context<ReturnType<typeof Cli.main>>
> =>
  Effect.gen(function* () {
    const run = yield* started(args, options)
    const fiber = yield* Effect.fork(run.main)
    yield* Effect.addFinalizer(() => Fiber.interrupt(fiber))
    return { stdout: Effect.sync(run.stdout) }
  })
