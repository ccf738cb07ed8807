-- cas-write.lua: compare-and-swap writes of rows, one row per key. Each row writes the
-- features its shape names of one (entity, view@major, generation) atomically, only when its
-- incoming version is strictly greater than the stored one.
--
-- One call carries a group of rows (the client sends a few dozen per call: a command per row
-- made the consumer spend much of its time building commands; see
-- shared/online-store/cas-calls.ts). On Redis Cluster every key of a call lies in one hash
-- slot; the client groups rows by slot.
--
-- KEYS[i]  row i's entity hash: fs:{<project>:<entities>:<encoded key>}
-- ARGV     the call's shapes, then its rows. A shape is the hash fields of one view major,
--          generation and set of features, sent once per call however many of its rows the
--          call holds:
--            s        how many shapes follow
--            per shape: m (its feature count), its version field "<view>@<major>#<gen>:_v",
--                     its clock field "<view>@<major>#<gen>:_cv", then its m feature fields
--                     (already prefixed by the client, so the script only passes them on).
--                     A delete shape sends -m: its rows carry no values, and a row that wins
--                     stores its version and clock and removes (HDEL) the m feature fields,
--                     so reads find the row's version but no value (NOT_FOUND), and an older
--                     write still loses against the stored version (no resurrection).
--          then per row, in KEYS order:
--            the row's shape number (1 for the first shape)
--            incoming version (see shared/versions/version.ts): 12 hex event ms, 8 hex epoch,
--            12 hex HLC wall ms, 4 hex HLC counter, then the origin region (ASCII)
--            incoming clock vector "region:hlc16hex,..." sorted by region (what the writer had seen)
--            the shape's m encoded values, in its feature order (none for a delete shape)
--
-- Returns one code per row, in KEYS order: 1 applied, 0 stale (older or duplicate); +2 when
-- the write was concurrent with the stored winner (see below): 3 concurrent and applied, 2
-- concurrent and stale; 4 when the row's stored version or clock is corrupt (not a form this
-- script writes): that row is left as it is and the rest of the call applies. A malformed call
-- fails as a whole, and every row's stored state is checked before anything is written, so a
-- call never stops half-way.
--
-- A row may write any subset of its view's features (a shape per subset): the fields it does
-- not name are left as they are. The changelog consumer relies on this while a view's minor
-- versions roll out: a record of the other minor carries a feature more or one less.
--
-- Concurrency: the stored clock field keeps the clock vector of the stored winner, what its
-- writer had seen from each origin region. A write is concurrent with the stored winner when
-- neither knew of the other: the write's vector holds less than the winner's HLC for the
-- winner's region, and the winner's vector less than the write's HLC for the write's region.
-- Only the winner's own entry matters, never the rest of either vector, so a sequential chain
-- of writes across regions is never concurrent however many regions wrote the key before.
--
-- Comparisons are numeric on fixed-width hex chunks and bytewise on region names, never
-- Lua's string `<`, which follows the server's collation locale.

local sub, byte, find, tonumber = string.sub, string.byte, string.find, tonumber

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

-- The forms the client sends and this script stores (shared/versions/version.ts and
-- clock-vector.ts). Anything else in a stored field was not written by this script (a manual
-- HSET, a bug elsewhere): comparing it would raise half-way through a call.
local REGION = '[a-z0-9][a-z0-9%-]*'
local VERSION_FORM = '^' .. string.rep('[0-9a-f]', 36) .. REGION .. '$'
local ENTRY_FORM = '^' .. REGION .. ':' .. string.rep('[0-9a-f]', 16) .. '$'
local MAX_REGION = 63

local function valid_version(text)
  return #text <= 36 + MAX_REGION and find(text, VERSION_FORM) ~= nil
end

local function valid_clock(text)
  if text == '' then return false end
  local first = 1
  while true do
    local comma = find(text, ',', first, true)
    local entry = sub(text, first, (comma or 0) - 1)
    if #entry > MAX_REGION + 17 or not find(entry, ENTRY_FORM) then return false end
    if not comma then return true end
    first = comma + 1
  end
end

-- Whether the clock vector `clock` holds at least `hlc` (16 hex digits) for `region`.
local function knows(clock, region, hlc)
  local text = ',' .. clock
  local at = find(text, ',' .. region .. ':', 1, true)
  if not at then return false end
  local from = at + #region + 2
  return hex_cmp(sub(text, from, from + 15), hlc, 1, 16) >= 0
end

