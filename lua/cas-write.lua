-- cas-write.lua: write all features of one (entity, view@major, generation) atomically,
-- only when the incoming version is strictly greater than the stored one.
--
-- KEYS[1]  the entity hash: fs:{<project>:<entities>:<encoded key>}
-- ARGV[1]  field prefix "<view>@<major>#<gen>:"
-- ARGV[2]  incoming version (see shared/versions/version.ts): 12 hex event ms, 8 hex epoch,
--          12 hex HLC wall ms, 4 hex HLC counter, then the origin region (ASCII)
-- ARGV[3]  incoming clock vector "region:hlc16hex,..." (per-origin HLC the writer had seen)
-- ARGV[4…] feature name, encoded value, feature name, encoded value, ...
--
-- Returns 1 applied, 0 stale (older or duplicate); +2 when the write was concurrent with
-- the stored row's clock vector (neither before nor after it): 3 concurrent and applied,
-- 2 concurrent and stale.
--
-- Comparisons are numeric on fixed-width hex chunks and bytewise on the region, never Lua's
-- string `<`, which follows the server's collation locale.

local key = KEYS[1]
local prefix = ARGV[1]
local incoming = ARGV[2]
local incoming_clock = ARGV[3]
local version_field = prefix .. '_v'
local clock_field = prefix .. '_cv'

-- [first, last] character ranges of the numeric parts of a version
local VERSION_CHUNKS = { { 1, 12 }, { 13, 20 }, { 21, 32 }, { 33, 36 } }
local REGION_START = 37

local function bytes_cmp(a, b)
  if a == b then return 0 end
  local n = math.min(#a, #b)
  for i = 1, n do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y and -1 or 1 end
  end
  return #a < #b and -1 or 1
end

local function version_cmp(a, b)
  for _, chunk in ipairs(VERSION_CHUNKS) do
    local x = tonumber(string.sub(a, chunk[1], chunk[2]), 16)
    local y = tonumber(string.sub(b, chunk[1], chunk[2]), 16)
    if x ~= y then return x < y and -1 or 1 end
  end
  return bytes_cmp(string.sub(a, REGION_START), string.sub(b, REGION_START))
end

-- An HLC is 16 hex digits: 12 of wall-clock ms and 4 of counter (too wide for one double).
local function hlc_cmp(a, b)
  local x, y = tonumber(string.sub(a, 1, 12), 16), tonumber(string.sub(b, 1, 12), 16)
  if x ~= y then return x < y and -1 or 1 end
  x, y = tonumber(string.sub(a, 13, 16), 16), tonumber(string.sub(b, 13, 16), 16)
  if x ~= y then return x < y and -1 or 1 end
  return 0
end

local function parse_clock(text)
  local clock, regions = {}, {}
  if text then
    for region, hlc in string.gmatch(text, '([^:,]+):(%x+)') do
      clock[region] = hlc
      regions[#regions + 1] = region
    end
  end
  return clock, regions
end

local stored = redis.call('HMGET', key, version_field, clock_field)
local stored_version, stored_clock_text = stored[1], stored[2]

local newer = (not stored_version) or version_cmp(incoming, stored_version) > 0

-- Clock vectors: is the incoming write before, after, equal to or concurrent with the row?
local concurrent = false
local clock_changed = false
local merged_text = incoming_clock
if stored_clock_text then
  local stored_clock, stored_regions = parse_clock(stored_clock_text)
  local in_clock, in_regions = parse_clock(incoming_clock)
  local incoming_ahead, stored_ahead = false, false
  local merged = {}
  local seen = {}
  for _, region in ipairs(stored_regions) do
    local s, i = stored_clock[region], in_clock[region]
    if not i or hlc_cmp(s, i) > 0 then
      stored_ahead = true
      merged[region] = s
    else
      if hlc_cmp(s, i) < 0 then incoming_ahead = true end
      merged[region] = i
    end
    seen[region] = true
  end
  for _, region in ipairs(in_regions) do
    if not seen[region] then
      incoming_ahead = true
      merged[region] = in_clock[region]
      stored_regions[#stored_regions + 1] = region
    end
  end
  concurrent = incoming_ahead and stored_ahead
  clock_changed = incoming_ahead
  table.sort(stored_regions, function(a, b) return bytes_cmp(a, b) < 0 end)
  local parts = {}
  for _, region in ipairs(stored_regions) do
    parts[#parts + 1] = region .. ':' .. merged[region]
  end
  merged_text = table.concat(parts, ',')
end

if newer then
  local args = { version_field, incoming, clock_field, merged_text }
  for i = 4, #ARGV, 2 do
    args[#args + 1] = prefix .. ARGV[i]
    args[#args + 1] = ARGV[i + 1]
  end
  redis.call('HSET', key, unpack(args))
elseif clock_changed then
  -- Rejected by the order, but what this row has seen from each region still grows.
  redis.call('HSET', key, clock_field, merged_text)
end

return (newer and 1 or 0) + (concurrent and 2 or 0)
