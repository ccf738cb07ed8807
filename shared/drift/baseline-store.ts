import { StrataError, show } from "../errors.js";
import type { RedisClient } from "../online-store/pipeline.js";
import { parseBaseline, type DriftBaseline } from "./baseline.js";

/**
 * Where baselines live: each region's Redis, in the project's metadata slot (like the
 * generation pointers), because the processes that use them (serving, the drift function)
 * follow the published registry and have no feature repo on disk.
 * - `fs:{<project>}:drift:baseline:<featureService>:<baselineVersion>`: the baseline's JSON,
 *   immutable (content-addressed: its version is a hash of its content)
 * - `fs:{<project>}:drift:active`: hash, feature service -> the baseline version in force
 * One hash slot, so publishing both is one MULTI on a Redis Cluster too.
 */
export function baselineKey(project: string, featureService: string, version: string): string {
  return `fs:{${project}}:drift:baseline:${featureService}:${version}`;
}

export function activeBaselinesKey(project: string): string {
  return `fs:{${project}}:drift:active`;
}

/**
 * Stores a baseline and makes it the one in force for its feature service, atomically.
 * Publishing the same baseline again changes nothing; publishing another replaces the pointer
 * (the old body stays, so a roll-back is a publish of the old version).
 */
export async function publishBaseline(redis: RedisClient, baseline: DriftBaseline): Promise<void> {
  const { project, featureService, baselineVersion } = baseline;
  const results = await redis
    .multi()
    .set(baselineKey(project, featureService, baselineVersion), JSON.stringify(baseline), "NX")
    .hset(activeBaselinesKey(project), featureService, baselineVersion)
    .exec();
  const failed = results?.find(([error]) => error);
  if (!results || failed) {
    throw new StrataError(
      "STRATA_E_REDIS_UNAVAILABLE",
      `publishing baseline ${baselineVersion} of ${show(featureService)} failed: ${failed?.[0]?.message ?? "transaction aborted"}`,
      { project, feature_service: featureService },
    );
  }
}

/** One stored baseline by version, or throws STRATA_E_NO_BASELINE. */
export async function loadBaseline(
  redis: RedisClient,
  project: string,
  featureService: string,
  version: string,
): Promise<DriftBaseline> {
  const key = baselineKey(project, featureService, version);
  const text = await redis.get(key);
  if (text === null) {
    throw new StrataError(
      "STRATA_E_NO_BASELINE",
      `no baseline ${show(version)} is stored for feature service ${show(featureService)}`,
      { project, feature_service: featureService, baseline: version },
    );
  }
  return parseStored(text, key);
}

/**
 * The baselines in force, one per feature service, optionally only for the given services
 * (a service without one is left out; the caller decides whether that is an error).
 */
export async function loadActiveBaselines(
  redis: RedisClient,
  project: string,
  featureServices?: readonly string[],
): Promise<DriftBaseline[]> {
  const active = await redis.hgetall(activeBaselinesKey(project));
  const wanted = Object.entries(active)
    .filter(([service]) => !featureServices || featureServices.includes(service))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (wanted.length === 0) return [];
  const keys = wanted.map(([service, version]) => baselineKey(project, service, version));
  const texts = await redis.mget(keys);
  return texts.flatMap((text, i) => {
    if (text === null) {
      throw new StrataError(
        "STRATA_E_NO_BASELINE",
        `the active baseline of ${show(wanted[i]![0])} (${wanted[i]![1]}) is not stored`,
        { project, feature_service: wanted[i]![0], baseline: wanted[i]![1] },
      );
    }
    return [parseStored(text, keys[i]!)];
  });
}

function parseStored(text: string, key: string): DriftBaseline {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new StrataError("STRATA_E_BAD_BASELINE", `${key} is not JSON`, { key });
  }
  return parseBaseline(json, key);
}
