-- Compare-and-set of a retraining claim (shared/drift/retrain-trigger.ts).
-- KEYS[1]: the claim key. ARGV[1]: the value the caller read. ARGV[2]: the new value, or ""
-- to delete. Replaces (keeping the TTL: the cooldown runs from the first claim) or deletes
-- only if the stored value is still the one read; returns 1 if it did, 0 if another run
-- changed it first.
if redis.call("GET", KEYS[1]) ~= ARGV[1] then
  return 0
end
if ARGV[2] == "" then
  redis.call("DEL", KEYS[1])
else
  redis.call("SET", KEYS[1], ARGV[2], "KEEPTTL")
end
return 1
