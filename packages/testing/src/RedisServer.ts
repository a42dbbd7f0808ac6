/**
 * RedisServer: a real `redis-server` (the one on PATH) for tests and examples of guards on Redis,
 * started on a free loopback port with a data directory of its own (an append-only file, synced
 * every second as production Redis usually is, and written out on a clean stop: a restart keeps
 * the fleet's state as a Redis with persistence would), stopped — and restartable — by its user.
 * It can also fail as a production Redis does: killed outright, or frozen (it keeps accepting
 * connections and answers nothing). Every wait here is bounded.
 *
 * @module
 * @since 0.1.0
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { createConnection, createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, type Scope } from "effect"

/**
 * Where `redis-server` is, or why a suite that needs it cannot run.
 *
 * @since 0.1.0
 * @category utils
 */
export const availability: { readonly path: string } | { readonly missing: string } = (():
  | { readonly path: string }
  | { readonly missing: string } => {
  try {
    return { path: execFileSync("sh", ["-c", "command -v redis-server"], { encoding: "utf8" }).trim() }
  } catch {
    return {
      missing: "redis-server is not on PATH (install it: apt-get install redis-server; .ci/run does)"
    }
  }
})()

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })

const answersPing = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = createConnection({ port, host: "127.0.0.1" })
    socket.setTimeout(200)
    socket.once("connect", () => socket.write("PING\r\n"))
    socket.once("data", (data) => {
      socket.destroy()
      // A server that requires a password answers NOAUTH: it is up.
      const reply = data.toString()
      resolve(reply.startsWith("+PONG") || reply.startsWith("-NOAUTH"))
    })
    socket.once("error", () => resolve(false))
    socket.once("timeout", () => {
      socket.destroy()
      resolve(false)
    })
  })

/**
 * A running `redis-server`: its URL and port, and the means to stop, restart, kill, freeze and
 * remove it.
 *
 * @since 0.1.0
 * @category models
 */
export interface RedisServer {
  /** `redis://127.0.0.1:<port>`, without credentials (add the password given to `start`, if any). */
  readonly url: string
  readonly port: number
  /** Stops it (SIGTERM: it writes what it has, as a clean shutdown does); a frozen server is thawed first. */
  readonly stop: () => Promise<void>
  /** Starts it again on the same port and data. */
  readonly start: () => Promise<void>
  /** Kills it (SIGKILL): gone at once, connections dropped, nothing written out. */
  readonly kill: () => Promise<void>
  /**
   * Freezes it (SIGSTOP): the kernel still accepts connections and takes what is sent, and
   * nothing is answered — a server that hangs rather than one that is down.
   */
  readonly freeze: () => void
  /** Lets a frozen server run again (SIGCONT). */
  readonly thaw: () => void
  /** Stops it for good and removes its data. */
  readonly close: () => Promise<void>
}

/**
 * How to start it.
 *
 * @since 0.1.0
 * @category models
 */
export interface StartOptions {
  /** Clients must authenticate with this password (`requirepass`). */
  readonly password?: string | undefined
}

const startWithinMillis = 10_000
const exitWithinMillis = 5_000

/** Whether `child` exits within `millis`. */
const exits = (child: ChildProcess, millis: number) =>
  new Promise<boolean>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(true)
    const onExit = () => {
      clearTimeout(timer)
      resolve(true)
    }
    const timer = setTimeout(() => {
      child.off("exit", onExit)
      resolve(false)
    }, millis)
    child.once("exit", onExit)
  })

/** Sends `signal` and waits for the exit, at most `exitWithinMillis`; a server that outlives a SIGTERM is killed. */
const end = async (child: ChildProcess, signal: "SIGTERM" | "SIGKILL") => {
  child.kill(signal)
  if (await exits(child, exitWithinMillis)) return
  if (signal === "SIGTERM") return end(child, "SIGKILL")
  throw new Error(`redis-server (pid ${child.pid}) did not exit after SIGKILL`)
}

/**
 * Starts the `redis-server` on PATH; rejects when there is none (see `availability`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const start = async (options: StartOptions = {}): Promise<RedisServer> => {
  if ("missing" in availability) throw new Error(availability.missing)
  const { path } = availability
  const dir = mkdtempSync(join(tmpdir(), "fleetguard-redis-"))
  const port = await freePort()
  // The password goes in through stdin ("-"), not the command line, where `ps` would show it.
  const config = options.password === undefined ? "" : `requirepass "${options.password.replace(/["\\]/g, "\\$&")}"\n`
  let child: ChildProcess | undefined
  const start = async () => {
    const args = ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "yes"]
    const started = spawn(path, ["-", ...args, "--appendfsync", "everysec", "--loglevel", "warning"], {
      stdio: ["pipe", "ignore", "ignore"]
    })
    started.stdin?.end(config)
    child = started
    const deadline = Date.now() + startWithinMillis
    while (Date.now() < deadline && started.exitCode === null) {
      if (await answersPing(port)) return
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
    started.kill("SIGKILL")
    throw new Error(`redis-server did not start on port ${port} (exit code ${started.exitCode})`)
  }
  const running = () => {
    const current = child
    return current !== undefined && current.exitCode === null && current.signalCode === null ? current : undefined
  }
  const stopWith = async (signal: "SIGTERM" | "SIGKILL") => {
    const current = running()
    child = undefined
    if (current === undefined) return
    // A stopped process keeps a SIGTERM pending until it runs again.
    current.kill("SIGCONT")
    await end(current, signal)
  }
  const stop = () => stopWith("SIGTERM")
  await start()
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop,
    start,
    kill: () => stopWith("SIGKILL"),
    freeze: () => {
      running()?.kill("SIGSTOP")
    },
    thaw: () => {
      running()?.kill("SIGCONT")
    },
    close: async () => {
      await stop()
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

/**
 * A server for the scope; stopped, and its data removed, when the scope closes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<RedisServer, never, Scope.Scope> = Effect.acquireRelease(
  Effect.promise(() => start()),
  (server) => Effect.promise(server.close)
)
