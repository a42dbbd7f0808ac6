/**
 * The Lua scripts: every change to the shared state is one script, so it is atomic across
 * processes and costs one round trip. Conventions:
 *
 * - Time is Redis's (`TIME`), never a process's clock: leases, pauses and reopen times mean the same
 *   to every process whatever their clocks say. Replies give waits relative to it.
 * - Amounts are whole nanodollars, as in the in-memory ledger. Lua numbers are doubles (exact below
 *   2^53, which every amount the ledger accepts is); a number written back to Redis goes through
 *   `int`, since Lua's own conversion may use an exponent that HINCRBY refuses.
 * - ARGV[1] is the idle expiry (ms) and every key a script writes is given it again (`touch`), so a
 *   fleet's keys outlive its last activity by that much and no longer.
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

const script = (name: string, body: string): Script => {
  const source = `${prelude}${body}`
  return { name, source, sha: createHash("sha1").update(source).digest("hex") }
}

// ---------------------------------------------------------------------------------------------
// Budget. KEYS: 1 ledger (hash: spent, reserved, alerted, exhausted), 2 agent-spent (hash),
// 3 agent-reserved (hash), 4 holds (hash token → "amount|agent"), 5 hold-leases (zset token →
// deadline), 6 expired (hash token → "amount|agent": holds charged in full when their lease ran
// out, so that a late commit above the reservation still adds what is missing), 7 expired-at (zset).
// ---------------------------------------------------------------------------------------------

const ledger = `
local function split(hold)
  local sep = string.find(hold, '|', 1, true)
  return string.sub(hold, 1, sep - 1), string.sub(hold, sep + 1)
end
local function add(key, field, amount, sign)
  if amount ~= '0' then redis.call('HINCRBY', key, field, sign .. amount) end
end
local function total(field) return tonumber(redis.call('HGET', KEYS[1], field) or '0') end
-- A lease that ran out belongs to a holder that died or lost Redis: the call may have been sent, so
-- the hold is charged in full (never undercount) and remembered until the fleet's idle expiry.
local function sweep()
  local expired = redis.call('ZRANGEBYSCORE', KEYS[5], '-inf', '(' .. int(now))
  for _, token in ipairs(expired) do
    local hold = redis.call('HGET', KEYS[4], token)
    if hold then
      local amount, agent = split(hold)
      add(KEYS[1], 'spent', amount, ''); add(KEYS[1], 'reserved', amount, '-')
      add(KEYS[2], agent, amount, ''); add(KEYS[3], agent, amount, '-')
      redis.call('HDEL', KEYS[4], token)
      redis.call('HSET', KEYS[6], token, hold)
      redis.call('ZADD', KEYS[7], int(now), token)
    end
    redis.call('ZREM', KEYS[5], token)
  end
  for _, token in ipairs(redis.call('ZRANGEBYSCORE', KEYS[7], '-inf', int(now - idle))) do
    redis.call('HDEL', KEYS[6], token); redis.call('ZREM', KEYS[7], token)
  end
  if #expired > 0 then touch(KEYS[1], KEYS[2], KEYS[3], KEYS[6], KEYS[7]) end
end
local function alert(threshold)
  if total('spent') + total('reserved') >= tonumber(threshold) then
    return redis.call('HSETNX', KEYS[1], 'alerted', '1')
  end
  return 0
end
`

/**
 * ARGV: idle, token, agent, amount, fleet limit, agent limit ("none": the agent is under the fleet
 * limit alone), alert threshold, lease.
 * Reply: {1, crossedAlert, spent, reserved} | {0, scope (1 fleet, 2 agent), remaining, firstExhaustion, spent, reserved}.
 */
