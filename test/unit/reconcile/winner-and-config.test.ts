import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadReconcileConfig, parseRegions } from "../../../functions/reconcile/config.js";
import { decodeChangelogRecord } from "../../../shared/changelog/index.js";
import { isStrataError } from "../../../shared/errors.js";
import { pickWinner, winnerRecord } from "../../../shared/reconcile/index.js";
import { FeatureRegistry } from "../../../shared/registry/index.js";
import { encodeVersion } from "../../../shared/versions/index.js";
import { testRepo } from "../../support/store.js";

const registry = new FeatureRegistry(testRepo("unit_reconcile"));
const view = registry.view("stats", 1);
const key = "fs:{unit_reconcile:driver:i42}";
const older = encodeVersion({
  eventTsMs: 1_764_158_400_000,
  epoch: 0,
  hlc: { wallMs: 1_764_158_400_000, counter: 0 },
  originRegion: "west",
});
const newer = encodeVersion({
  eventTsMs: 1_764_158_400_000,
  epoch: 1,
  hlc: { wallMs: 1_764_158_300_000, counter: 0 },
  originRegion: "east",
});

describe("reconcile winners", () => {
  it("picks the highest version by the version order, wherever it is", () => {
    const rows = [
      { version: older, clock: null, values: ["1", "1", "=a"] },
      undefined,
      { version: newer, clock: null, values: ["2", "2", "=b"] },
    ];
    assert.equal(pickWinner(rows)!.index, 2);
    assert.equal(pickWinner([undefined, undefined]), undefined);
  });

  it("re-publishes a stored row as a record a consumer decodes to the same row and version", () => {
    const record = winnerRecord(registry, view, key, {
      version: newer,
      clock: "east:019ac0f1f00c0000,west:019ac0f1f00c0001",
      values: ["0.5", "12", "=hi"],
    });
    assert.equal(record.key, "stats@1/i42");
    const write = decodeChangelogRecord(registry, record.key, record.value);
    assert.equal(write.redisKey, key);
    assert.equal(write.encodedVersion, newer);
    assert.equal(write.encodedClock, "east:019ac0f1f00c0000,west:019ac0f1f00c0001");
    assert.deepEqual(write.values, ["0.5", "12", "=hi"]);
  });

  it("re-publishes a deleted row (its version, no feature) as a delete", () => {
    const record = winnerRecord(registry, view, key, {
      version: newer,
      clock: null,
      values: [null, null, null],
    });
    const write = decodeChangelogRecord(registry, record.key, record.value);
    assert.equal(write.deleted, true);
    assert.deepEqual(write.values, []);
    assert.equal(write.encodedVersion, newer);
  });

  it("refuses a row it cannot re-publish, with STRATA_E_UNREPAIRABLE_ROW", () => {
    const refused = (row: { version: string; clock: string | null; values: (string | null)[] }) =>
      assert.throws(
        () => winnerRecord(registry, view, key, row),
        (e) => isStrataError(e, "STRATA_E_UNREPAIRABLE_ROW"),
      );
    refused({ version: newer, clock: null, values: ["0.5", null, "=hi"] });
    refused({ version: newer, clock: null, values: ["0.5", "not a number", "=hi"] });
    refused({ version: "garbage", clock: null, values: ["0.5", "1", "=hi"] });
    // Locked by an event time a day ahead: every consumer would refuse the record.
    const future = Date.now() + 86_400_000;
    refused({
      version: encodeVersion({
        eventTsMs: future,
        epoch: 0,
        hlc: { wallMs: future, counter: 0 },
        originRegion: "east",
      }),
      clock: null,
      values: ["0.5", "1", "=hi"],
    });
  });
});

describe("reconcile configuration", () => {
  it("parses regions, cluster targets with their commas included", () => {
    const regions = parseRegions(
      "us-east-1=cluster://10.0.0.1:6379,10.0.0.2:6379; eu-west-1=rediss://r:6380",
      "X",
    );
    assert.deepEqual(
      regions.map((r) => r.name),
      ["us-east-1", "eu-west-1"],
    );
    assert.deepEqual(regions[0]!.address, {
      clusterNodes: [
        { host: "10.0.0.1", port: 6379 },
        { host: "10.0.0.2", port: 6379 },
      ],
    });
    assert.deepEqual(regions[1]!.address, { url: "rediss://r:6380", tls: {} });
  });

  it("refuses one region, twice the same name, and a bad target", () => {
    for (const text of [
      "a=redis://x:1",
      "a=redis://x:1 a=redis://y:1",
      "a=http://x b=redis://y:1",
    ]) {
      assert.throws(
        () => parseRegions(text, "X"),
        (e) => isStrataError(e, "STRATA_E_BAD_CONFIG"),
      );
    }
  });

  it("reaches every region over TLS with REDIS_TLS=on, cluster targets included", () => {
    const env = {
      STRATA_REPO: "repo.ts",
      STRATA_RECONCILE_REGIONS: "a=cluster://x:6379;b=redis://y:6379;c=rediss://z:6380",
      REDIS_PASSWORD: "pw",
    };
    const plain = loadReconcileConfig(env);
    assert.deepEqual(
      plain.regions.map((r) => r.address.tls),
      [undefined, undefined, {}],
      "without REDIS_TLS only rediss:// is TLS",
    );
    const tls = loadReconcileConfig({
      ...env,
      REDIS_TLS: "on",
      REDIS_TLS_CA_FILE: "/etc/strata/redis/ca.crt",
    });
    for (const region of tls.regions) {
      assert.deepEqual(region.address.tls, { caFile: "/etc/strata/redis/ca.crt" }, region.name);
      assert.equal(region.address.password, "pw", region.name);
    }
    assert.throws(
      () => loadReconcileConfig({ ...env, REDIS_TLS: "yes" }),
      (e) => isStrataError(e, "STRATA_E_BAD_CONFIG"),
    );
  });

  it("reads the registry from STRATA_REPO, else STRATA_PROJECT's published one from Kafka", () => {
    const regions = { STRATA_RECONCILE_REGIONS: "a=redis://x:1 b=redis://y:1" };
    assert.deepEqual(loadReconcileConfig({ ...regions, STRATA_REPO: "repo.ts" }).registry, {
      kind: "file",
      path: "repo.ts",
    });
    const published = loadReconcileConfig({
      ...regions,
      STRATA_PROJECT: "demo",
      KAFKA_BROKERS: "k:9092",
    }).registry;
    assert.equal(published.kind, "published");
    assert.equal(published.kind === "published" && published.project, "demo");
    assert.throws(
      () => loadReconcileConfig({ ...regions, STRATA_PROJECT: "demo" }),
      (e) => isStrataError(e, "STRATA_E_BAD_CONFIG") && /KAFKA_BROKERS/.test(String(e)),
    );
    assert.throws(
      () => loadReconcileConfig(regions),
      (e) => isStrataError(e, "STRATA_E_BAD_CONFIG") && /STRATA_REPO/.test(String(e)),
    );
  });

  it("needs a changelog for --check-changelog", () => {
    const env = {
      STRATA_REPO: "repo.ts",
      STRATA_RECONCILE_REGIONS: "a=redis://x:1 b=redis://y:1",
      STRATA_RECONCILE_CHECK_CHANGELOG: "on",
    };
    assert.throws(() => loadReconcileConfig(env), /KAFKA_BROKERS/);
    const config = loadReconcileConfig({ ...env, KAFKA_BROKERS: "k:9092" });
    assert.equal(config.checkChangelog, true);
    assert.equal(config.verifyMs, 0);
  });
});
