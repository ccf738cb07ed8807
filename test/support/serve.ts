// A serving tier over the real Redis of the local stack (or a test-owned one), in this
// process, with a freshly generated API key.
import { resolveEndpoints } from "../../dev/stack/endpoints.js";
import type { RedisAddress } from "../../shared/config/env.js";
import type { FeatureRegistry, LiveRegistry } from "../../shared/registry/index.js";
import { generateApiKey, type ApiKeyRecord } from "../../functions/serve/auth.js";
import {
  DEFAULT_LIMITS,
  type ServeChangelogConfig,
  type ServeConfig,
  type ServeLimits,
} from "../../functions/serve/config.js";
import { startHttpServer, type RunningServer } from "../../functions/serve/http-server.js";
import { createServeRuntime, type ServeRuntime } from "../../functions/serve/runtime.js";

export interface TestServer {
  /** The feature API. */
  url: string;
  /** /health, /ready and /metrics. */
  adminUrl: string;
  key: string;
  runtime: ServeRuntime;
  server: RunningServer;
  errors: unknown[];
  close: () => Promise<void>;
}

export async function startTestServer(
  registry: FeatureRegistry | LiveRegistry,
  options: {
    redisUrl?: string;
    /** The Redis to serve from, any topology (a cluster's seed nodes); overrides redisUrl. */
    redis?: RedisAddress;
    limits?: Partial<ServeLimits>;
    extraKeys?: ApiKeyRecord[];
    cacheEntries?: number;
    cacheMaxBytes?: number;
    changelog?: ServeChangelogConfig;
  } = {},
): Promise<TestServer> {
  const { key, record } = generateApiKey("test-admin");
  const config: ServeConfig = {
    host: "127.0.0.1",
    port: 0,
    admin: { host: "127.0.0.1", port: 0 },
    registry: { kind: "file", path: "(in process)" },
    redis: options.redis ?? { url: options.redisUrl ?? resolveEndpoints().redis.address },
    apiKeys: [record, ...(options.extraKeys ?? [])],
    limits: { ...DEFAULT_LIMITS, ...options.limits },
    cacheEntries: options.cacheEntries ?? 10_000,
    cacheMaxBytes: options.cacheMaxBytes,
    shutdownGraceMs: 2_000,
    changelog: options.changelog,
  };
  const errors: unknown[] = [];
  const runtime = await createServeRuntime(
    config,
    (_message, error) => errors.push(error),
    registry,
  );
  const server = await startHttpServer(runtime.handle, {
    host: config.host,
    port: config.port,
    maxBodyBytes: config.limits.maxBodyBytes,
    requestTimeoutMs: 10_000,
  });
  const admin = await startHttpServer(runtime.handleAdmin, {
    host: config.admin.host,
    port: config.admin.port,
    maxBodyBytes: config.limits.maxBodyBytes,
    requestTimeoutMs: 10_000,
  });
  return {
    url: server.url,
    adminUrl: admin.url,
    key,
    runtime,
    server,
    errors,
    close: async () => {
      await server.close(1_000);
      await admin.close(0);
      await runtime.close();
    },
  };
}

export async function post(
  url: string,
  body: unknown,
  {
    key,
    contentType = "application/json",
    raw,
    path = "/get-online-features",
    signal,
  }: {
    key?: string;
    contentType?: string | null;
    raw?: string;
    path?: string;
    signal?: AbortSignal;
  } = {},
): Promise<{ status: number; json: Record<string, unknown>; text: string }> {
  const headers: Record<string, string> = {};
  if (contentType !== null) headers["content-type"] = contentType;
  if (key) headers.authorization = `Bearer ${key}`;
  const response = await fetch(`${url}${path}`, {
    method: "POST",
    headers,
    body: raw ?? JSON.stringify(body),
    signal,
  });
  const text = await response.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // Left empty: the test looks at text.
  }
  return { status: response.status, json, text };
}
