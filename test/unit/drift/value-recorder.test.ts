// The serving tier's drift recorder without servers: which requests and values it counts,
// into which series, and that the series' labels are bounded by the baselines.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  FEATURE_VALUE_BUCKET_TOTAL,
  FEATURE_VALUE_LABELS,
} from "../../../shared/drift/metric-names.js";
import {
  FeatureValueRecorder,
  type ValueRecorderOptions,
} from "../../../shared/drift/value-recorder.js";
import { FeatureRegistry } from "../../../shared/registry/index.js";
import {
  DRIFT_MODEL,
  DRIFT_SERVICE,
  driftBaseline,
  driftRepo,
  OTHER_SERVICE,
} from "../../support/drift-repo.js";

const PROJECT = "drift_unit";
const registry = new FeatureRegistry(driftRepo(PROJECT));
const refs = registry.service(DRIFT_SERVICE);

function recorder(options: Partial<ValueRecorderOptions> = {}) {
  const notices: string[] = [];
  const r = new FeatureValueRecorder({
    project: PROJECT,
    region: "a",
    monitor: [DRIFT_SERVICE],
    sampleRate: 1,
    onNotice: (message) => notices.push(message),
    ...options,
  });
  return { r, notices };
}

/** Every series of the counter: `feature bucket` (and baseline) -> count. */
async function series(r: FeatureValueRecorder) {
  const metric = (await r.registry.getMetricsAsJSON()).find(
    (m) => m.name === FEATURE_VALUE_BUCKET_TOTAL,
  );
  return (metric?.values ?? []).map((v) => ({
    labels: v.labels as Record<string, string>,
    value: v.value,
  }));
}

async function counts(r: FeatureValueRecorder): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const { labels, value } of await series(r)) {
    out[`${labels.feature?.split(":")[1]} ${labels.bucket}`] = value;
  }
  return out;
}

/** Rows as a read answers them: rate, trips, city, active, tags. */
const row = (...values: unknown[]) => ({ values });

