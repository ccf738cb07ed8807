-- aggregate-apply.lua: applies one batch of one entity's events to the time tiles of one
-- aggregation view major, exactly once (docs/aggregations.md; shared/aggregations/apply-call.ts
-- builds the call). Everything is in the entity's hash, so one key per call, on Cluster too.
--
-- The view's spec is not an argument: apply-call.ts puts it in front of this file as Lua
-- constants, one script per view spec, so a call neither sends nor parses it:
--   local prefix, lateness, nCols = '<view>@<major>#0:', allowedLatenessMs, C
--   local aggs = { { name = '<view>@<major>#0:<agg>:', kind, tile, window, n,
--                    col (1..C, 0 for count), touched = {} }, ... }
--          kind: count | sumi | sumf | meani | meanf | mini | maxi | minf | maxf | last_n
--          (i: exact integers, f: floats).
-- KEYS[1]  fs:{<project>:<entity set>:<encoded key>}
-- ARGV[1…] per event, in source offset order: eventTsMs, sourceTopic, partition, offset,
--          C value texts (value-codec text, "" null; integers canonical decimal).
-- Returns  { applied, duplicates, late event positions (1-based)... }
--
-- Per event: lateness first (older than watermark - allowedLatenessMs: not applied, returned
-- for the dead-letter topic, even if it is also a replay), then the offset check (at or below
-- the last applied offset of its source partition: a replay, skipped), then every tile. At the
-- end: the tiles, the offsets, the watermark, and the deletion of tiles no window or on-time
-- event can reach any more. Integers are summed exactly: Lua numbers are doubles, so a running
-- sum is flushed with HINCRBY before its magnitude could pass 2^53. Strings are compared byte
-- by byte, never with Lua's `<`, which follows the server's collation locale.

local key = KEYS[1]
local tonumber, floor, fmt, byte = tonumber, math.floor, string.format, string.byte
local TWO53 = 9007199254740992