export const reserve = script(
  "reserve",
  `${ledger}
sweep()
local amount = tonumber(ARGV[4])
local spent, reserved = total('spent'), total('reserved')
local fleetRemaining = tonumber(ARGV[5]) - spent - reserved
if amount > fleetRemaining then
  -- Reported once short of the limit ('1'), and once more when spend itself reaches it ('2').
  local was = redis.call('HGET', KEYS[1], 'exhausted')
  local state = (spent >= tonumber(ARGV[5]) and '2') or was or '1'
  local first = 0
  if state ~= was then
    redis.call('HSET', KEYS[1], 'exhausted', state)
    first = 1
  end
  touch(KEYS[1])
  return {0, 1, math.max(0, fleetRemaining), first, spent, reserved}
end
local agent = ARGV[3]
if ARGV[6] ~= 'none' then
  local agentRemaining = tonumber(ARGV[6]) - tonumber(redis.call('HGET', KEYS[2], agent) or '0')
    - tonumber(redis.call('HGET', KEYS[3], agent) or '0')
  if amount > agentRemaining then return {0, 2, math.max(0, agentRemaining), 0, spent, reserved} end
end
redis.call('HSET', KEYS[4], ARGV[2], ARGV[4] .. '|' .. agent)
redis.call('ZADD', KEYS[5], int(now + tonumber(ARGV[8])), ARGV[2])
redis.call('HSETNX', KEYS[2], agent, '0'); redis.call('HSETNX', KEYS[3], agent, '0')
add(KEYS[1], 'reserved', ARGV[4], ''); add(KEYS[3], agent, ARGV[4], '')
local crossed = alert(ARGV[7])
touch(KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5])
return {1, crossed, spent, reserved + amount}`
)

/**
 * ARGV: idle, token, charged, alert threshold. Settles a hold at `charged`; a hold already charged
 * in full at expiry owes only what `charged` exceeds it by. Reply: {0} (nothing to settle: already
 * settled) | {1 settled | 2 expired, amount, agent, crossedAlert, spent, reserved}.
 */
export const settle = script(
  "settle",
  `${ledger}
local token, charged = ARGV[2], ARGV[3]
local kind, hold = 1, redis.call('HGET', KEYS[4], token)
if not hold then
  kind, hold = 2, redis.call('HGET', KEYS[6], token)
  if not hold then return {0} end
end
local amount, agent = split(hold)
if kind == 1 then
  add(KEYS[1], 'spent', charged, ''); add(KEYS[1], 'reserved', amount, '-')
  add(KEYS[2], agent, charged, ''); add(KEYS[3], agent, amount, '-')
  redis.call('HDEL', KEYS[4], token); redis.call('ZREM', KEYS[5], token)
else
  if tonumber(charged) > tonumber(amount) then
    add(KEYS[1], 'spent', charged, ''); add(KEYS[1], 'spent', amount, '-')
    add(KEYS[2], agent, charged, ''); add(KEYS[2], agent, amount, '-')
  end
  redis.call('HDEL', KEYS[6], token); redis.call('ZREM', KEYS[7], token)
end
local crossed = alert(ARGV[4])
touch(KEYS[1], KEYS[2], KEYS[3])
return {kind, tonumber(amount), agent, crossed, total('spent'), total('reserved')}`
)

/**
 * ARGV: idle, agent, amount, alert threshold. Spend with no hold: what a call let through while
 * Redis was unreachable (fail open) cost, recorded once Redis is back. Reply: {crossedAlert, spent, reserved}.
 */
export const charge = script(
  "charge",
  `${ledger}
add(KEYS[1], 'spent', ARGV[3], ''); add(KEYS[2], ARGV[2], ARGV[3], '')
redis.call('HSETNX', KEYS[2], ARGV[2], '0'); redis.call('HSETNX', KEYS[3], ARGV[2], '0')
local crossed = alert(ARGV[4])
touch(KEYS[1], KEYS[2], KEYS[3])
return {crossed, total('spent'), total('reserved')}`
)

/** ARGV: idle. Reply: {spent, reserved, agent-spent as field/value list, agent-reserved as field/value list}. */
export const ledgerSnapshot = script(
  "ledgerSnapshot",
  `${ledger}
sweep()
return {total('spent'), total('reserved'), redis.call('HGETALL', KEYS[2]), redis.call('HGETALL', KEYS[3])}`
)

// ---------------------------------------------------------------------------------------------
// Concurrency. KEYS: 1 permits (zset token → lease deadline), 2 gate (hash: until, tickets),
// 3 breaker (read only: its state rides along with a granted permit). ARGV[2]: the fleet's channel.
// ---------------------------------------------------------------------------------------------

const permits = `
local function sweepPermits()
  if redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. int(now)) > 0 then
    redis.call('PUBLISH', ARGV[2], 'released')
  end
end
local function pausedUntil()
  local untilAt = tonumber(redis.call('HGET', KEYS[2], 'until') or '0')
  if untilAt > now then return untilAt end
  if untilAt > 0 then redis.call('DEL', KEYS[2]) end
  return 0
end
`

