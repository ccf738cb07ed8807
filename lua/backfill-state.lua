-- backfill-state.lua: every change of a backfill's state, fenced by its lease
-- (shared/backfill/state-store.ts). All keys share the project's hash tag {<project>}, so
-- one call checks the lease and the stage and changes the state, the writing generations,
-- the generation pointer and the populated marker atomically, on Redis Cluster too.
--
-- KEYS[1]  fs:{<project>}:backfill:lease:<view>@<major>
-- KEYS[2]  fs:{<project>}:backfill:state:<view>@<major>   (JSON; .stage)
-- KEYS[3]  fs:{<project>}:backfill:writing                (hash view major -> "g1,g2")
-- KEYS[4]  fs:{<project>}:gen:<view>@<major>              (the generation pointer)
-- KEYS[5]  fs:{<project>}:populated:<view>@<major>
-- KEYS[6]  fs:{<project>}:backfill:epoch
-- KEYS[7]  fs:{<project>}:backfill:gens:<view>@<major>
-- ARGV[1]  the caller's lease token
-- ARGV[2]  begin | update
-- ARGV[3]  stages the current state must be in, comma-separated ("none": no state)
-- ARGV[4]  the new state JSON ("" keeps it). With begin, the texts "$EPOCH", "$NEW" and "$OLD"
--          (quotes included) are replaced by the epoch, new and old generation allocated here.
-- ARGV[5]  the view major (the writing hash's field)
-- ARGV[6]  the writing generations: "-" unchanged, "" removed, else the new value
-- ARGV[7]  the generation pointer: "" unchanged, else the value to SET (the flip)
-- ARGV[8]  the populated marker: "" unchanged, else the value to SET
--
-- Answers {epoch, new generation, old generation} for begin, {1} for update; an error
-- "LEASE <holder>" when the caller does not hold the lease, "STAGE <stage>" when the state is
-- in another stage. Nothing is changed then.
local holder = redis.call('GET', KEYS[1])
if holder ~= ARGV[1] then
  return redis.error_reply('LEASE ' .. tostring(holder or ''))
end
local current = redis.call('GET', KEYS[2])
local stage = 'none'
if current then stage = cjson.decode(current).stage end
local allowed = false
for s in string.gmatch(ARGV[3], '[^,]+') do
  if s == stage then allowed = true end
end
if not allowed then return redis.error_reply('STAGE ' .. stage) end

local state = ARGV[4]
local answer = {1}
local writing = ARGV[6]
if ARGV[2] == 'begin' then
  local epoch = redis.call('INCR', KEYS[6])
  local active = tonumber(redis.call('GET', KEYS[4]) or '0') or 0
  local last = tonumber(redis.call('GET', KEYS[7]) or '0') or 0
  -- Never a generation used before: an aborted backfill's leftovers can never be read.
  local new = math.max(active, last) + 1
  redis.call('SET', KEYS[7], new)
  state = string.gsub(state, '"%$EPOCH"', tostring(epoch))
  state = string.gsub(state, '"%$NEW"', tostring(new))
  state = string.gsub(state, '"%$OLD"', tostring(active))
  writing = tostring(active) .. ',' .. tostring(new)
  answer = {epoch, new, active}
end
if state ~= '' then redis.call('SET', KEYS[2], state) end
if writing == '' then
  redis.call('HDEL', KEYS[3], ARGV[5])
elseif writing ~= '-' then
  redis.call('HSET', KEYS[3], ARGV[5], writing)
end
if ARGV[7] ~= '' then redis.call('SET', KEYS[4], ARGV[7]) end
if ARGV[8] ~= '' then redis.call('SET', KEYS[5], ARGV[8]) end
return answer
