/**
 * The breaker's scripts: the transitions of core's policy (internal/policy/breaker.ts), in Lua, its
 * names too. KEYS: 1 breaker (hash: state, gen, failures, outcomes, reopenAt, trips, probes,
 * successes). `state` is the policy's: `Closed`, `Open`, `HalfOpen` or `Isolated` (held open by an
 * operator); absent, `Closed`. `outcomes` is the failure-rate window, oldest first, a letter a call:
 * `f` failure, `s` success.
 *
 * ARGV: idle, channel, policy (`Consecutive` | `FailureRate`), threshold, windowSize, minimumCalls,
 * resetAfter, backoffFactor, maxResetAfter, halfOpenMaxCalls, then the script's own.
 * Every transition is published: "breaker <state> <generation>", and for `Open`
 * "breaker Open <generation> <reopenAt> <trips>".
 */
import { script } from "./script.js"

const breaker = `
local function field(name, default) return redis.call('HGET', KEYS[1], name) or default end
local function publish(message) redis.call('PUBLISH', ARGV[2], 'breaker ' .. message) end
local function become(state, gen)
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], 'state', state, 'gen', int(gen))
  touch(KEYS[1])
end
local state, gen = field('state', 'Closed'), tonumber(field('gen', '0'))
`

/**
 * Reply: {'Admitted', generation, probe, halfOpened}
 *      | {'Rejected', generation, state, retryAfterMillis (-1: isolated)}.
 */
export const admit = script(
  "admit",
  `${breaker}
if state == 'Closed' then return {'Admitted', gen, 0, 0} end
if state == 'Isolated' then return {'Rejected', gen, state, -1} end
if state == 'Open' then
  local reopenAt = tonumber(field('reopenAt', '0'))
  if now < reopenAt then return {'Rejected', gen, state, reopenAt - now} end
  local trips = field('trips', '1')
  become('HalfOpen', gen + 1)
  redis.call('HSET', KEYS[1], 'probes', '1', 'successes', '0', 'trips', trips)
  publish('HalfOpen ' .. int(gen + 1))
  return {'Admitted', gen + 1, 1, 1}
end
if tonumber(field('probes', '0')) < tonumber(ARGV[10]) then
  redis.call('HINCRBY', KEYS[1], 'probes', 1)
  return {'Admitted', gen, 1, 0}
end
return {'Rejected', gen, state, 0}`
)

/**
 * ARGV[11]: the admitted call's generation, ARGV[12]: its outcome (`success` | `failure` | `ignored`).
 * Reply: {'Opened', generation, reopenAt, trips} | {'Closed', generation} | {'Unchanged', generation, state}.
 */
export const record = script(
  "record",
  `${breaker}
if tonumber(ARGV[11]) ~= gen then return {'Unchanged', gen, state} end
local outcome = ARGV[12]
local function open(trips)
  local reopenAt = now + math.min(tonumber(ARGV[9]), tonumber(ARGV[7]) * tonumber(ARGV[8]) ^ math.max(0, trips - 1))
  become('Open', gen + 1)
  redis.call('HSET', KEYS[1], 'reopenAt', int(reopenAt), 'trips', int(trips))
  publish('Open ' .. int(gen + 1) .. ' ' .. int(reopenAt) .. ' ' .. int(trips))
  return {'Opened', gen + 1, math.floor(reopenAt), trips}
end
if state == 'Closed' then
  if outcome == 'ignored' then return {'Unchanged', gen, state} end
  local failed = outcome == 'failure'
  if ARGV[3] == 'Consecutive' then
    local failures = 0
    if failed then failures = tonumber(field('failures', '0')) + 1 end
    if failures >= tonumber(ARGV[4]) then return open(1) end
    redis.call('HSET', KEYS[1], 'failures', int(failures))
  else
    local outcomes = field('outcomes', '') .. (failed and 'f' or 's')
    local size = tonumber(ARGV[5])
    if #outcomes > size then outcomes = string.sub(outcomes, #outcomes - size + 1) end
    local _, failures = string.gsub(outcomes, 'f', '')
    if #outcomes >= tonumber(ARGV[6]) and failures / #outcomes >= tonumber(ARGV[4]) then return open(1) end
    redis.call('HSET', KEYS[1], 'outcomes', outcomes)
  end
  touch(KEYS[1])
  return {'Unchanged', gen, state}
end
if state == 'HalfOpen' then
  if outcome == 'failure' then return open(tonumber(field('trips', '0')) + 1) end
  if outcome == 'ignored' then
    redis.call('HINCRBY', KEYS[1], 'probes', -1)
    return {'Unchanged', gen, state}
  end
  local successes = tonumber(field('successes', '0')) + 1
  if successes >= tonumber(ARGV[10]) then
    become('Closed', gen + 1)
    publish('Closed ' .. int(gen + 1))
    return {'Closed', gen + 1}
  end
  redis.call('HINCRBY', KEYS[1], 'probes', -1)
  redis.call('HSET', KEYS[1], 'successes', int(successes))
end
return {'Unchanged', gen, state}`
)

/** Holds it open until reset. Reply: {state before, generation}. */
export const isolate = script(
  "isolate",
  `${breaker}
become('Isolated', gen + 1)
publish('Isolated ' .. int(gen + 1))
return {state, gen + 1}`
)

/** Closes it and forgets its statistics. Reply: the generation. */
export const reset = script(
  "reset",
  `${breaker}
become('Closed', gen + 1)
publish('Closed ' .. int(gen + 1))
return gen + 1`
)

/** Reply: {state, generation, reopenAt (0 unless Open), trips (0 unless Open or HalfOpen)}. */
export const state = script(
  "breakerState",
  `${breaker}
return {state, gen, tonumber(field('reopenAt', '0')), tonumber(field('trips', '0'))}`
)