/**
 * ARGV: idle, channel, token, limit, lease. Gate, permit and the breaker's state in one step.
 * Reply: {1, breaker tag, breaker generation} granted | {0, millis until the oldest lease runs out}
 * full | {2, millis until the gate reopens, ticket} closed (the ticket spreads the wake-ups).
 */
export const acquire = script(
  "acquire",
  `${permits}
sweepPermits()
local untilAt = pausedUntil()
if untilAt > 0 then return {2, untilAt - now, redis.call('HINCRBY', KEYS[2], 'tickets', 1) - 1} end
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[4]) then
  redis.call('ZADD', KEYS[1], int(now + tonumber(ARGV[5])), ARGV[3])
  touch(KEYS[1])
  local breaker = redis.call('HMGET', KEYS[3], 'tag', 'gen')
  return {1, breaker[1] or 'C', tonumber(breaker[2] or '0')}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, math.max(0, tonumber(oldest[2]) - now)}`
)

/** ARGV: idle, channel, token. Reply: 1 if the permit was held. */
export const release = script(
  "release",
  `${permits}
local released = redis.call('ZREM', KEYS[1], ARGV[3])
if released == 1 then redis.call('PUBLISH', ARGV[2], 'released') end
return released`
)

/**
 * ARGV: idle, channel, millis (already capped at maxPause). A later end extends the pause, an
 * earlier one never shortens it. Reply: {moved, paused until, 1 if it was closed already}.
 */
export const pause = script(
  "pause",
  `${permits}
local current = pausedUntil()
local wasClosed = 0
if current > 0 then wasClosed = 1 end
local untilAt = now + tonumber(ARGV[3])
if untilAt <= current then return {0, current, wasClosed} end
redis.call('HSET', KEYS[2], 'until', int(untilAt), 'tickets', '0')
touch(KEYS[2])
redis.call('PUBLISH', ARGV[2], 'paused')
return {1, untilAt, wasClosed}`
)

/** ARGV: idle, channel. Reopens the gate and wakes every waiter. Reply: 1 if it was closed. */
export const resume = script(
  "resume",
  `${permits}
local wasClosed = pausedUntil() > 0
redis.call('DEL', KEYS[2])
redis.call('PUBLISH', ARGV[2], 'resumed')
if wasClosed then return 1 end
return 0`
)

/** ARGV: idle, channel. Reply: {permits held, paused until (0: open)}. */
export const permitsSnapshot = script(
  "permitsSnapshot",
  `${permits}
sweepPermits()
return {redis.call('ZCARD', KEYS[1]), pausedUntil()}`
)

// ---------------------------------------------------------------------------------------------
// Budget and permits together: the leases a live process renews. KEYS: 1-7 the budget's, 8 permits,
// 9 gate, 10 breaker (touched only). ARGV: idle, lease, number of hold tokens, hold tokens…, permit tokens….
// ---------------------------------------------------------------------------------------------

/** Renews the given leases; a lease already gone (run out, swept) is not brought back. Reply: the tokens gone. */
export const renew = script(
  "renew",
  `
local deadline = int(now + tonumber(ARGV[2]))
local holds = tonumber(ARGV[3])
local lost = {}
for i = 4, #ARGV do
  local key = KEYS[8]
  if i < 4 + holds then key = KEYS[5] end
  if redis.call('ZSCORE', key, ARGV[i]) then
    redis.call('ZADD', key, deadline, ARGV[i])
  else
    table.insert(lost, ARGV[i])
  end
end
touch(KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9], KEYS[10])
return lost`
)

// ---------------------------------------------------------------------------------------------
// Breaker: the transitions of core's policy (internal/breaker.ts), in Lua. KEYS: 1 breaker (hash:
// tag C/O/H/I, gen, failures, outcomes, reopenAt, trips, probes, successes). ARGV: idle, channel,
// policy (C consecutive | R rate), threshold, windowSize, minimumCalls, resetAfter, backoffFactor,
// maxResetAfter, halfOpenMaxCalls, then the script's own.
// Every transition is published: "breaker <tag> <gen>" (and for O: " <reopenAt> <trips>").
// ---------------------------------------------------------------------------------------------

const breaker = `
local function field(name, default) return redis.call('HGET', KEYS[1], name) or default end
local function publish(message) redis.call('PUBLISH', ARGV[2], 'breaker ' .. message) end
local function become(tag, gen)
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], 'tag', tag, 'gen', int(gen))
  touch(KEYS[1])
end
local tag, gen = field('tag', 'C'), tonumber(field('gen', '0'))
`