-- Writes one row of `shape` over the stored version and clock (false when absent); its
-- arguments start at ARGV[at] (its shape number).
local function cas_row(key, shape, at, stored_version, stored_clock)
  local incoming, incoming_clock = ARGV[at + 1], ARGV[at + 2]

  -- 1. Order: (event ms, epoch, HLC) as 36 fixed-width hex digits, then the region.
  local newer, concurrent = true, false
  if stored_version then
    local order = hex_cmp(incoming, stored_version, 1, 36)
    local incoming_region, stored_region = sub(incoming, 37), sub(stored_version, 37)
    if order == 0 then order = bytes_cmp(incoming_region, stored_region) end
    newer = order > 0
    -- 2. Concurrency: neither the write nor the stored winner knew of the other. Writes of
    -- one origin region are ordered by its HLC, so never concurrent; a duplicate neither.
    if incoming_region ~= stored_region then
      concurrent = not knows(incoming_clock, stored_region, sub(stored_version, 21, 36))
        and not (stored_clock and knows(stored_clock, incoming_region, sub(incoming, 21, 36)))
    end
  end

  if newer and shape.delete then
    redis.call('HSET', key, shape.version, incoming, shape.clock, incoming_clock)
    if shape.m > 0 then redis.call('HDEL', key, unpack(shape.fields)) end
  elseif newer then
    -- The shape's HSET arguments, field names in place: only this row's slots change.
    local args, values = shape.hset, at + 3
    args[2], args[4] = incoming, incoming_clock
    for j = 0, shape.m - 1 do
      args[6 + 2 * j] = ARGV[values + j]
    end
    redis.call('HSET', key, unpack(args))
  end

  return (newer and 1 or 0) + (concurrent and 2 or 0)
end

local CORRUPT = 4

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
  local delete = m ~= nil and m < 0
  if delete then m = -m end
  if not m or m % 1 ~= 0 or at + 2 + m > #ARGV then
    return malformed('shape ' .. k .. ' is malformed')
  end
  -- HSET's arguments for the shape's rows, built once and reused by each of them (a fresh
  -- table per row is allocation Redis pays on every row): field names now, values per row.
  local hset = { ARGV[at + 1], false, ARGV[at + 2], false }
  for j = 0, m - 1 do
    hset[5 + 2 * j], hset[6 + 2 * j] = ARGV[at + 3 + j], false
  end
  local fields = {}
  if delete then
    for j = 0, m - 1 do fields[j + 1] = ARGV[at + 3 + j] end
  end
  -- values: how many values each of the shape's rows carries.
  shapes[k] = { m = m, values = delete and 0 or m, delete = delete, fields = fields,
                version = ARGV[at + 1], clock = ARGV[at + 2], hset = hset }
  at = at + 3 + m
end
local row_shape, row_at = {}, {}
for i = 1, #KEYS do
  local shape = shapes[tonumber(ARGV[at])]
  if not shape or at + 2 + shape.values > #ARGV then
    return malformed('row ' .. i .. ' names no shape or lacks arguments')
  end
  if not valid_version(ARGV[at + 1]) or not valid_clock(ARGV[at + 2]) then
    return malformed('row ' .. i .. ' has a malformed version or clock vector')
  end
  row_shape[i], row_at[i] = shape, at
  at = at + 3 + shape.values
end
if at ~= #ARGV + 1 then
  return malformed((#ARGV + 1 - at) .. ' arguments after the last row')
end

-- Every row's stored state is read and checked before the first write: a corrupt row is
-- answered CORRUPT and left alone, the others apply, and nothing stops half-way.
local codes, stored_versions, stored_clocks = {}, {}, {}
for i = 1, #KEYS do
  local shape = row_shape[i]
  local stored = redis.call('HMGET', KEYS[i], shape.version, shape.clock)
  local version, clock = stored[1], stored[2]
  if (version and not valid_version(version)) or (clock and not valid_clock(clock)) then
    codes[i] = CORRUPT
  else
    stored_versions[i], stored_clocks[i] = version, clock
  end
end

-- A later row of the same key and view (a batch writing a key twice) compares with what an
-- earlier row of this call wrote, not with what was read above.
local written = {}
for i = 1, #KEYS do
  if not codes[i] then
    local shape, row = row_shape[i], row_at[i]
    local id = KEYS[i] .. '\n' .. shape.version
    local version, clock = stored_versions[i], stored_clocks[i]
    local latest = written[id]
    if latest then version, clock = latest[1], latest[2] end
    local code = cas_row(KEYS[i], shape, row, version, clock)
    if code % 2 == 1 then written[id] = { ARGV[row + 1], ARGV[row + 2] } end
    codes[i] = code
  end
end
return codes
