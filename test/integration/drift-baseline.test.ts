// Baseline creation from real training files (Parquet and CSV, read by the embedded DuckDB)
// through the CLI, and publishing to the shared stack's Redis.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { resolveEndpoints } from "../../dev/stack/endpoints.js";
import { loadActiveBaselines } from "../../shared/drift/baseline-store.js";
import { parseBaseline, type DriftBaseline } from "../../shared/drift/baseline.js";
import { openEmbeddedEngine } from "../../shared/offline/duckdb.js";
import { uniqueProject } from "../support/store.js";

describe("drift baselines from training files", { timeout: 120_000 }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), "strata-drift-baseline-"));
  const project = uniqueProject("drift_base");
  const repo = path.join(dir, "repo.mjs");
  const redisUrl = resolveEndpoints().redis.address;
  let redis: Redis;

  before(async () => {
    redis = new Redis(redisUrl, { maxRetriesPerRequest: 2 });
    writeFileSync(
      repo,
      `export default ${JSON.stringify({
        project,
        entities: [{ name: "user", joinKeys: { user_id: "int64" } }],
        views: [
          {
            name: "profile",
            version: "2.0.0",
            entities: ["user"],
            maxAgeMs: 86_400_000,
            features: {
              spend: "float64",
              tier: "string",
              vip: "bool",
              seen: "unix_timestamp",
              tags: "string[]",
            },
          },
        ],
        services: [
          {
            name: "scoring",
            features: [
              "profile:spend",
              "profile:tier",
              "profile:vip",
              "profile:seen",
              "profile:tags",
            ],
          },
        ],
      })};\n`,
    );
    // 1,000 rows: spend 1..1000 with every 10th null, tier a/b/c 60/30/10, vip every 4th.
    const engine = await openEmbeddedEngine();
    try {
      const select = `SELECT i AS user_id,
          CASE WHEN i % 10 = 0 THEN NULL ELSE i::DOUBLE END AS profile__spend,
          CASE WHEN i % 10 < 6 THEN 'a' WHEN i % 10 < 9 THEN 'b' ELSE 'c' END AS tier,
          i % 4 = 0 AS vip,
          make_timestamp(1700000000000000 + i * 1000000) AS seen,
          ['x'] AS tags
        FROM range(1, 1001) t(i)`;
      await engine.connection.run(
        `COPY (${select}) TO '${path.join(dir, "train.parquet")}' (FORMAT parquet)`,
      );
      await engine.connection.run(
        `COPY (SELECT * EXCLUDE (tags) FROM (${select})) TO '${path.join(dir, "train.csv")}' (HEADER)`,
      );
    } finally {
      engine.close();
    }
  });

  after(() => {
    redis?.disconnect();
    rmSync(dir, { recursive: true, force: true });
  });

  it("baseline create reads Parquet: quantile edges, top-K, booleans, timestamps, nulls; lists are skipped", async () => {
    const out = path.join(dir, "scoring.baseline.json");
    const result = await cli([
      "baseline",
      "create",
      "--repo",
      repo,
      "--service",
      "scoring",
      "--model",
      "ltv",
      "--model-version",
      "4",
      "--from",
      path.join(dir, "train.parquet"),
      "--out",
      out,
    ]);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stderr, /not monitored: profile@2:tags: type string\[\] is not monitored/);
    const baseline = parseBaseline(JSON.parse(readFileSync(out, "utf8")) as unknown);
    assert.equal(baseline.project, project);
    assert.equal(baseline.rows, 1000);
    const [spend, tier, vip, seen] = baseline.features;
    assert.deepEqual(
      baseline.features.map((f) => f.name),
      ["profile@2:spend", "profile@2:tier", "profile@2:vip", "profile@2:seen"],
    );
    assert.ok(spend?.kind === "numeric" && spend.edges.length === 9);
    // 900 non-null values 1..999 without multiples of 10; NumPy's first decile of them:
    const values = Array.from({ length: 999 }, (_, i) => i + 1).filter((v) => v % 10 !== 0);
    const position = (values.length - 1) / 10;
    const first =
      values[Math.floor(position)]! +
      (values[Math.floor(position) + 1]! - values[Math.floor(position)]!) * (position % 1);
    assert.ok(Math.abs(spend.edges[0]! - first) < 1e-9, `${spend.edges[0]} vs ${first}`);
    assert.ok(Math.abs(spend.expected.at(-1)! - 0.1) < 1e-12, "nulls are a tenth");
    assert.ok(tier?.kind === "categorical");
    assert.deepEqual(tier.categories, ["a", "b", "c"]);
    assert.deepEqual(
      tier.expected.map((p) => Math.round(p * 100)),
      [60, 30, 10, 0, 0],
    );
    assert.ok(vip?.kind === "categorical");
    assert.deepEqual(vip.categories, ["false", "true"]);
    assert.ok(seen?.kind === "numeric" && seen.edges[0]! > 1.7e12, "timestamps as epoch ms");
  });

  it("CSV gives the same numeric edges; publish stores it in every Redis named and makes it active", async () => {
    const fromCsv = path.join(dir, "csv.baseline.json");
    const result = await cli([
      "baseline",
      "create",
      "--repo",
      repo,
      "--service",
      "scoring",
      "--model",
      "ltv",
      "--from",
      path.join(dir, "train.csv"),
      "--out",
      fromCsv,
    ]);
    assert.equal(result.status, 0, result.stderr);
    const csv = JSON.parse(readFileSync(fromCsv, "utf8")) as DriftBaseline;
    const parquet = JSON.parse(
      readFileSync(path.join(dir, "scoring.baseline.json"), "utf8"),
    ) as DriftBaseline;
    assert.deepEqual(csv.features[0], parquet.features[0]);
    const published = await cli(["baseline", "publish", fromCsv, "--redis", redisUrl]);
    assert.equal(published.status, 0, published.stderr);
    const [active] = await loadActiveBaselines(redis, project);
    assert.equal(active?.baselineVersion, csv.baselineVersion);
    assert.equal(
      (
        await cli([
          "baseline",
          "create",
          "--repo",
          repo,
          "--service",
          "nope",
          "--model",
          "m",
          "--from",
          fromCsv,
        ])
      ).status,
      1,
    );
  });
});

function cli(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", "functions/drift/main.ts", ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}
