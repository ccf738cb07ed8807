import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isStrataError } from "../../../shared/errors.js";
import {
  ApiKeyVerifier,
  authorize,
  authorizePush,
  generateApiKey,
  hashApiKey,
} from "../../../functions/serve/auth.js";
import { DEFAULT_LIMITS, loadServeConfig } from "../../../functions/serve/config.js";
import { parseOnlineFeaturesRequest } from "../../../functions/serve/feast-request.js";
import {
  jsonValue,
  renderOnlineFeaturesResponse,
} from "../../../functions/serve/feast-response.js";
import { ServeMetrics } from "../../../functions/serve/metrics.js";
import type { EntityResult } from "../../../shared/online-store/index.js";
import { FeatureRegistry } from "../../../shared/registry/index.js";
import { testRepo } from "../../support/store.js";

describe("API keys", () => {
  const admin = generateApiKey("admin");
  const scoped = generateApiKey("scoped", { projects: ["demo"], featureServices: ["svc_a"] });
  const verifier = new ApiKeyVerifier([admin.record, scoped.record]);

  it("stores only the SHA-256 of a key", () => {
    assert.equal(admin.record.sha256, hashApiKey(admin.key));
    assert.ok(!JSON.stringify(admin.record).includes(admin.key));
  });

  it("accepts a configured key and rejects anything else with 401", () => {
    assert.equal(verifier.authenticate(`Bearer ${admin.key}`).keyId, "admin");
    for (const header of [undefined, "", "Basic abc", `Bearer ${admin.key}x`, "Bearer"]) {
      assert.throws(
        () => verifier.authenticate(header),
        (e: unknown) => isStrataError(e, "STRATA_E_UNAUTHENTICATED"),
      );
    }
  });

  it("limits a scoped key to its projects and feature services (403)", () => {
    const principal = verifier.authenticate(`Bearer ${scoped.key}`);
    assert.doesNotThrow(() => authorize(principal, "demo", "svc_a"));
    assert.throws(
      () => authorize(principal, "demo", "svc_b"),
      (e: unknown) => isStrataError(e, "STRATA_E_FORBIDDEN"),
    );
    assert.throws(
      () => authorize(principal, "demo", undefined),
      (e: unknown) => isStrataError(e, "STRATA_E_FORBIDDEN"),
    );
    assert.throws(
      () => authorize(principal, "other", "svc_a"),
      (e: unknown) => isStrataError(e, "STRATA_E_FORBIDDEN"),
    );
  });
});

describe("push permission", () => {
  it("lets only keys configured with push write, and only to their projects", () => {
    const reader = generateApiKey("reader");
    const pusher = generateApiKey("pusher", { push: true, projects: ["demo"] });
    const verifier = new ApiKeyVerifier([reader.record, pusher.record]);
    assert.throws(
      () => authorizePush(verifier.authenticate(`Bearer ${reader.key}`), "demo"),
      (e: unknown) => isStrataError(e, "STRATA_E_FORBIDDEN"),
    );
    assert.doesNotThrow(() => authorizePush(verifier.authenticate(`Bearer ${pusher.key}`), "demo"));
    assert.throws(
      () => authorizePush(verifier.authenticate(`Bearer ${pusher.key}`), "other"),
      (e: unknown) => isStrataError(e, "STRATA_E_FORBIDDEN"),
    );
  });
});

