import { readFileSync } from "node:fs";
import { show, StrataError } from "../../shared/errors.js";
import type { ApiKeyRecord } from "./auth.js";

/** Request limits: every one configurable, every default safe for an inference endpoint. */
export interface ServeLimits {
  /** Largest request body in bytes (STRATA_MAX_BODY_BYTES, default 1 MiB). */
  maxBodyBytes: number;
  /** Most entity rows in one request (STRATA_MAX_ENTITIES, default 1,000). */
  maxEntities: number;
  /** Most features in one request (STRATA_MAX_FEATURES, default 500). */
  maxFeatures: number;
  /** Redis must answer a read within this, or the request is answered 504 (STRATA_REQUEST_TIMEOUT_MS, default 2,000). */
  requestTimeoutMs: number;
}

export interface ServeConfig {
  host: string;
  /** Feast's feature server port by default. */
  port: number;
  /** Path of the feature repo module (a compiled .js, or .ts under tsx). */
  repoPath: string;
  redis: { url: string } | { clusterNodes: { host: string; port: number }[] };
  /** API keys by their SHA-256; null when auth is explicitly off (STRATA_AUTH=off). */
  apiKeys: ApiKeyRecord[] | null;
  limits: ServeLimits;
  /** Hot cache entries (STRATA_CACHE_ENTRIES, default 100,000); 0 turns entity caching off. */
  cacheEntries: number;
  /** How long SIGTERM waits for in-flight requests before closing connections (STRATA_SHUTDOWN_GRACE_MS, default 10,000). */
  shutdownGraceMs: number;
}

export const DEFAULT_LIMITS: ServeLimits = {
  maxBodyBytes: 1024 * 1024,
  maxEntities: 1_000,
  maxFeatures: 500,
  requestTimeoutMs: 2_000,
};

/**
 * Reads the serving configuration from the environment. Every bad value fails start-up
 * with STRATA_E_BAD_CONFIG naming the variable and what it accepts.
 */
export function loadServeConfig(env: NodeJS.ProcessEnv = process.env): ServeConfig {
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === "") return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      throw badConfig(name, raw, `an integer from ${min} to ${max}`);
    }
    return value;
  };
  const repoPath = env.STRATA_REPO;
  if (!repoPath) throw badConfig("STRATA_REPO", repoPath, "the path of the feature repo module");
  return {
    host: env.STRATA_HOST || "0.0.0.0",
    port: int("STRATA_PORT", 6566, 0, 65535),
    repoPath,
    redis: redisConfig(env),
    apiKeys: apiKeys(env),
    limits: {
      maxBodyBytes: int(
        "STRATA_MAX_BODY_BYTES",
        DEFAULT_LIMITS.maxBodyBytes,
        1_024,
        64 * 1024 * 1024,
      ),
      maxEntities: int("STRATA_MAX_ENTITIES", DEFAULT_LIMITS.maxEntities, 1, 100_000),
      maxFeatures: int("STRATA_MAX_FEATURES", DEFAULT_LIMITS.maxFeatures, 1, 10_000),
      requestTimeoutMs: int(
        "STRATA_REQUEST_TIMEOUT_MS",
        DEFAULT_LIMITS.requestTimeoutMs,
        10,
        600_000,
      ),
    },
    cacheEntries: int("STRATA_CACHE_ENTRIES", 100_000, 0, 50_000_000),
    shutdownGraceMs: int("STRATA_SHUTDOWN_GRACE_MS", 10_000, 0, 600_000),
  };
}

function redisConfig(env: NodeJS.ProcessEnv): ServeConfig["redis"] {
  if (env.REDIS_CLUSTER_NODES) {
    const nodes = env.REDIS_CLUSTER_NODES.split(",").map((item) => {
      const match = /^(.+):(\d+)$/.exec(item.trim());
      if (!match)
        throw badConfig("REDIS_CLUSTER_NODES", env.REDIS_CLUSTER_NODES, "host:port[,host:port...]");
      return { host: match[1]!.replace(/^\[|\]$/g, ""), port: Number(match[2]) };
    });
    return { clusterNodes: nodes };
  }
  const url = env.REDIS_URL;
  if (!url || !/^rediss?:\/\//.test(url)) {
    throw badConfig("REDIS_URL", url, "redis://host:port (or set REDIS_CLUSTER_NODES)");
  }
  return { url };
}

/**
 * API keys live in a JSON file (STRATA_API_KEYS_FILE) or variable (STRATA_API_KEYS), as
 * SHA-256 hashes only: `[{"id": "...", "sha256": "<64 hex>", "projects": [...], "featureServices": [...]}]`.
 * Auth is on unless STRATA_AUTH=off is set explicitly.
 */
function apiKeys(env: NodeJS.ProcessEnv): ApiKeyRecord[] | null {
  if (env.STRATA_AUTH === "off") return null;
  if (env.STRATA_AUTH !== undefined && env.STRATA_AUTH !== "on") {
    throw badConfig("STRATA_AUTH", env.STRATA_AUTH, '"on" (the default) or "off"');
  }
  let text = env.STRATA_API_KEYS;
  let source = "STRATA_API_KEYS";
  if (env.STRATA_API_KEYS_FILE) {
    source = "STRATA_API_KEYS_FILE";
    try {
      text = readFileSync(env.STRATA_API_KEYS_FILE, "utf8");
    } catch (error) {
      throw badConfig(
        source,
        env.STRATA_API_KEYS_FILE,
        `a readable file (${(error as Error).message})`,
      );
    }
  }
  if (!text) {
    throw badConfig(
      "STRATA_API_KEYS_FILE",
      undefined,
      "a JSON file of API key hashes (or STRATA_AUTH=off to serve without auth)",
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw badConfig(source, "(not JSON)", "a JSON array of API key records");
  }
  if (!Array.isArray(parsed) || parsed.length === 0)
    throw badConfig(source, parsed, "a non-empty JSON array");
  return parsed.map((record: Partial<ApiKeyRecord>, i) => {
    if (
      typeof record?.id !== "string" ||
      typeof record.sha256 !== "string" ||
      !/^[0-9a-f]{64}$/.test(record.sha256)
    ) {
      throw badConfig(
        `${source}[${i}]`,
        record,
        'an object with "id" and "sha256" (64 lowercase hex digits)',
      );
    }
    for (const list of ["projects", "featureServices"] as const) {
      const value = record[list];
      if (
        value !== undefined &&
        !(Array.isArray(value) && value.every((v) => typeof v === "string"))
      ) {
        throw badConfig(`${source}[${i}].${list}`, value, "a list of names");
      }
    }
    return {
      id: record.id,
      sha256: record.sha256,
      projects: record.projects,
      featureServices: record.featureServices,
    };
  });
}

function badConfig(variable: string, value: unknown, wanted: string): StrataError {
  return new StrataError(
    "STRATA_E_BAD_CONFIG",
    `${variable} is ${show(value)}; it must be ${wanted}`,
    { variable },
  );
}
