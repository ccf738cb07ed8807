-- cas-write.lua: compare-and-swap writes of rows, one row per key. Each row writes all
-- features of one (entity, view@major, generation) atomically, only when its incoming
-- version is strictly greater than the stored one.
--
-- One call carries a group of rows (the client sends a few dozen per call: a command per row
-- made the consumer spend much of its time building commands; see
-- shared/online-store/cas-calls.ts). On Redis Cluster every key of a call lies in one hash
-- slot; the client groups rows by slot.
--
-- KEYS[i]  row i's entity hash: fs:{<project>:<entities>:<encoded key>}
-- ARGV     the call's shapes, then its rows. A shape is the hash fields of one view major and
--          generation, sent once per call however many of its rows the call holds:
--            s        how many shapes follow
--            per shape: m (its feature count), its version field "<view>@<major>#<gen>:_v",
--                     its clock field "<view>@<major>#<gen>:_cv", then its m feature fields
--                     (already prefixed by the client, so the script only passes them on)
--          then per row, in KEYS order:
--            the row's shape number (1 for the first shape)
--            incoming version (see shared/versions/version.ts): 12 hex event ms, 8 hex epoch,
--            12 hex HLC wall ms, 4 hex HLC counter, then the origin region (ASCII)
--            incoming clock vector "region:hlc16hex,..." sorted by region (what the writer had seen)
--            the shape's m encoded values, in its feature order
--
-- Returns one code per row, in KEYS order: 1 applied, 0 stale (older or duplicate); +2 when
-- the write was concurrent with the stored row's clock vector (neither before nor after it):
-- 3 concurrent and applied, 2 concurrent and stale. A malformed call fails as a whole before
-- it writes anything.
--
-- Comparisons are numeric on fixed-width hex chunks and bytewise on region names, never
-- Lua's string `<`, which follows the server's collation locale. The common cases (first
-- write of a row; a clock vector of one region, as a single-region writer sends) take
-- short paths: this runs once per written row.

local sub, byte, tonumber = string.sub, string.byte, tonumber