describe("serving configuration", () => {
  const base = {
    STRATA_REPO: "repo.js",
    REDIS_URL: "redis://127.0.0.1:6379",
    STRATA_API_KEYS: JSON.stringify([generateApiKey("k").record]),
  };

  it("defaults to Feast's port and safe limits, with auth on", () => {
    const config = loadServeConfig(base);
    assert.equal(config.port, 6566);
    assert.equal(config.limits.maxBodyBytes, 1024 * 1024);
    assert.equal(config.apiKeys?.length, 1);
    assert.equal(config.degradedMaxStalenessMs, 60_000, "the hot cache's safety TTL");
    assert.equal(
      loadServeConfig({ ...base, STRATA_DEGRADED_MAX_STALENESS_MS: "0" }).degradedMaxStalenessMs,
      0,
    );
    assert.deepEqual(config.admin, { host: "0.0.0.0", port: 9465 });
  });

  it("listens for health and metrics on an admin port of its own", () => {
    assert.deepEqual(
      loadServeConfig({
        ...base,
        STRATA_HOST: "10.0.0.5",
        STRATA_ADMIN_PORT: "9100",
      }).admin,
      { host: "10.0.0.5", port: 9100 },
    );
    assert.deepEqual(
      loadServeConfig({ ...base, STRATA_ADMIN_HOST: "127.0.0.1", STRATA_ADMIN_PORT: "0" }).admin,
      { host: "127.0.0.1", port: 0 },
    );
    assert.throws(
      () => loadServeConfig({ ...base, STRATA_PORT: "7000", STRATA_ADMIN_PORT: "7000" }),
      (e: unknown) =>
        isStrataError(e, "STRATA_E_BAD_CONFIG") && e.details.variable === "STRATA_ADMIN_PORT",
    );
  });

  it("refuses to start without keys unless auth is explicitly off", () => {
    assert.throws(
      () => loadServeConfig({ ...base, STRATA_API_KEYS: undefined }),
      (e: unknown) =>
        isStrataError(e, "STRATA_E_BAD_CONFIG") && e.message.includes("STRATA_API_KEYS_FILE"),
    );
    assert.equal(
      loadServeConfig({ ...base, STRATA_API_KEYS: undefined, STRATA_AUTH: "off" }).apiKeys,
      null,
    );
  });

  for (const [variable, value] of [
    ["STRATA_PORT", "http"],
    ["STRATA_ADMIN_PORT", "65536"],
    ["STRATA_MAX_ENTITIES", "0"],
    ["REDIS_URL", "localhost:6379"],
    ["STRATA_AUTH", "maybe"],
    ["STRATA_DEGRADED_MAX_STALENESS_MS", "-1"],
    ["STRATA_API_KEYS", '[{"id": "k", "sha256": "plaintext-key"}]'],
  ] as const) {
    it(`names ${variable} when it is bad`, () => {
      assert.throws(
        () => loadServeConfig({ ...base, [variable]: value }),
        (e: unknown) => isStrataError(e, "STRATA_E_BAD_CONFIG") && e.message.includes(variable),
      );
    });
  }
});

describe("response values", () => {
  it("writes JSON that Feast clients parse: exact int64, base64 bytes, null for non-finite numbers", () => {
    assert.equal(jsonValue(9007199254740993n), "9007199254740993");
    assert.equal(jsonValue(Buffer.from([0, 255])), '"AP8="');
    assert.equal(jsonValue(Number.NaN), "null");
    assert.equal(jsonValue(undefined), "null");
    assert.equal(jsonValue(["a", 1, true]), '["a",1,true]');
    assert.equal(jsonValue('quote " and \\'), JSON.stringify('quote " and \\'));
  });
});

describe("degraded rows in the response", () => {
  const registry = new FeatureRegistry(testRepo("demo"));
  const request = parseOnlineFeaturesRequest(
    { features: ["stats@1:rate"], entities: { driver_id: [1, 2, 3] } },
    registry,
    DEFAULT_LIMITS,
  );
  const row = (rate: number): EntityResult => ({
    values: [rate],
    statuses: ["PRESENT"],
    eventTimestamps: [0],
    jsonTexts: [undefined],
  });
  const rows = [row(0.1), row(0.2), row(0.3)];

  it("lists the degraded rows and their ages under strata, leaving Feast's fields alone", () => {
    const plain = JSON.parse(
      renderOnlineFeaturesResponse(request, { features: request.refs, rows }),
    ) as Record<string, unknown>;
    assert.equal(plain.strata, undefined);
    const degraded = JSON.parse(
      renderOnlineFeaturesResponse(request, {
        features: request.refs,
        rows,
        degraded: [
          { row: 0, ageMs: 1200.4 },
          { row: 2, ageMs: 800 },
        ],
      }),
    ) as Record<string, unknown>;
    assert.deepEqual(degraded.results, plain.results);
    assert.deepEqual(degraded.metadata, plain.metadata);
    const strata = degraded.strata as Record<string, unknown>;
    assert.deepEqual(strata.degraded, [0, 2]);
    assert.deepEqual(strata.age_ms, [1200, 800]);
    assert.equal(strata.reason, "redis_unavailable");
  });
});

describe("request metrics", () => {
  it("label methods outside HTTP's own as other, so requests cannot add series", async () => {
    const metrics = new ServeMetrics(() => ({
      cache: undefined,
      applied: 0,
      stale: 0,
      concurrent: 0,
      corrupt: 0,
      scriptReloads: 0,
    }));
    for (let i = 0; i < 100; i++) metrics.observe("unmatched", `M${i}`, 404, performance.now());
    metrics.observe("unmatched", "GET", 404, performance.now());
    const { body } = await metrics.render();
    const methods = new Set(
      [...body.matchAll(/strata_http_request_duration_seconds_count\{[^}]*method="([^"]*)"/g)].map(
        (m) => m[1],
      ),
    );
    assert.deepEqual([...methods].sort(), ["GET", "other"]);
  });
});
