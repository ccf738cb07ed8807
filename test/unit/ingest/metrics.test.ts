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

describe("ingest metrics: lag per source region", () => {
  const lag = {
    records: 5,
    produceToAppliedMs: 1_500,
    eventToAppliedMs: 2_000,
    maxProduceToAppliedMs: 3_000,
    maxEventToAppliedMs: 4_000,
  };

  it("labels lag by the source region, so partitions of different topics never collide", async () => {
    const metrics = new IngestMetrics(["stats@1"], ["b", "a", "c"]);
    metrics.lag(0, lag, { topic: "strata.p.changelog", region: "b" });
    metrics.lag(0, { ...lag, records: 7 }, { topic: "a.strata.p.changelog", region: "a" });
    metrics.committedLag("c", 2, 9);
    const { body } = await metrics.render();
    const lines = body.split("\n");
    for (const expected of [
      'strata_ingest_lag_records{source_region="b",partition="0"} 5',
      'strata_ingest_lag_records{source_region="a",partition="0"} 7',
      'strata_ingest_lag_records{source_region="c",partition="2"} 9',
      'strata_ingest_lag_seconds{source_region="a",partition="0",basis="produce"} 1.5',
      'strata_ingest_lag_seconds{source_region="a",partition="0",basis="event"} 2',
      'strata_ingest_apply_lag_seconds_count{source_region="a",basis="produce"} 1',
      'strata_ingest_apply_lag_seconds_sum{source_region="a",basis="produce"} 3',
      'strata_ingest_apply_lag_seconds_sum{source_region="a",basis="event"} 4',
      'strata_ingest_apply_lag_seconds_bucket{le="2.5",source_region="a",basis="produce"} 0',
      'strata_ingest_apply_lag_seconds_bucket{le="5",source_region="a",basis="produce"} 1',
    ]) {
      assert.ok(lines.includes(expected), `${expected}\n${body}`);
    }
  });

  it("never takes a label value outside the configured regions", async () => {
    const metrics = new IngestMetrics(["stats@1"], ["b"]);
    metrics.lag(1, lag, { topic: "x.strata.p.changelog", region: "x" });
    const { body } = await metrics.render();
    assert.ok(body.includes('strata_ingest_lag_records{source_region="unknown",partition="1"} 5'));
    assert.ok(!body.includes('source_region="x"'));
  });
});
