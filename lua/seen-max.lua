-- seen-max.lua: raises a region's "seen" clock, the highest HLC of each origin region that
-- this region's Redis has been offered (shared/online-store/seen-clock.ts). Writers carry it
-- as their clock vector, so a write counts as knowing what its region had applied.
--
-- KEYS[1]  fs:{<project>}:seen, a hash of origin region -> HLC as 16 hex digits
-- ARGV     region, hlc, region, hlc, ...
--
-- Each field only grows (the consumers of several partitions raise it at once). HLCs are
-- compared numerically in chunks (12 hex wall ms, 4 hex counter), never with Lua's string `<`,
-- which follows the server's collation locale.

local sub, tonumber = string.sub, tonumber

local function hex16_cmp(a, b)
  local x, y = tonumber(sub(a, 1, 12), 16), tonumber(sub(b, 1, 12), 16)
  if x ~= y then return x < y and -1 or 1 end
  x, y = tonumber(sub(a, 13, 16), 16), tonumber(sub(b, 13, 16), 16)
  if x ~= y then return x < y and -1 or 1 end
  return 0
end

local HLC_FORM = '^' .. string.rep('[0-9a-f]', 16) .. '$'
for i = 1, #ARGV, 2 do
  if not ARGV[i + 1] or not string.find(ARGV[i + 1], HLC_FORM) then
    return redis.error_reply('ERR seen-max script: argument ' .. (i + 1) .. ' is not an HLC')
  end
end
local raised = 0
for i = 1, #ARGV, 2 do
  local stored = redis.call('HGET', KEYS[1], ARGV[i])
  -- A stored value in another form (written by hand) is replaced: the clock only guides counting.
  if not stored or not string.find(stored, HLC_FORM) or hex16_cmp(ARGV[i + 1], stored) > 0 then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
    raised = raised + 1
  end
end
return raised
