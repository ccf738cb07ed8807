-- backfill-lease.lua: the lease of one view major's backfill coordinator
-- (shared/backfill/lease.ts). Two coordinators of one view never both hold it.
--
-- KEYS[1]  fs:{<project>}:backfill:lease:<view>@<major>
-- ARGV[1]  the caller's owner token
-- ARGV[2]  acquire | renew | release
-- ARGV[3]  time to live in ms (acquire, renew)
--
-- acquire: takes a free lease, or extends the caller's own; answers {1, token} or, when
--          another owner holds it, {0, holder, remaining ms}.
-- renew:   extends the caller's own lease; {1} or {0, holder or "", remaining ms}.
-- release: deletes the caller's own lease, never another's; {1} or {0}.
local holder = redis.call('GET', KEYS[1])
local op = ARGV[2]
if op == 'acquire' then
  if not holder then
    redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
    return {1, ARGV[1]}
  end
  if holder == ARGV[1] then
    redis.call('PEXPIRE', KEYS[1], ARGV[3])
    return {1, ARGV[1]}
  end
  return {0, holder, redis.call('PTTL', KEYS[1])}
elseif op == 'renew' then
  if holder == ARGV[1] then
    redis.call('PEXPIRE', KEYS[1], ARGV[3])
    return {1}
  end
  return {0, holder or '', redis.call('PTTL', KEYS[1])}
elseif op == 'release' then
  if holder == ARGV[1] then
    redis.call('DEL', KEYS[1])
    return {1}
  end
  return {0}
end
return redis.error_reply('ERR backfill-lease: unknown operation ' .. tostring(op))
