// A view's minor version rolling out: writers and consumers at 1.0 and at 1.1 of the same view
// (1.1 adds a feature) on the real Kafka, each consumer applying to its own Redis. Records of
// either minor must apply in a consumer of the other, none dead-lettered.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { ChangelogWriter } from "../../shared/changelog/index.js";
import type { WriteRow } from "../../shared/online-store/index.js";
import { FeatureRegistry, type FeatureRepoDefinition } from "../../shared/registry/index.js";
import { IngestMetrics } from "../../functions/ingest/metrics.js";
import { changelogFixture, type ChangelogFixture } from "../support/changelog.js";
import { openStore, uniqueProject, type OpenedStore } from "../support/store.js";

function repo(project: string, minor: 0 | 1): FeatureRepoDefinition {
  return {
    project,
    entities: [{ name: "driver", joinKeys: { driver_id: "int64" } }],
    views: [
      {
        name: "stats",
        version: `1.${minor}.0`,
        entities: ["driver"],
        features:
          minor === 0
            ? { rate: "float64", trips: "int64" }
            : { rate: "float64", trips: "int64", surge: "float64" },
        maxAgeMs: 3_600_000,
      },
    ],
  };
}

const NOW = Date.now();

function row(driver: number, at: number, values: WriteRow["values"]): WriteRow {
  return {
    view: "stats",
    entity: { driver_id: driver },
    values,
    version: {
      eventTsMs: NOW + at,
      epoch: 0,
      hlc: { wallMs: NOW + at, counter: 0 },
      originRegion: "eu-west-1",
    },
  };
}

describe("a minor version rolling out: consumers at 1.0 and 1.1 apply each other's records", () => {
  const project = uniqueProject("rollout");
  const registries = [
    new FeatureRegistry(repo(project, 0)),
    new FeatureRegistry(repo(project, 1)),
  ] as const;
  const fixtures: ChangelogFixture[] = [];
  const stores: OpenedStore[] = [];
  const writers: ChangelogWriter[] = [];
  const rejected = [0, 0];
  const metrics = new IngestMetrics(["stats@1"]);

  before(async () => {
    for (const [minor, registry] of registries.entries()) {
      const fixture = await changelogFixture(registry);
      fixtures.push(fixture);
      // Each consumer is its own region with its own Redis: 1.0 on the standalone server, 1.1 on the cluster.
      const opened = await openStore(minor === 0 ? "standalone" : "cluster", registry, {
        hotCache: false,
      });
      stores.push(opened);
      writers.push(await fixture.openWriter());
      await fixture.startConsumer(opened.store, `minor-${minor}`, {
        applied: (outcome) => {
          rejected[minor]! += outcome.rejected.length;
          if (minor === 0) metrics.applied(outcome);
        },
      });
    }
  });
  after(async () => {
    for (const fixture of fixtures.reverse()) await fixture.cleanup();
    for (const opened of stores) await opened.close();
  });

  it("ignores a feature it does not know, leaves one a record lacks as stored, and dead-letters nothing", async () => {
    const [w10, w11] = writers as [ChangelogWriter, ChangelogWriter];
    // Drivers 1-3 first written at 1.1, drivers 4-6 at 1.0; then each minor overwrites one
    // driver of the other with a newer version.
    await w11.write(
      [1, 2, 3].map((d) => row(d, 10, { rate: d, trips: d, surge: d * 10 })),
      { wait: "acked" },
    );
    await w10.write(
      [4, 5, 6].map((d) => row(d, 10, { rate: d, trips: d })),
      { wait: "acked" },
    );
    await w10.write([row(1, 20, { rate: 100, trips: 100 })], { wait: "acked" });
    await w11.write([row(4, 20, { rate: 400, trips: 400, surge: 4000 })], { wait: "acked" });
    await Promise.all([
      fixtures[0]!.waitCaughtUp("minor-0", 60_000),
      fixtures[1]!.waitCaughtUp("minor-1", 60_000),
    ]);

    assert.deepEqual(rejected, [0, 0], "nothing dead-lettered");
    const dlq = await fixtures[0]!.admin.fetchTopicOffsets(fixtures[0]!.dlq);
    assert.equal(
      dlq.reduce((n, p) => n + Number(p.high), 0),
      0,
      "the dead-letter topic is empty",
    );

    const entities = [1, 2, 3, 4, 5, 6].map((driver_id) => ({ driver_id }));
    const at10 = await stores[0]!.store.read(entities, ["stats:rate", "stats:trips"]);
    assert.deepEqual(
      at10.rows.map((r) => r.values),
      [
        [100, 100],
        [2, 2],
        [3, 3],
        [400, 400],
        [5, 5],
        [6, 6],
      ],
    );
    const at11 = await stores[1]!.store.read(entities, [
      "stats:rate",
      "stats:trips",
      "stats:surge",
    ]);
    assert.deepEqual(
      at11.rows.map((r) => r.values.slice(0, 2)),
      [
        [100, 100],
        [2, 2],
        [3, 3],
        [400, 400],
        [5, 5],
        [6, 6],
      ],
    );
    // surge: kept from the 1.1 write where a newer 1.0 record lacked it (driver 1), absent
    // where only 1.0 ever wrote (drivers 5, 6).
    assert.deepEqual(
      at11.rows.map((r) => [r.values[2], r.statuses[2]]),
      [
        [10, "PRESENT"],
        [20, "PRESENT"],
        [30, "PRESENT"],
        [4000, "PRESENT"],
        [null, "NOT_FOUND"],
        [null, "NOT_FOUND"],
      ],
    );

    // The 1.0 consumer counted what it ignored, by view and feature only.
    const { body } = await metrics.render();
    assert.match(
      body,
      /strata_ingest_ignored_features_total\{view="stats@1",feature="surge"\} 4\b/,
    );
  });
});
