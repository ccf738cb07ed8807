import { parseRedisTarget } from "../functions/ingest/redis-target.js";
import { CLOUDS, StackConfigError, type Cloud } from "./config.js";

/**
 * The other regions of the deployment (`strata:peers`): this region replicates every peer's
 * changelog into its own Kafka, and its reconcile job compares every peer's Redis with its own.
 * Network reachability to each peer's Kafka and Redis (peering, VPN, private links, firewalls,
 * TLS) is the user's; these settings only say where the peer is and how to log in.
 */
export const PEER_AUTH = ["msk-iam", "scram-sha-512", "event-hubs", "mtls"] as const;
export type PeerAuth = (typeof PEER_AUTH)[number];

export interface PeerRegion {
  /** The peer's Strata region name (its `strata:region`): the prefix of its replicated topics. */
  region: string;
  cloud: Cloud;
  /** host:port[,host:port] of the peer's Kafka, reachable from this region, TLS. */
  bootstrap: string;
  /**
   * The peer's Redis as this region's reconcile job reaches it: `redis://host:port`,
   * `rediss://host:port` or `cluster://host:port[,host:port]` (a STRATA_RECONCILE_REGIONS target).
   */
  redis: string;
  /**
   * How the replicator logs in: `msk-iam` (an MSK peer, from an AWS region), `scram-sha-512`
   * (with `username`), `event-hubs` (SASL PLAIN with a connection string) or `mtls` (a client
   * certificate). The secret half is never here: `strata:peerCredentials-<region>` (secret).
   */
  auth: PeerAuth;
  /** The peer's MSK cluster ARN (`msk-iam`). */
  clusterArn?: string;
  /** The peer's MSK client subnets (`msk-iam`): MSK Replicator attaches to the source there. */
  subnetIds?: string[];
  /** The SCRAM user (`scram-sha-512`). */
  username?: string;
  /** PEM of the CA that signed the peer's broker certificates, when it is not a public CA. */
  caCertificate?: string;
}

/** Every 15 minutes: frequent enough to bound divergence, rare enough to cost little. */
export const DEFAULT_RECONCILE_SCHEDULE = "*/15 * * * *";

const NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
const BOOTSTRAP = /^[A-Za-z0-9.-]+:\d{1,5}(,[A-Za-z0-9.-]+:\d{1,5})*$/;
const PEER_KEYS = new Set([
  "region",
  "cloud",
  "bootstrap",
  "redis",
  "auth",
  "clusterArn",
  "subnetIds",
  "username",
  "caCertificate",
]);
/** Default login per peer cloud: what each region's own Kafka offers. */
const DEFAULT_AUTH: Record<Cloud, PeerAuth> = {
  aws: "msk-iam",
  azure: "event-hubs",
  kubernetes: "mtls",
};

/** The secret config key holding a peer's credential (password, connection string or key pair). */
export function peerCredentialsKey(peer: string): string {
  return `peerCredentials-${peer}`;
}

/** Whether logging in to the peer needs a secret: all but MSK IAM (the task role signs). */
export function needsCredentials(peer: PeerRegion): boolean {
  return peer.auth !== "msk-iam";
}

/**
 * MSK Replicator when both ends are MSK with IAM (it requires that), else MirrorMaker 2.
 * Only an AWS region's stack can declare the replicator: it runs in the target's account.
 */
export function usesMskReplicator(cloud: Cloud, peer: PeerRegion): boolean {
  return cloud === "aws" && peer.auth === "msk-iam";
}