-- -1, 0, 1 as a < b, a == b, a > b, comparing bytes (region names)
local function bytes_cmp(a, b)
  if a == b then return 0 end
  for i = 1, math.min(#a, #b) do
    local x, y = byte(a, i), byte(b, i)
    if x ~= y then return x < y and -1 or 1 end
  end
  return #a < #b and -1 or 1
end

-- Compares equal-width hex strings numerically in chunks of 12 digits (48 bits, exact in a double).
local function hex_cmp(a, b, first, last)
  for i = first, last, 12 do
    local j = math.min(i + 11, last)
    local x, y = tonumber(sub(a, i, j), 16), tonumber(sub(b, i, j), 16)
    if x ~= y then return x < y and -1 or 1 end
  end
  return 0
end

-- Writes one row of `shape`; its arguments start at ARGV[at] (its shape number).
local function cas_row(key, shape, at)
  local version_field, clock_field = shape.version, shape.clock
  local incoming, incoming_clock = ARGV[at + 1], ARGV[at + 2]
  local stored = redis.call('HMGET', key, version_field, clock_field)
  local stored_version, stored_clock = stored[1], stored[2]

  -- 1. Order: (event ms, epoch, HLC) as 36 fixed-width hex digits, then the region.
  local newer = true
  if stored_version then
    local order = hex_cmp(incoming, stored_version, 1, 36)
    if order == 0 then order = bytes_cmp(sub(incoming, 37), sub(stored_version, 37)) end
    newer = order > 0
  end

  -- 2. Concurrency: the incoming clock vector against the row's, and their pointwise maximum.
  local concurrent, clock_changed, merged = false, false, incoming_clock
  if stored_clock == incoming_clock then
    merged = stored_clock
  elseif stored_clock then
    local stored_region, stored_hlc = string.match(stored_clock, '^([^:,]+):(%x+)$')
    local incoming_region, incoming_hlc = string.match(incoming_clock, '^([^:,]+):(%x+)$')
    if stored_region and stored_region == incoming_region then
      -- One region on both sides: its clock is totally ordered, so never concurrent.
      clock_changed = hex_cmp(incoming_hlc, stored_hlc, 1, 16) > 0
      if not clock_changed then merged = stored_clock end
    else
      local function parse(text)
        local clock, regions = {}, {}
        for region, hlc in string.gmatch(text, '([^:,]+):(%x+)') do
          clock[region] = hlc
          regions[#regions + 1] = region
        end
        return clock, regions
      end
      local stored_map, regions = parse(stored_clock)
      local incoming_map, incoming_regions = parse(incoming_clock)
      local incoming_ahead, stored_ahead = false, false
      local best = {}
      for _, region in ipairs(regions) do
        local s, i = stored_map[region], incoming_map[region]
        if not i or hex_cmp(s, i, 1, 16) > 0 then
          stored_ahead = true
          best[region] = s
        else
          if hex_cmp(s, i, 1, 16) < 0 then incoming_ahead = true end
          best[region] = i
        end
      end
      for _, region in ipairs(incoming_regions) do
        if not stored_map[region] then
          incoming_ahead = true
          best[region] = incoming_map[region]
          regions[#regions + 1] = region
        end
      end
      concurrent = incoming_ahead and stored_ahead
      clock_changed = incoming_ahead
      table.sort(regions, function(a, b) return bytes_cmp(a, b) < 0 end)
      local parts = {}
      for n, region in ipairs(regions) do parts[n] = region .. ':' .. best[region] end
      merged = table.concat(parts, ',')
    end
  end

  if newer then
    -- The shape's HSET arguments, field names in place: only this row's slots change.
    local args, values = shape.hset, at + 3
    args[2], args[4] = incoming, merged
    for j = 0, shape.m - 1 do
      args[6 + 2 * j] = ARGV[values + j]
    end
    redis.call('HSET', key, unpack(args))
  elseif clock_changed then
    -- Rejected by the order, but what this row has seen from each region still grows.
    redis.call('HSET', key, clock_field, merged)
  end

  return (newer and 1 or 0) + (concurrent and 2 or 0)
end

-- Validate the whole call before writing anything: a malformed call fails, never half-applies.
local function malformed(what)
  return redis.error_reply('ERR cas-write script: ' .. what)
end

local shape_count = tonumber(ARGV[1])
if not shape_count or shape_count < 1 or shape_count % 1 ~= 0 then
  return malformed('the shape count is not a positive integer')
end
local shapes, at = {}, 2
for k = 1, shape_count do
  local m = tonumber(ARGV[at])
  if not m or m < 0 or m % 1 ~= 0 or at + 2 + m > #ARGV then
    return malformed('shape ' .. k .. ' is malformed')
  end
  -- HSET's arguments for the shape's rows, built once and reused by each of them (a fresh
  -- table per row is allocation Redis pays on every row): field names now, values per row.
  local hset = { ARGV[at + 1], false, ARGV[at + 2], false }
  for j = 0, m - 1 do
    hset[5 + 2 * j], hset[6 + 2 * j] = ARGV[at + 3 + j], false
  end
  shapes[k] = { m = m, version = ARGV[at + 1], clock = ARGV[at + 2], hset = hset }
  at = at + 3 + m
end
local row_shape, row_at = {}, {}
for i = 1, #KEYS do
  local shape = shapes[tonumber(ARGV[at])]
  if not shape or at + 2 + shape.m > #ARGV then
    return malformed('row ' .. i .. ' names no shape or lacks arguments')
  end
  row_shape[i], row_at[i] = shape, at
  at = at + 3 + shape.m
end
if at ~= #ARGV + 1 then
  return malformed((#ARGV + 1 - at) .. ' arguments after the last row')
end

local codes = {}
for i = 1, #KEYS do
  codes[i] = cas_row(KEYS[i], row_shape[i], row_at[i])
end
return codes