describe("drift value recorder", () => {
  it("counts each served value in its baseline bucket, per feature", async () => {
    const { r } = recorder();
    r.setBaselines([driftBaseline(PROJECT)]);
    r.record(DRIFT_SERVICE, refs, [
      row(0.1, 5, "paris", true, ["a"]),
      row(0.5, 2n ** 60n, "lyon", false, []),
      row(null, null, null, null, null),
    ]);
    r.record(DRIFT_SERVICE, refs, [row(0.9, 10, "rome", true, ["a"])]);
    assert.deepEqual(await counts(r), {
      "rate 0": 1,
      "rate 1": 1,
      "rate 2": 0,
      "rate 3": 1,
      "rate 4": 1,
      "trips 0": 2,
      "trips 1": 0,
      "trips 2": 1,
      "trips 3": 1,
      "city 0": 1,
      "city 1": 1,
      "city 2": 1,
      "city 3": 1,
      "active 0": 2,
      "active 1": 1,
      "active 2": 0,
      "active 3": 1,
    });
  });

  it("labels series with project, region, service, feature, baseline and bucket only", async () => {
    const { r } = recorder();
    r.setBaselines([driftBaseline(PROJECT)]);
    r.record(DRIFT_SERVICE, refs, [row(0.1, 5, "free text from a request", true, [])]);
    const all = await series(r);
    for (const { labels } of all) {
      assert.deepEqual(Object.keys(labels).sort(), [...FEATURE_VALUE_LABELS].sort());
      assert.equal(labels.project, PROJECT);
      assert.equal(labels.region, "a");
      assert.equal(labels.feature_service, DRIFT_SERVICE);
      assert.equal(labels.baseline, "b1");
    }
    // 4 + 1 buckets, 3 + 1, 2 + 2, 2 + 2: whatever the values were.
    assert.equal(all.length, 17);
    assert.ok(
      !all.some(({ labels }) => Object.values(labels).includes("free text from a request")),
    );
  });

  it("exports every bucket at 0 as soon as its baseline is in force, before any request", async () => {
    // Prometheus' increase() counts from a series' first sample: counts in that sample are lost.
    const { r } = recorder();
    assert.equal((await series(r)).length, 0);
    r.setBaselines([driftBaseline(PROJECT)]);
    const before = await series(r);
    assert.equal(before.length, 17 + 3); // the list feature's 3 until a request shows its type
    assert.ok(before.every(({ value }) => value === 0));
    r.record(DRIFT_SERVICE, refs, [row(0.1, 5, "paris", true, [])]);
    assert.equal((await series(r)).length, 17);
    assert.equal((await counts(r))["rate 3"], 0);
  });

  it("does not record list features (every value would look like null), and says so", async () => {
    const { r, notices } = recorder();
    r.setBaselines([driftBaseline(PROJECT)]);
    r.record(DRIFT_SERVICE, refs, [row(0.1, 5, "paris", true, ["a"])]);
    assert.ok(!Object.keys(await counts(r)).some((key) => key.startsWith("tags")));
    assert.deepEqual(notices, [
      "a drift baseline names a feature whose type cannot be bucketed; not recorded",
    ]);
  });

  it("records nothing for feature lists, unmonitored services, or services without a baseline", async () => {
    const { r } = recorder({ monitor: [DRIFT_SERVICE, OTHER_SERVICE] });
    const other = registry.service(OTHER_SERVICE);
    r.record(DRIFT_SERVICE, refs, [row(0.1, 5, "paris", true, [])]);
    r.setBaselines([driftBaseline(PROJECT)]);
    r.record(undefined, refs, [row(0.1, 5, "paris", true, [])]);
    r.record(OTHER_SERVICE, other, [row(0.1)]);
    assert.ok((await series(r)).every(({ value }) => value === 0));
    const unwatched = recorder({ monitor: ["something_else"] }).r;
    unwatched.setBaselines([driftBaseline(PROJECT)]);
    unwatched.record(DRIFT_SERVICE, refs, [row(0.1, 5, "paris", true, [])]);
    assert.deepEqual(await series(unwatched), []);
    assert.deepEqual(unwatched.monitoredServices(), []);
  });

  it("watches a service named by its model, or every service with `all`", () => {
    for (const monitor of [[DRIFT_MODEL], "all"] as const) {
      const { r } = recorder({ monitor });
      r.setBaselines([driftBaseline(PROJECT), driftBaseline("another_project")]);
      assert.deepEqual(r.monitoredServices(), [DRIFT_SERVICE]);
    }
  });

  it("decides sampling once per request: all of a request's values, or none", async () => {
    const draws = [0.05, 0.5, 0.09, 0.1, 0.99];
    const { r } = recorder({ sampleRate: 0.1, random: () => draws.shift()! });
    r.setBaselines([driftBaseline(PROJECT)]);
    for (let i = 0; i < 5; i++) r.record(DRIFT_SERVICE, refs, [row(0.1, 5, "paris", true, [])]);
    const c = await counts(r);
    assert.deepEqual([c["rate 0"], c["trips 0"], c["city 0"], c["active 0"]], [2, 2, 2, 2]);
  });

  it("records nothing at sample rate 0, and refuses a rate outside 0..1", async () => {
    const { r } = recorder({ sampleRate: 0 });
    r.setBaselines([driftBaseline(PROJECT)]);
    r.record(DRIFT_SERVICE, refs, [row(0.1, 5, "paris", true, [])]);
    assert.ok((await series(r)).every(({ value }) => value === 0));
    assert.throws(() => recorder({ sampleRate: 1.5 }), RangeError);
    assert.throws(() => recorder({ sampleRate: NaN }), RangeError);
  });

  it("keeps counts exact across scrapes: pending counts move into the counter once", async () => {
    const { r } = recorder();
    r.setBaselines([driftBaseline(PROJECT)]);
    r.record(DRIFT_SERVICE, refs, [row(0.1, 5, "paris", true, [])]);
    assert.equal((await counts(r))["rate 0"], 1);
    assert.equal((await counts(r))["rate 0"], 1);
    r.record(DRIFT_SERVICE, refs, [row(0.1, 5, "paris", true, [])]);
    assert.equal((await counts(r))["rate 0"], 2);
  });

  it("moves to a new baseline's series when it replaces the old, and drops the old ones later", async () => {
    const { r } = recorder({ retireAfterMs: 1_000 });
    r.setBaselines([driftBaseline(PROJECT, "b1")], 0);
    r.record(DRIFT_SERVICE, refs, [row(0.1, 5, "paris", true, [])]);
    r.setBaselines([driftBaseline(PROJECT, "b2")], 10);
    r.record(DRIFT_SERVICE, refs, [row(0.1, 5, "paris", true, [])]);
    const byBaseline = async (version: string) =>
      (await series(r))
        .filter((s) => s.labels.baseline === version && s.labels.feature === "drift_stats@1:rate")
        .map((s) => s.value);
    assert.deepEqual(await byBaseline("b1"), [1, 0, 0, 0, 0]);
    assert.deepEqual(await byBaseline("b2"), [1, 0, 0, 0, 0]);
    r.setBaselines([driftBaseline(PROJECT, "b2")], 500);
    assert.equal(
      (await byBaseline("b1")).length,
      5,
      "kept while Prometheus may not have scraped it",
    );
    r.setBaselines([driftBaseline(PROJECT, "b2")], 1_500);
    assert.deepEqual(await byBaseline("b1"), []);
    assert.deepEqual(await byBaseline("b2"), [1, 0, 0, 0, 0]);
  });

  it("keeps the series of a baseline rolled back to before its retirement ends", async () => {
    const { r } = recorder({ retireAfterMs: 1_000 });
    r.setBaselines([driftBaseline(PROJECT, "b1")], 0);
    r.record(DRIFT_SERVICE, refs, [row(0.1, 5, "paris", true, [])]);
    r.setBaselines([driftBaseline(PROJECT, "b2")], 10);
    r.setBaselines([driftBaseline(PROJECT, "b1")], 20);
    r.record(DRIFT_SERVICE, refs, [row(0.1, 5, "paris", true, [])]);
    r.setBaselines([driftBaseline(PROJECT, "b1")], 5_000);
    const b1 = (await series(r)).filter(
      (s) => s.labels.baseline === "b1" && s.labels.feature === "drift_stats@1:rate",
    );
    assert.deepEqual(
      b1.map((s) => s.value),
      [2, 0, 0, 0, 0],
    );
  });

  it("stops recording a service whose baseline is withdrawn", async () => {
    const { r } = recorder();
    r.setBaselines([driftBaseline(PROJECT)]);
    r.record(DRIFT_SERVICE, refs, [row(0.1, 5, "paris", true, [])]);
    r.setBaselines([]);
    r.record(DRIFT_SERVICE, refs, [row(0.1, 5, "paris", true, [])]);
    assert.equal((await counts(r))["rate 0"], 1);
    assert.deepEqual(r.monitoredServices(), []);
  });

  it("follows a new registry: a service's features map onto the baseline by name, not position", async () => {
    const { r } = recorder();
    r.setBaselines([driftBaseline(PROJECT)]);
    const definition = driftRepo(PROJECT);
    definition.services![0]!.features = ["drift_stats:city", "drift_stats:rate"];
    const swapped = new FeatureRegistry(definition).service(DRIFT_SERVICE);
    r.record(DRIFT_SERVICE, swapped, [row("rome", 0.3)]);
    const c = await counts(r);
    assert.equal(c["city 1"], 1);
    assert.equal(c["rate 1"], 1);
  });
});