export function parsePeers(value: unknown, region: string, cloud: Cloud): PeerRegion[] {
  if (value === undefined) return [];
  let list: unknown = value;
  if (typeof list === "string") {
    try {
      list = JSON.parse(list);
    } catch {
      // Reported below as not a list.
    }
  }
  if (!Array.isArray(list)) {
    throw new StackConfigError(
      "peers",
      `is ${JSON.stringify(value)}; it must be a list of peer regions (see Pulumi.aws-eu-west-1.yaml)`,
    );
  }
  const seen = new Set<string>();
  return list.map((item: unknown, i) => {
    const key = (field: string) => `peers[${i}].${field}`;
    if (typeof item !== "object" || item === null || Array.isArray(item)) {
      throw new StackConfigError(`peers[${i}]`, `is ${JSON.stringify(item)}; it must be an object`);
    }
    const raw = item as Record<string, unknown>;
    const peerRegion = raw.region;
    if (typeof peerRegion !== "string" || !NAME.test(peerRegion)) {
      throw new StackConfigError(
        key("region"),
        `is ${show(peerRegion)}; it must be the peer's region name (lowercase letters, digits, '-')`,
      );
    }
    for (const field of Object.keys(raw)) {
      if (!PEER_KEYS.has(field)) {
        throw new StackConfigError(
          key(field),
          `is not a peer setting; credentials never go in plain config: set the secret strata:${peerCredentialsKey(peerRegion)}`,
        );
      }
    }
    if (peerRegion === region) {
      throw new StackConfigError(
        key("region"),
        `is "${peerRegion}", this stack's own region; a region does not replicate from itself`,
      );
    }
    if (seen.has(peerRegion)) {
      throw new StackConfigError(key("region"), `is "${peerRegion}" again; each peer once`);
    }
    seen.add(peerRegion);
    const peerCloud = raw.cloud;
    if (typeof peerCloud !== "string" || !(CLOUDS as readonly string[]).includes(peerCloud)) {
      throw new StackConfigError(
        key("cloud"),
        `is ${show(peerCloud)}; it must be one of: ${CLOUDS.join(", ")}`,
      );
    }
    const bootstrap = raw.bootstrap;
    if (typeof bootstrap !== "string" || !BOOTSTRAP.test(bootstrap)) {
      throw new StackConfigError(
        key("bootstrap"),
        `is ${show(bootstrap)}; it must be the peer's Kafka address, host:port[,host:port], reachable from this region`,
      );
    }
    const redis = peerRedis(raw.redis, key("redis"));
    const auth = raw.auth ?? DEFAULT_AUTH[peerCloud as Cloud];
    if (typeof auth !== "string" || !(PEER_AUTH as readonly string[]).includes(auth)) {
      throw new StackConfigError(
        key("auth"),
        `is ${show(auth)}; it must be one of: ${PEER_AUTH.join(", ")}`,
      );
    }
    const peer: PeerRegion = {
      region: peerRegion,
      cloud: peerCloud as Cloud,
      bootstrap,
      redis,
      auth: auth as PeerAuth,
    };
    if (peer.auth === "msk-iam") {
      if (peer.cloud !== "aws" || cloud !== "aws") {
        throw new StackConfigError(
          key("auth"),
          `is "msk-iam"; IAM reaches an MSK peer from an AWS region only: give the peer a SCRAM or mTLS listener`,
        );
      }
      if (
        typeof raw.clusterArn !== "string" ||
        !/^arn:aws[\w-]*:kafka:[^:]+:\d{12}:cluster\/[^/]+\/[^/]+$/.test(raw.clusterArn)
      ) {
        throw new StackConfigError(
          key("clusterArn"),
          `is ${show(raw.clusterArn)}; an MSK peer needs its cluster ARN (arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid>)`,
        );
      }
      peer.clusterArn = raw.clusterArn;
      const subnets = raw.subnetIds;
      if (
        !Array.isArray(subnets) ||
        subnets.length < 2 ||
        !subnets.every((s) => typeof s === "string" && /^subnet-[0-9a-f]+$/.test(s))
      ) {
        throw new StackConfigError(
          key("subnetIds"),
          `is ${show(subnets)}; an MSK peer needs at least two of its client subnet ids (subnet-...)`,
        );
      }
      peer.subnetIds = subnets as string[];
    }
    if (peer.auth === "event-hubs" && peer.cloud !== "azure") {
      throw new StackConfigError(key("auth"), `is "event-hubs"; only an Azure peer speaks it`);
    }
    if (peer.auth === "scram-sha-512") {
      if (typeof raw.username !== "string" || !/^\S+$/.test(raw.username)) {
        throw new StackConfigError(
          key("username"),
          `is ${show(raw.username)}; SCRAM needs the user name (its password is the secret strata:${peerCredentialsKey(peerRegion)})`,
        );
      }
      peer.username = raw.username;
    }
    if (raw.caCertificate !== undefined) {
      if (
        typeof raw.caCertificate !== "string" ||
        !raw.caCertificate.includes("-----BEGIN CERTIFICATE-----")
      ) {
        throw new StackConfigError(
          key("caCertificate"),
          `is not a PEM certificate; it must be the CA that signed the peer's brokers`,
        );
      }
      peer.caCertificate = raw.caCertificate;
    }
    // A Strimzi cluster's brokers are signed by its own cluster CA, which nothing trusts by default.
    if (peer.cloud === "kubernetes" && peer.caCertificate === undefined) {
      throw new StackConfigError(
        key("caCertificate"),
        `is missing; a Kubernetes peer's brokers are signed by its Strimzi cluster CA (<cluster>-cluster-ca-cert, ca.crt)`,
      );
    }
    return peer;
  });
}

