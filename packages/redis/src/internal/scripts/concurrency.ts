/**
 * The concurrency scripts: a semaphore of leased permits and the shared rate-limit gate. KEYS: 1
 * permits (zset token → lease deadline), 2 gate (hash: until, tickets), 3 breaker (read only: its
 * state rides along with a granted permit; see breaker.ts). ARGV[2]: the fleet's channel, where
 * they publish `released`, `paused` and `resumed`.
 */
import { script } from "./script.js"

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
 * Reply: {'Granted', breaker state, breaker generation}
 *      | {'Full', millis until the oldest lease runs out}
 *      | {'Paused', millis until the gate reopens, ticket} (the ticket spreads the wake-ups).
 */
export const acquire = script(
  "acquire",
  `${permits}
sweepPermits()
local untilAt = pausedUntil()
if untilAt > 0 then return {'Paused', untilAt - now, redis.call('HINCRBY', KEYS[2], 'tickets', 1) - 1} end
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[4]) then
  redis.call('ZADD', KEYS[1], int(now + tonumber(ARGV[5])), ARGV[3])
  touch(KEYS[1])
  local breaker = redis.call('HMGET', KEYS[3], 'state', 'gen')
  return {'Granted', breaker[1] or 'Closed', tonumber(breaker[2] or '0')}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {'Full', math.max(0, tonumber(oldest[2]) - now)}`
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
export const snapshot = script(
  "permitsSnapshot",
  `${permits}
sweepPermits()
return {redis.call('ZCARD', KEYS[1]), pausedUntil()}`
)
