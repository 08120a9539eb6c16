package redisqueue

import "github.com/redis/go-redis/v9"

// The scripts run server-side so each step is atomic and one round trip.
// Every key a script touches is passed in KEYS and carries the queue's hash
// tag, so on Redis Cluster they all live in one slot.

// enqueue adds a job unless its ID was seen within the dedup window.
// KEYS: stream, seen marker. ARGV: dedup ms, job JSON.
// Returns the entry id, or false for a duplicate.
var enqueueScript = redis.NewScript(`
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[1]) then
  return redis.call('XADD', KEYS[1], '*', 'job', ARGV[2])
end
return false
`)

// deadLetter moves entry id (with fields job) to the dead stream; a Lua
// function shared by claim and fail.
const deadLetter = `
local function dead(stream, deadkey, errors, group, id, job, attempts, reason, deadmax, now)
  local err = redis.call('HGET', errors, id) or reason
  redis.call('XADD', deadkey, 'MAXLEN', '~', deadmax, '*',
    'job', job, 'attempts', attempts, 'error', err, 'entry', id, 'dead_at', now)
  redis.call('XACK', stream, group, id)
  redis.call('XDEL', stream, id)
  redis.call('HDEL', errors, id)
end
`

// claim takes over the oldest entry whose lease expired, moving entries out
// of attempts to the dead stream on the way.
// KEYS: stream, dead stream, errors hash. ARGV: group, consumer, min idle
// ms, max attempts, dead max, now (unix ms).
// Returns {id, job, deliveries} or false.
var claimScript = redis.NewScript(deadLetter + `
local cursor = '0-0'
for i = 1, 100 do
  local r = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], cursor, 'COUNT', 1)
  cursor = r[1]
  local e = r[2][1]
  if e then
    local id = e[1]
    local job = e[2][2]
    local p = redis.call('XPENDING', KEYS[1], ARGV[1], id, id, 1)
    local n = p[1][4]
    if n <= tonumber(ARGV[4]) then
      return {id, job, n}
    end
    dead(KEYS[1], KEYS[2], KEYS[3], ARGV[1], id, job, n - 1, 'worker stopped before finishing the job', ARGV[5], ARGV[6])
  elseif cursor == '0-0' then
    return false
  end
end
return false
`)

// owned is the Lua check that entry ARGV[3] is still leased to consumer
// ARGV[2] of group ARGV[1] on delivery ARGV[4].
const owned = `
local function owned(stream)
  local p = redis.call('XPENDING', stream, ARGV[1], ARGV[3], ARGV[3], 1)
  return #p == 1 and p[1][2] == ARGV[2] and p[1][4] == tonumber(ARGV[4])
end
`

// extend resets the entry's idle time if the delivery still owns it.
// KEYS: stream. ARGV: group, consumer, id, deliveries. Returns 1 or 0.
var extendScript = redis.NewScript(owned + `
if not owned(KEYS[1]) then return 0 end
redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3], 'JUSTID')
return 1
`)

// ack finishes the entry if the delivery still owns it.
// KEYS: stream, errors hash. ARGV: group, consumer, id, deliveries.
// Returns 1 or 0.
var ackScript = redis.NewScript(owned + `
if not owned(KEYS[1]) then return 0 end
redis.call('XACK', KEYS[1], ARGV[1], ARGV[3])
redis.call('XDEL', KEYS[1], ARGV[3])
redis.call('HDEL', KEYS[2], ARGV[3])
return 1
`)

// fail records the cause and either sets the entry's idle time so that it
// becomes claimable after the backoff, or, on the last attempt, moves it to
// the dead stream.
// KEYS: stream, dead stream, errors hash. ARGV: group, consumer, id,
// deliveries, cause, idle ms to set, max attempts, job, dead max, now.
// Returns 1 (retry), 2 (dead) or 0 (lease lost).
var failScript = redis.NewScript(owned + deadLetter + `
if not owned(KEYS[1]) then return 0 end
redis.call('HSET', KEYS[3], ARGV[3], ARGV[5])
if tonumber(ARGV[4]) >= tonumber(ARGV[7]) then
  dead(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[3], ARGV[8], ARGV[4], ARGV[5], ARGV[9], ARGV[10])
  return 2
end
redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3], 'IDLE', ARGV[6], 'JUSTID')
return 1
`)

// release hands the entry to the Released consumer with its delivery count
// lowered by one and an idle time that XAUTOCLAIM takes at once, if the
// delivery still owns it: the next XAUTOCLAIM raises the count back, so
// the job keeps its attempt number.
// KEYS: stream. ARGV: group, consumer, id, deliveries, released consumer,
// idle ms to set. Returns 1 or 0.
var releaseScript = redis.NewScript(owned + `
if not owned(KEYS[1]) then return 0 end
redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[5], 0, ARGV[3], 'IDLE', ARGV[6],
  'RETRYCOUNT', tonumber(ARGV[4]) - 1, 'JUSTID')
return 1
`)