/**
 * `strata:reconcileSchedule`: five-field cron in UTC, limited to what EventBridge, Container
 * Apps jobs and CronJobs all read the same way: minute and hour are `*`, `*\/n`, a number or a
 * list of numbers; day of month, month and day of week are `*`.
 */
export function parseReconcileSchedule(value: unknown): string {
  return parseCronSchedule("reconcileSchedule", value, DEFAULT_RECONCILE_SCHEDULE);
}

/**
 * A five-field UTC cron that EventBridge Scheduler, Azure's NCRONTAB and Kubernetes read the
 * same way: minute and hour are `*`, `*\/n`, a number or a list, the other fields `*`.
 */
export function parseCronSchedule(key: string, value: unknown, fallback: string): string {
  if (value === undefined) return fallback;
  const wanted =
    'five-field cron in UTC whose minute and hour are *, */n, a number or a list (e.g. "*/15 * * * *", "5 3 * * *"), with * for day, month and weekday';
  if (typeof value !== "string") {
    throw new StackConfigError(key, `is ${show(value)}; it must be ${wanted}`);
  }
  const fields = value.trim().split(/\s+/);
  const ok =
    fields.length === 5 &&
    cronField(fields[0]!, 59) &&
    cronField(fields[1]!, 23) &&
    fields.slice(2).every((f) => f === "*");
  if (!ok) throw new StackConfigError(key, `is "${value}"; it must be ${wanted}`);
  return fields.join(" ");
}

function cronField(field: string, max: number): boolean {
  if (field === "*") return true;
  const step = /^\*\/(\d+)$/.exec(field);
  if (step) return Number(step[1]) >= 1 && Number(step[1]) <= max;
  return field.split(",").every((n) => /^\d{1,2}$/.test(n) && Number(n) <= max);
}

/** The same schedule as EventBridge reads it: `cron(min hour day month weekday year)`. */
export function eventBridgeSchedule(cron: string): string {
  const [minute, hour] = cron.split(" ").map((f) => f.replace(/^\*\//, "0/"));
  return `cron(${minute} ${hour} * * ? *)`;
}

/** The same schedule as an Azure Functions timer reads it (NCRONTAB: seconds first). */
export function ncrontabSchedule(cron: string): string {
  return `0 ${cron}`;
}

/** One half of an mTLS credential (`{"certificate": PEM, "key": PEM}`), refused when absent. */
export function pemHalf(json: string, half: "certificate" | "key", peer: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    parsed = undefined;
  }
  const value = (parsed as Record<string, unknown> | undefined)?.[half];
  if (typeof value !== "string" || !value.includes("-----BEGIN")) {
    throw new Error(
      `strata:peerCredentials-${peer} must be JSON {"certificate": PEM, "key": PEM} for an mtls peer; its ${half} is missing`,
    );
  }
  return value;
}

/**
 * A peer's Redis, parsed as the reconcile job parses STRATA_RECONCILE_REGIONS targets. Items of
 * that variable are separated by spaces or ';', and credentials never go in plain config: the
 * job logs in to every region with its own REDIS_USERNAME / REDIS_PASSWORD.
 */
function peerRedis(value: unknown, key: string): string {
  const wanted = `it must be the peer's Redis as this region's reconcile job reaches it: redis://host:port, rediss://host:port or cluster://host:port[,host:port]`;
  if (typeof value === "string" && value.includes("@")) {
    throw new StackConfigError(
      key,
      `holds credentials; the reconcile job logs in to every region with this region's REDIS_USERNAME / REDIS_PASSWORD (docs/deploy.md)`,
    );
  }
  let host: string | undefined;
  try {
    if (typeof value === "string" && !/[\s;]/.test(value)) {
      const target = parseRedisTarget(value);
      host = "url" in target ? new URL(target.url).hostname : target.clusterNodes[0]?.host;
    }
  } catch {
    host = undefined;
  }
  if (!host) throw new StackConfigError(key, `is ${show(value)}; ${wanted}`);
  return value as string;
}

function show(value: unknown): string {
  return value === undefined ? "missing" : JSON.stringify(value);
}
