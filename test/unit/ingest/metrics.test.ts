import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { IngestMetrics } from "../../../functions/ingest/metrics.js";

describe("ingest metrics: ignored features", () => {
  it("count by view and feature, and keep a bounded number of feature names per view", async () => {
    const metrics = new IngestMetrics(["stats@1"]);
    const names = Array.from({ length: 30 }, (_, i) => `f${i}`);
    metrics.applied({
      byView: new Map(),
      rejected: [],
      ignoredFeatures: new Map([["stats@1", new Map(names.map((name) => [name, 2]))]]),
      maxEventTsMs: undefined,
    });
    metrics.applied({
      byView: new Map(),
      rejected: [],
      ignoredFeatures: new Map([["stats@1", new Map([["f0", 1]])]]),
      maxEventTsMs: undefined,
    });
    const { body } = await metrics.render();
    const lines = body
      .split("\n")
      .filter((l) => l.startsWith("strata_ingest_ignored_features_total{"));
    assert.equal(lines.length, 21, "20 names and (other)");
    assert.ok(
      lines.includes('strata_ingest_ignored_features_total{view="stats@1",feature="f0"} 3'),
    );
    assert.ok(
      lines.includes('strata_ingest_ignored_features_total{view="stats@1",feature="(other)"} 20'),
    );
  });
});
