/**
 * What the Redis tests share: the server (or why there is none), and Redis guards on a prefix of
 * their own, so that every test — every property sample — is a fleet of its own.
 */
import { randomUUID } from "node:crypto"
import { afterAll, beforeAll, describe, it } from "@effect/vitest"
import type { BudgetOptions, CircuitBreakerOptions, ConcurrencyOptions } from "@fleetguard/core"
import { RedisGuards, type RedisGuardsOptions } from "@fleetguard/redis"
import { RedisServer } from "@fleetguard/testing"

export const defaults = {
  budget: { limitUsd: 100, perAgentLimitUsd: 100 } satisfies BudgetOptions,
  concurrency: { maxConcurrency: 5 } satisfies ConcurrencyOptions,
  breaker: { failureThreshold: 10, resetAfter: "30 seconds", halfOpenMaxCalls: 2 } satisfies CircuitBreakerOptions
}

export const freshPrefix = () => `fleetguard-test:${randomUUID()}`

/**
 * Declares a suite that needs Redis: with `redis-server` on PATH it gets a server for the file;
 * without, the suite is skipped and says so loudly, naming what is missing.
 */
export const withRedis = (name: string, suite: (server: () => RedisServer.RedisServer) => void) => {
  const { availability } = RedisServer
  if ("missing" in availability) {
    const why = `the Redis suite did NOT run: ${availability.missing}`
    console.warn(`\n${"!".repeat(100)}\n!! ${name}: ${why}\n${"!".repeat(100)}\n`)
    describe.skip(`${name} (SKIPPED: ${why})`, () => {
      it("needs redis-server", () => undefined)
    })
    return
  }
  describe(name, () => {
    let server: RedisServer.RedisServer | undefined
    beforeAll(async () => {
      server = await RedisServer.start()
    })
    afterAll(async () => {
      await server?.close()
    })
    suite(() => {
      if (server === undefined) throw new Error("the Redis server is not started")
      return server
    })
  })
}

/** Redis guards on a fleet of their own, the options not given being `defaults`. */
export const guards = (server: RedisServer.RedisServer, options: Partial<RedisGuardsOptions> = {}) =>
  RedisGuards.layer({ url: server.url, prefix: freshPrefix(), lease: "2 seconds", ...defaults, ...options })