/** Reply: {1, generation, probe, halfOpened} admitted | {0, retryAfterMillis (-1: isolated), tag, generation}. */
export const admit = script(
  "admit",
  `${breaker}
if tag == 'C' then return {1, gen, 0, 0} end
if tag == 'I' then return {0, -1, tag, gen} end
if tag == 'O' then
  local reopenAt = tonumber(field('reopenAt', '0'))
  if now < reopenAt then return {0, reopenAt - now, tag, gen} end
  local trips = field('trips', '1')
  become('H', gen + 1)
  redis.call('HSET', KEYS[1], 'probes', '1', 'successes', '0', 'trips', trips)
  publish('H ' .. int(gen + 1))
  return {1, gen + 1, 1, 1}
end
if tonumber(field('probes', '0')) < tonumber(ARGV[10]) then
  redis.call('HINCRBY', KEYS[1], 'probes', 1)
  return {1, gen, 1, 0}
end
return {0, 0, tag, gen}`
)

/**
 * ARGV[11]: the admitted call's generation, ARGV[12]: success | failure | ignored.
 * Reply: {0, tag, generation} no transition | {1, 'O', generation, reopenAt, trips} opened | {2, 'C', generation} closed.
 */
export const record = script(
  "record",
  `${breaker}
if tonumber(ARGV[11]) ~= gen then return {0, tag, gen} end
local outcome = ARGV[12]
local function open(trips)
  local reopenAt = now + math.min(tonumber(ARGV[9]), tonumber(ARGV[7]) * tonumber(ARGV[8]) ^ math.max(0, trips - 1))
  become('O', gen + 1)
  redis.call('HSET', KEYS[1], 'reopenAt', int(reopenAt), 'trips', int(trips))
  publish('O ' .. int(gen + 1) .. ' ' .. int(reopenAt) .. ' ' .. int(trips))
  return {1, 'O', gen + 1, math.floor(reopenAt), trips}
end
if tag == 'C' then
  if outcome == 'ignored' then return {0, tag, gen} end
  local failed = outcome == 'failure'
  if ARGV[3] == 'C' then
    local failures = 0
    if failed then failures = tonumber(field('failures', '0')) + 1 end
    if failures >= tonumber(ARGV[4]) then return open(1) end
    redis.call('HSET', KEYS[1], 'failures', int(failures))
  else
    local outcomes = field('outcomes', '') .. (failed and '1' or '0')
    local size = tonumber(ARGV[5])
    if #outcomes > size then outcomes = string.sub(outcomes, #outcomes - size + 1) end
    local _, failures = string.gsub(outcomes, '1', '')
    if #outcomes >= tonumber(ARGV[6]) and failures / #outcomes >= tonumber(ARGV[4]) then return open(1) end
    redis.call('HSET', KEYS[1], 'outcomes', outcomes)
  end
  touch(KEYS[1])
  return {0, tag, gen}
end
if tag == 'H' then
  if outcome == 'failure' then return open(tonumber(field('trips', '0')) + 1) end
  if outcome == 'ignored' then
    redis.call('HINCRBY', KEYS[1], 'probes', -1)
    return {0, tag, gen}
  end
  local successes = tonumber(field('successes', '0')) + 1
  if successes >= tonumber(ARGV[10]) then
    become('C', gen + 1)
    publish('C ' .. int(gen + 1))
    return {2, 'C', gen + 1}
  end
  redis.call('HINCRBY', KEYS[1], 'probes', -1)
  redis.call('HSET', KEYS[1], 'successes', int(successes))
end
return {0, tag, gen}`
)

/** Holds it open until reset. Reply: {tag before, generation}. */
export const isolate = script(
  "isolate",
  `${breaker}
become('I', gen + 1)
publish('I ' .. int(gen + 1))
return {tag, gen + 1}`
)

/** Closes it and forgets its statistics. Reply: the generation. */
export const reset = script(
  "reset",
  `${breaker}
become('C', gen + 1)
publish('C ' .. int(gen + 1))
return gen + 1`
)

/** Reply: {tag, generation, reopenAt, trips}. */
export const breakerState = script(
  "breakerState",
  `${breaker}
return {tag, gen, tonumber(field('reopenAt', '0')), tonumber(field('trips', '0'))}`
)
