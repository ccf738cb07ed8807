import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { UncommittedAge } from "../../../shared/offline/commit-lag.js";
import { icebergSinkConfig, icebergSinkConnector } from "../../../shared/offline/sink-config.js";
import { loadOfflineConfig } from "../../../functions/ingest/offline-config.js";

describe("icebergSinkConfig", () => {
  it("routes by strata_table, creates day-partitioned tables, commits at the interval", () => {
    const config = icebergSinkConfig({
      project: "fraud",
      catalog: { type: "hadoop", warehouse: "/data/warehouse" },
      commitIntervalMs: 5_000,
    });
    assert.equal(config["connector.class"], "org.apache.iceberg.connect.IcebergSinkConnector");
    assert.equal(config.topics, "strata.fraud.offline");
    assert.equal(config["iceberg.control.topic"], "strata.fraud.offline.control");
    assert.equal(config["iceberg.tables.dynamic-enabled"], "true");
    assert.equal(config["iceberg.tables.route-field"], "strata_table");
    assert.equal(config["iceberg.tables.default-partition-by"], "day(event_timestamp)");
    assert.equal(config["iceberg.control.commit.interval-ms"], "5000");
    assert.equal(config["value.converter.schemas.enable"], "true");
    assert.equal(config["iceberg.catalog.type"], "hadoop");
    assert.equal(config["iceberg.catalog.warehouse"], "file:///data/warehouse");
    assert.ok(Object.values(config).every((value) => typeof value === "string"));
  });

  it("declares Glue and REST catalogs, with extra catalog properties", () => {
    const glue = icebergSinkConfig({
      project: "p",
      catalog: {
        type: "glue",
        warehouse: "s3://bucket/wh",
        properties: { "client.region": "eu-west-1" },
      },
    });
    assert.equal(glue["iceberg.catalog.catalog-impl"], "org.apache.iceberg.aws.glue.GlueCatalog");
    assert.equal(glue["iceberg.catalog.io-impl"], "org.apache.iceberg.aws.s3.S3FileIO");
    assert.equal(glue["iceberg.catalog.warehouse"], "s3://bucket/wh");
    assert.equal(glue["iceberg.catalog.client.region"], "eu-west-1");
    assert.equal(glue["iceberg.control.commit.interval-ms"], "60000");
    const rest = icebergSinkConfig({ project: "p", catalog: { type: "rest", uri: "http://cat" } });
    assert.equal(rest["iceberg.catalog.type"], "rest");
    assert.equal(rest["iceberg.catalog.uri"], "http://cat");
    assert.equal(rest["iceberg.catalog.warehouse"], undefined);
  });

  it("names the connector strata-<project>-offline", () => {
    const { name } = icebergSinkConnector({ project: "p", catalog: { type: "rest", uri: "u" } });
    assert.equal(name, "strata-p-offline");
  });
});

describe("UncommittedAge", () => {
  it("reports the oldest batch at or above the sink's committed offset, none once all is committed", () => {
    const age = new UncommittedAge();
    age.produced([
      { partition: 0, baseOffset: 0, atMs: 100 },
      { partition: 1, baseOffset: 0, atMs: 150 },
    ]);
    age.produced([{ partition: 0, baseOffset: 10, atMs: 200 }]);
    const at = (p0: number, p1: number) =>
      age.update([
        { partition: 0, committed: p0, end: 20 },
        { partition: 1, committed: p1, end: 5 },
      ]);
    assert.equal(at(0, 0), 100);
    assert.equal(at(10, 0), 150, "partition 0's first batch is committed");
    assert.equal(at(10, 5), 200, "partition 1 is wholly committed");
    assert.equal(at(20, 5), undefined);
  });
});

describe("loadOfflineConfig", () => {
  it("is off by default and needs a warehouse when it registers the sink", () => {
    assert.equal(loadOfflineConfig({}).enabled, false);
    assert.throws(
      () => loadOfflineConfig({ STRATA_OFFLINE: "on", STRATA_CONNECT_URL: "http://c" }),
      /STRATA_OFFLINE_WAREHOUSE/,
    );
    assert.throws(() => loadOfflineConfig({ STRATA_OFFLINE: "yes" }), /STRATA_OFFLINE/);
    const on = loadOfflineConfig({
      STRATA_OFFLINE: "on",
      STRATA_CONNECT_URL: "http://c",
      STRATA_OFFLINE_WAREHOUSE: "/w",
      STRATA_OFFLINE_COMMIT_INTERVAL_MS: "5000",
    });
    assert.deepEqual(on, {
      enabled: true,
      connectUrl: "http://c",
      warehouse: "/w",
      commitIntervalMs: 5_000,
      sinkTasks: 1,
    });
  });
});
