/**
 * The renewal of the leases a live process holds: the budget's holds and the concurrency permits
 * together, one script every third of a lease. KEYS: 1-7 the budget's (budget.ts), 8 permits, 9 gate
 * (concurrency.ts), 10 breaker (breaker.ts; touched only). ARGV: idle, lease, number of hold tokens,
 * hold tokens…, permit tokens….
 */
import { script } from "./script.js"

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
