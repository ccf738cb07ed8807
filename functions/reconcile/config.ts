import {
  badConfig,
  EnvReader,
  type KafkaAccess,
  type RedisAddress,
  type RegistrySourceConfig,
} from "../../shared/config/env.js";
import { parseRedisTarget } from "../ingest/redis-target.js";

/** One region to compare: its name and its Redis. */
export interface RegionTarget {
  name: string;
  address: RedisAddress;
}

export interface ReconcileConfig {
  /**
   * The views to compare: the feature repo file STRATA_REPO, else the registry published for
   * STRATA_PROJECT (read once from KAFKA_*), as serving and the consumer choose theirs.
   */
  registry: RegistrySourceConfig;
  /** STRATA_RECONCILE_REGIONS: two or more `name=target`; the first is the reference. */
  regions: RegionTarget[];
  /** The changelog to re-publish into (KAFKA_*: the local region's); none: nothing can be repaired. */
  kafka: KafkaAccess | undefined;
  /** STRATA_REGION: names this job's Kafka client. */
  region: string;
  /** STRATA_RECONCILE_CHECK_CHANGELOG=on: also close the compaction gap (reads the whole changelog). */
  checkChangelog: boolean;
  /** STRATA_RECONCILE_VERIFY_MS: wait up to this long for regions to apply the re-published winners. */
  verifyMs: number;
  /** STRATA_RECONCILE_DRY_RUN=on: report, re-publish nothing. */
  dryRun: boolean;
  /** STRATA_RECONCILE_VIEWS: `view@major,...` to compare; all when unset. */
  views: string[] | undefined;
  /** STRATA_MAX_EVENT_TIME_SKEW_MS, as consumers apply it: winners beyond it are not re-published. */
  maxEventTimeSkewMs: number;
}

/** The job's configuration from the environment (docs/changelog.md, "Reconciliation"). */
export function loadReconcileConfig(env: NodeJS.ProcessEnv = process.env): ReconcileConfig {
  const read = new EnvReader(env);
  const regions = readRegionTargets(read, "STRATA_RECONCILE_REGIONS", 2);
  const views = read.get("STRATA_RECONCILE_VIEWS");
  const kafka = read.kafka(false);
  const checkChangelog = onOff(read, "STRATA_RECONCILE_CHECK_CHANGELOG");
  if (checkChangelog && !kafka) {
    throw badConfig("KAFKA_BROKERS", undefined, "set: the changelog check reads the changelog");
  }
  return {
    registry: read.registrySource(kafka),
    regions,
    kafka,
    region: read.region(),
    checkChangelog,
    verifyMs: read.int("STRATA_RECONCILE_VERIFY_MS", 0, 0, 3_600_000),
    dryRun: onOff(read, "STRATA_RECONCILE_DRY_RUN"),
    views: views?.split(",").map((v) => v.trim()),
    maxEventTimeSkewMs: read.maxEventTimeSkewMs(),
  };
}

/**
 * A list of regions' Redis from one variable (STRATA_RECONCILE_REGIONS, or serving's
 * STRATA_PEER_REDIS), reached with this process' REDIS_USERNAME, REDIS_PASSWORD and REDIS_TLS.
 * `minimum` 0: the variable is optional (unset: no regions), and names at least one when set.
 */
export function readRegionTargets(
  read: EnvReader,
  variable: string,
  minimum: number,
): RegionTarget[] {
  const wanted = `${minimum < 2 ? "one" : "two"} or more name=redis://host:port or name=cluster://host:port,host:port, separated by spaces or ';'`;
  const text = minimum === 0 ? read.get(variable) : read.required(variable, wanted);
  if (text === undefined) return [];
  return parseRegions(
    text,
    variable,
    {
      username: read.get("REDIS_USERNAME"),
      password: read.get("REDIS_PASSWORD"),
      // A cluster:// target has no TLS form of its own: REDIS_TLS=on is the only way to reach
      // a TLS-only cluster (every deployed region's), so it applies to every region, like the
      // credentials.
      tls: onOff(read, "REDIS_TLS") ? tlsWithCa(read.get("REDIS_TLS_CA_FILE")) : undefined,
    },
    Math.max(1, minimum),
  );
}

/**
 * `name=target` items separated by whitespace or ';' (a cluster target has commas of its own).
 * Region names follow version origins: lowercase letters, digits and '-'. At least `minimum`
 * regions (two, to compare), all named differently.
 */
export function parseRegions(
  text: string,
  variable: string,
  shared: { username?: string; password?: string; tls?: { caFile?: string } } = {},
  minimum = 2,
): RegionTarget[] {
  const { tls, ...credentials } = shared;
  const items = text.split(/[\s;]+/).filter((item) => item !== "");
  const regions = items.map((item) => {
    const match = /^([a-z0-9][a-z0-9-]{0,62})=(.+)$/.exec(item);
    if (!match)
      throw badConfig(variable, item, "name=redis://host:port or name=cluster://host:port,...");
    const address = parseRedisTarget(match[2]!);
    if (tls) address.tls = tls;
    else if ("url" in address && address.url.startsWith("rediss://")) address.tls = {};
    return { name: match[1]!, address: { ...address, ...withoutUndefined(credentials) } };
  });
  const names = new Set(regions.map((r) => r.name));
  if (regions.length < minimum || names.size !== regions.length) {
    throw badConfig(
      variable,
      text,
      `at least ${minimum === 1 ? "one region" : `${minimum} regions`} with different names`,
    );
  }
  return regions;
}

function onOff(read: EnvReader, name: string): boolean {
  const value = read.get(name);
  if (value === undefined || value === "off") return false;
  if (value === "on") return true;
  throw badConfig(name, value, '"on" or "off"');
}

function tlsWithCa(caFile: string | undefined): { caFile?: string } {
  return caFile === undefined ? {} : { caFile };
}

function withoutUndefined(o: { username?: string; password?: string }) {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}
