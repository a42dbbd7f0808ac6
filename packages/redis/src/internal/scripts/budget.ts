/**
 * The budget's scripts: core's ledger (internal/policy/ledger.ts) kept in Redis. KEYS: 1 ledger
 * (hash: spent, reserved, alerted, exhausted), 2 agent-spent (hash), 3 agent-reserved (hash), 4 holds
 * (hash token → "amount|agent"), 5 hold-leases (zset token → deadline), 6 expired (hash token →
 * "amount|agent": holds charged in full when their lease ran out, so that a late commit above the
 * reservation still adds what is missing), 7 expired-at (zset).
 *
 * The ledger's `exhausted` is the ledger's own: absent (nothing reported yet), `short` (a refusal
 * reported while spend was below the limit) or `spent` (spend at the limit); `alerted` is set
 * (to 1) once the alert threshold has been reported.
 */
import { script } from "./script.js"

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
 * Reply: {'Reserved', crossedAlert, spent, reserved}
 *      | {'Refused', scope ('fleet' | 'agent'), remaining, firstExhaustion, spent, reserved}.
 */
export const reserve = script(
  "reserve",
  `${ledger}
sweep()
local amount = tonumber(ARGV[4])
local spent, reserved = total('spent'), total('reserved')
local fleetRemaining = tonumber(ARGV[5]) - spent - reserved
if amount > fleetRemaining then
  -- Reported once short of the limit, and once more when spend itself reaches it.
  local was = redis.call('HGET', KEYS[1], 'exhausted')
  local exhausted = (spent >= tonumber(ARGV[5]) and 'spent') or was or 'short'
  local first = 0
  if exhausted ~= was then
    redis.call('HSET', KEYS[1], 'exhausted', exhausted)
    first = 1
  end
  touch(KEYS[1])
  return {'Refused', 'fleet', math.max(0, fleetRemaining), first, spent, reserved}
end
local agent = ARGV[3]
if ARGV[6] ~= 'none' then
  local agentRemaining = tonumber(ARGV[6]) - tonumber(redis.call('HGET', KEYS[2], agent) or '0')
    - tonumber(redis.call('HGET', KEYS[3], agent) or '0')
  if amount > agentRemaining then return {'Refused', 'agent', math.max(0, agentRemaining), 0, spent, reserved} end
end
redis.call('HSET', KEYS[4], ARGV[2], ARGV[4] .. '|' .. agent)
redis.call('ZADD', KEYS[5], int(now + tonumber(ARGV[8])), ARGV[2])
redis.call('HSETNX', KEYS[2], agent, '0'); redis.call('HSETNX', KEYS[3], agent, '0')
add(KEYS[1], 'reserved', ARGV[4], ''); add(KEYS[3], agent, ARGV[4], '')
local crossed = alert(ARGV[7])
touch(KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5])
return {'Reserved', crossed, spent, reserved + amount}`
)

/**
 * ARGV: idle, token, charged, alert threshold. Settles a hold at `charged`; a hold already charged
 * in full at expiry owes only what `charged` exceeds it by.
 * Reply: {'Settled' | 'Expired', amount held, agent, crossedAlert, spent, reserved}
 *      | {'AlreadySettled'} (no hold by that token: nothing to settle).
 */
export const settle = script(
  "settle",
  `${ledger}
local token, charged = ARGV[2], ARGV[3]
local kind, hold = 'Settled', redis.call('HGET', KEYS[4], token)
if not hold then
  kind, hold = 'Expired', redis.call('HGET', KEYS[6], token)
  if not hold then return {'AlreadySettled'} end
end
local amount, agent = split(hold)
if kind == 'Settled' then
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
export const snapshot = script(
  "ledgerSnapshot",
  `${ledger}
sweep()
return {total('spent'), total('reserved'), redis.call('HGETALL', KEYS[2]), redis.call('HGETALL', KEYS[3])}`
)
