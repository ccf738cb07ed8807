import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { renderConnectProperties } from "../../../dev/stack/services/connect-config.js";

describe("the local Kafka Connect worker's properties", () => {
  const properties = Object.fromEntries(
    renderConnectProperties({
      bootstrap: "127.0.0.1:19092",
      restPort: 18083,
      host: "127.0.0.1",
      pluginPath: "/stack/connect/plugins",
    })
      .trim()
      .split("\n")
      .map((line) => line.split("=", 2) as [string, string]),
  );

  it("runs distributed on the region's broker, its internal topics with one replica", () => {
    assert.equal(properties["bootstrap.servers"], "127.0.0.1:19092");
    assert.equal(properties["group.id"], "strata-connect");
    for (const topic of ["config", "offset", "status"]) {
      assert.equal(properties[`${topic}.storage.replication.factor`], "1");
    }
    assert.equal(properties.listeners, "http://127.0.0.1:18083");
  });

  it("calls sink tasks every second, so the Iceberg sink answers commit requests when idle", () => {
    assert.equal(properties["offset.flush.interval.ms"], "1000");
  });

  it("loads Debezium from its own plugin folder and resolves ${dir:...} secret references", () => {
    assert.equal(properties["plugin.path"], "/stack/connect/plugins");
    // Reflection scanning of the plugin folder and classpath took most of the worker's start.
    assert.equal(properties["plugin.discovery"], "service_load");
    assert.equal(properties["config.providers"], "dir");
    assert.equal(
      properties["config.providers.dir.class"],
      "org.apache.kafka.common.config.provider.DirectoryConfigProvider",
    );
  });
});
