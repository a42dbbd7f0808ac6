/**
 * The Lua scripts: every change to the shared state is one script, so it is atomic across
 * processes and costs one round trip. One module per guard (budget, concurrency, breaker, and the
 * leases they share); here what they all start with. Conventions:
 *
 * - Time is Redis's (`TIME`), never a process's clock: leases, pauses and reopen times mean the same
 *   to every process whatever their clocks say. Replies give waits relative to it.
 * - Amounts are whole nanodollars, as in the in-memory ledger. Lua numbers are doubles (exact below
 *   2^53, which every amount the ledger accepts is); a number written back to Redis goes through
 *   `int`, since Lua's own conversion may use an exponent that HINCRBY refuses.
 * - ARGV[1] is the idle expiry (ms) and every key a script writes is given it again (`touch`), so a
 *   fleet's keys outlive its last activity by that much and no longer.
 * - States kept in Redis and the kinds of reply are words, the names core's policies give the same
 *   things (the breaker's `Closed`/`Open`/`HalfOpen`/`Isolated`, a reservation `Reserved`/`Refused`,
 *   the budget's exhaustion `short`/`spent`…), so that neither side translates them. A yes/no in a
 *   reply is 1/0.
 */
import { createHash } from "node:crypto"

export interface Script {
  readonly name: string
  readonly source: string
  readonly sha: string
}

const prelude = `
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local idle = tonumber(ARGV[1])
local function int(x) return string.format('%d', x) end
local function touch(...)
  for _, key in ipairs({...}) do redis.call('PEXPIRE', key, idle) end
end
`

export const script = (name: string, body: string): Script => {
  const source = `${prelude}${body}`
  return { name, source, sha: createHash("sha1").update(source).digest("hex") }
}