local nAggs = #aggs
local at = 1
local stride = 4 + nCols
local nEvents = (#ARGV - at + 1) / stride

local function bytes_cmp(a, b)
  if a == b then return 0 end
  local la, lb = #a, #b
  for i = 1, math.min(la, lb) do
    local x, y = byte(a, i), byte(b, i)
    if x ~= y then return x < y and -1 or 1 end
  end
  return la < lb and -1 or 1
end

-- Canonical integer texts: sign, then length, then digits.
local function int_cmp(a, b)
  local an, bn = byte(a, 1) == 45, byte(b, 1) == 45
  if an ~= bn then return an and -1 or 1 end
  local r
  if #a ~= #b then r = #a < #b and -1 or 1 else r = bytes_cmp(a, b) end
  if an then return -r end
  return r
end

local function num_cmp(a, b)
  local x, y = tonumber(a), tonumber(b)
  if x == y then return 0 end
  return x < y and -1 or 1
end

local function hget(field)
  local v = redis.call('HGET', key, field)
  if v then return v end
  return nil
end

-- The watermark and the last applied offset of every source partition in the call, in one
-- HMGET (a call usually holds one partition's events).
local wmField = prefix .. '_wm'
local offFields, offsets, offsetTexts = {}, {}, {}
local reads = { wmField }
for e = 0, nEvents - 1 do
  local base = at + e * stride
  local field = prefix .. '_o:' .. ARGV[base + 1] .. ':' .. ARGV[base + 2]
  offFields[e] = field
  if offsets[field] == nil then
    offsets[field] = false
    reads[#reads + 1] = field
  end
end
local stored = redis.call('HMGET', key, unpack(reads))
local wm0 = stored[1] and tonumber(stored[1]) or nil
local wm = wm0
for i = 2, #reads do offsets[reads[i]] = tonumber(stored[i] or '-1') end

local ints, intMag, intOrder = {}, {}, {}
local floats, floatOrder = {}, {}
local extremes, extremeDirty = {}, {}
local lists, listOrder = {}, {}
local late = {}
local applied, duplicates = 0, 0
local minTs = nil

local function add_int(field, text)
  local v = tonumber(text)
  local m = math.abs(v)
  if m >= TWO53 then
    redis.call('HINCRBY', key, field, text)
    return
  end
  local cur = ints[field]
  if cur == nil then
    ints[field], intMag[field] = v, m
    intOrder[#intOrder + 1] = field
  elseif intMag[field] + m >= TWO53 then
    redis.call('HINCRBY', key, field, fmt('%d', cur))
    ints[field], intMag[field] = v, m
  else
    ints[field], intMag[field] = cur + v, intMag[field] + m
  end
end

local function add_float(field, text)
  local cur = floats[field]
  if cur == nil then
    floatOrder[#floatOrder + 1] = field
    cur = 0
  end
  floats[field] = cur + tonumber(text)
end

local function extreme(field, text, cmp, want)
  local cur = extremes[field]
  if cur == nil then cur = hget(field) or false end
  if cur == false or cmp(text, cur) == want then
    extremes[field] = text
    extremeDirty[field] = true
  else
    extremes[field] = cur
  end
end

-- Newest first: (eventTsMs, sourceTopic, partition, offset) descending.
local function newer(a, b)
  if a[1] ~= b[1] then return a[1] > b[1] end
  local c = bytes_cmp(a[2], b[2])
  if c ~= 0 then return c > 0 end
  if a[3] ~= b[3] then return a[3] > b[3] end
  return a[4] > b[4]
end

local function push_last(field, entry, n)
  local list = lists[field]
  if list == nil then
    local stored = hget(field)
    list = stored and cjson.decode(stored) or {}
    lists[field] = list
    listOrder[#listOrder + 1] = field
  end
  local pos = #list + 1
  for i = 1, #list do
    if newer(entry, list[i]) then
      pos = i
      break
    end
  end
  if pos > n then return end
  table.insert(list, pos, entry)
  while #list > n do table.remove(list) end
end

for e = 0, nEvents - 1 do
  local base = at + e * stride
  local ts = tonumber(ARGV[base])
  if wm ~= nil and ts < wm - lateness then
    late[#late + 1] = e + 1
  else
    local topic, part = ARGV[base + 1], ARGV[base + 2]
    local offField = offFields[e]
    local off = tonumber(ARGV[base + 3])
    if off <= offsets[offField] then
      duplicates = duplicates + 1
    else
      offsets[offField], offsetTexts[offField] = off, ARGV[base + 3]
      applied = applied + 1
      if wm == nil or ts > wm then wm = ts end
      if minTs == nil or ts < minTs then minTs = ts end
      for i = 1, nAggs do
        local a = aggs[i]
        local k = floor(ts / a.tile)
        a.touched[k] = true
        local field = a.name .. fmt('%d', k)
        local kind = a.kind
        if kind == 'count' then
          add_int(field, 1)
        else
          local text = ARGV[base + 3 + a.col]
          if text ~= '' then
            if kind == 'sumi' then
              add_int(field, text)
            elseif kind == 'sumf' then
              add_float(field, text)
            elseif kind == 'meani' or kind == 'meanf' then
              add_int(field .. ':c', 1)
              if kind == 'meani' then add_int(field .. ':s', text) else add_float(field .. ':s', text) end
            elseif kind == 'mini' then
              extreme(field, text, int_cmp, -1)
            elseif kind == 'maxi' then
              extreme(field, text, int_cmp, 1)
            elseif kind == 'minf' then
              extreme(field, text, num_cmp, -1)
            elseif kind == 'maxf' then
              extreme(field, text, num_cmp, 1)
            elseif kind == 'last_n' then
              push_last(field, { ts, topic, tonumber(part), off, text }, a.n)
            end
          end
        end
      end
    end
  end
end

local sets = {}
local function set(field, value)
  sets[#sets + 1] = field
  sets[#sets + 1] = value
  if #sets >= 1000 then
    redis.call('HSET', key, unpack(sets))
    sets = {}
  end
end

for _, field in ipairs(intOrder) do
  redis.call('HINCRBY', key, field, fmt('%d', ints[field]))
end
for _, field in ipairs(floatOrder) do
  redis.call('HINCRBYFLOAT', key, field, fmt('%.17g', floats[field]))
end
for field in pairs(extremeDirty) do set(field, extremes[field]) end
for _, field in ipairs(listOrder) do
  local parts = {}
  for i, entry in ipairs(lists[field]) do
    parts[i] = '[' .. fmt('%d', entry[1]) .. ',' .. cjson.encode(entry[2]) .. ',' ..
      fmt('%d', entry[3]) .. ',' .. fmt('%d', entry[4]) .. ',' .. cjson.encode(entry[5]) .. ']'
  end
  set(field, '[' .. table.concat(parts, ',') .. ']')
end
for field, text in pairs(offsetTexts) do set(field, text) end
if wm ~= nil and wm ~= wm0 then set(wmField, fmt('%d', wm)) end
if #sets > 0 then redis.call('HSET', key, unpack(sets)) end

-- Expiry: tiles with (k + 1) * tileMs <= wm - windowMs - allowedLatenessMs. Tiles older than
-- the previous call's limit are gone already and no on-time event can recreate them, so only
-- the tiles between the two limits (bounded by the tiles that can exist) and this call's own
-- tiles are looked at; both only when they can hold an expired tile.
if wm ~= nil and minTs ~= nil then
  local dels = {}
  local function del(a, k)
    if a.kind == 'meani' or a.kind == 'meanf' then
      dels[#dels + 1] = a.name .. fmt('%d', k) .. ':c'
      dels[#dels + 1] = a.name .. fmt('%d', k) .. ':s'
    else
      dels[#dels + 1] = a.name .. fmt('%d', k)
    end
    if #dels >= 1000 then
      redis.call('HDEL', key, unpack(dels))
      dels = {}
    end
  end
  for i = 1, nAggs do
    local a = aggs[i]
    local kNew = floor((wm - a.window - lateness) / a.tile) - 1
    local kOld, hi = nil, nil
    if wm0 ~= nil then
      kOld = floor((wm0 - a.window - lateness) / a.tile) - 1
      hi = math.min(kNew, floor(wm0 / a.tile))
      for k = kOld + 1, hi do del(a, k) end
    end
    if floor(minTs / a.tile) <= kNew then
      for k in pairs(a.touched) do
        if k <= kNew and not (kOld ~= nil and k > kOld and k <= hi) then del(a, k) end
      end
    end
  end
  if #dels > 0 then redis.call('HDEL', key, unpack(dels)) end
end

local reply = { applied, duplicates }
for _, position in ipairs(late) do reply[#reply + 1] = position end
return reply
