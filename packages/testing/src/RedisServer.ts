/**
 * RedisServer: a real `redis-server` (the one on PATH) for tests and examples of guards on Redis,
 * started on a free loopback port with a data directory of its own (an append-only file, synced
 * every second as production Redis usually is, and written out on a clean stop: a restart keeps
 * the fleet's state as a Redis with persistence would), stopped — and restartable — by its user.
 *
 * @module
 * @since 0.1.0
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { once } from "node:events"
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
      resolve(data.toString().startsWith("+PONG"))
    })
    socket.once("error", () => resolve(false))
    socket.once("timeout", () => {
      socket.destroy()
      resolve(false)
    })
  })

/**
 * A running `redis-server`: its URL and port, and the means to stop, restart and remove it.
 *
 * @since 0.1.0
 * @category models
 */
export interface RedisServer {
  readonly url: string
  readonly port: number
  /** Stops it (SIGTERM: it writes what it has, as a clean shutdown does). */
  readonly stop: () => Promise<void>
  /** Starts it again on the same port and data. */
  readonly start: () => Promise<void>
  /** Stops it for good and removes its data. */
  readonly close: () => Promise<void>
}

/**
 * Starts the `redis-server` on PATH; rejects when there is none (see `availability`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const start = async (): Promise<RedisServer> => {
  if ("missing" in availability) throw new Error(availability.missing)
  const { path } = availability
  const dir = mkdtempSync(join(tmpdir(), "fleetguard-redis-"))
  const port = await freePort()
  let child: ChildProcess | undefined
  const start = async () => {
    const args = ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "yes"]
    child = spawn(path, [...args, "--appendfsync", "everysec", "--loglevel", "warning"], { stdio: "ignore" })
    for (let tries = 0; tries < 200; tries++) {
      if (await answersPing(port)) return
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
    throw new Error(`redis-server did not start on port ${port}`)
  }
  const stop = async () => {
    const running = child
    child = undefined
    if (running === undefined || running.exitCode !== null) return
    running.kill("SIGTERM")
    await once(running, "exit")
  }
  await start()
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop,
    start,
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
  Effect.promise(start),
  (server) => Effect.promise(server.close)
)
