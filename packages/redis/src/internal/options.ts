/**
 * `RedisGuards.layer`'s options decoded: the connection, the lease and the timeouts here, each
 * guard's own by core's decoding (`Backend`), refusals named by their place (`budget.limitUsd`).
 * No refusal shows a credential.
 */
import { Backend, InvalidOption, Options } from "@fleetguard/core"
import { Effect, Schema } from "effect"
import type { Redis } from "ioredis"
import * as Store from "./store.js"

/** The options as given (a `RedisGuardsOptions`), typed loosely: the decoder checks every value. */
interface Given {
  readonly url?: unknown
  readonly client?: unknown
  readonly budget?: unknown
  readonly concurrency?: unknown
  readonly breaker?: unknown
}

const isRedisUrl = (u: unknown): u is string => {
  if (typeof u !== "string") return false
  try {
    const protocol = new URL(u).protocol
    return protocol === "redis:" || protocol === "rediss:"
  } catch {
    return false
  }
}

const OptionsSchema = Options.Options({
  url: Schema.optional(Options.option(isRedisUrl, "must be a redis:// or rediss:// URL")),
  client: Schema.optional(
    Options.option(
      (u): u is Redis => typeof u === "object" && u !== null && typeof Reflect.get(u, "duplicate") === "function",
      "must be an ioredis client"
    )
  ),
  prefix: Options.option((u): u is string => typeof u === "string" && u.length > 0, "must be a non-empty string"),
  budget: Options.Group,
  concurrency: Options.Group,
  breaker: Options.Group,
  failOpen: Schema.optional(Options.option((u): u is boolean => typeof u === "boolean", "must be true or false")),
  lease: Schema.optional(Options.DurationMillis()),
  idleExpiry: Schema.optional(Options.DurationMillis()),
  timeout: Schema.optional(Options.DurationMillis())
})

/** A guard's own options decoded by core, refusals named by their place here (`budget.limitUsd`). */
const under = <A>(group: string, decoded: Effect.Effect<A, InvalidOption>) =>
  Effect.mapError(decoded, Options.within(group))

/** A URL as errors may show it: its credentials replaced (in the query too); one that cannot be read, not shown at all. */
const withoutPassword = (u: unknown): string => {
  try {
    const url = new URL(String(u))
    if (url.password !== "") url.password = "***"
    for (const key of [...url.searchParams.keys()])
      if (/^(password|pass|username|user)$/i.test(key)) url.searchParams.set(key, "***")
    return url.href
  } catch {
    return "***"
  }
}

/** No refusal carries a credential: the URL without its password, a client not at all (its options hold one). */
const secretFree = (error: InvalidOption): InvalidOption =>
  error.option === "url" || error.option === "client"
    ? new InvalidOption({
        option: error.option,
        value: error.option === "url" ? withoutPassword(error.value) : "an ioredis client (not shown)",
        reason: error.reason
      })
    : error

/** The options decoded: the store's, the lease, failing open or closed, and each guard's. */
export interface Decoded {
  readonly store: Store.StoreOptions
  readonly leaseMillis: number
  readonly failOpen: boolean
  readonly budget: Backend.BudgetLimits
  readonly concurrency: Backend.ConcurrencyLimits
  readonly breaker: Backend.BreakerDecoded
}

export const decodeOptions = (options: Given): Effect.Effect<Decoded, InvalidOption> =>
  Effect.gen(function* () {
    const decoded = yield* Options.decode(OptionsSchema, options)
    if (decoded.url !== undefined && decoded.client !== undefined) {
      return yield* new InvalidOption({
        option: "client",
        value: decoded.client,
        reason: "give url or client, not both"
      })
    }
    const leaseMillis = yield* Options.check(
      "lease",
      decoded.lease ?? 10_000,
      (ms) => ms >= 100,
      "must be at least 100 millis"
    )
    const timeoutMillis = yield* Options.check(
      "timeout",
      decoded.timeout ?? Math.min(2_000, leaseMillis / 4),
      (ms) => ms < leaseMillis,
      `must be shorter than the lease (${leaseMillis} millis)`
    )
    const idleMillis = yield* Options.check(
      "idleExpiry",
      decoded.idleExpiry ?? 86_400_000,
      (ms) => ms > 2 * leaseMillis,
      `must be longer than twice the lease (${leaseMillis} millis)`
    )
    return {
      store: { url: decoded.url, client: decoded.client, prefix: decoded.prefix, timeoutMillis, idleMillis },
      leaseMillis,
      failOpen: decoded.failOpen ?? false,
      budget: yield* under("budget", Backend.decodeBudgetOptions(options.budget)),
      concurrency: yield* under("concurrency", Backend.decodeConcurrencyOptions(options.concurrency)),
      breaker: yield* under("breaker", Backend.decodeBreakerOptions(options.breaker))
    }
  }).pipe(Effect.mapError(secretFree))

/** Redis refused the connection: the option that holds the credentials, named, without them. */
export const refusedBy = (options: Given, refused: Store.Refused) =>
  secretFree(
    new InvalidOption({
      option: options.client === undefined ? "url" : "client",
      value: options.client ?? options.url ?? Store.defaultUrl,
      reason: refused.reason
    })
  )
