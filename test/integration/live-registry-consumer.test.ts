import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  ChangelogConsumer,
  ChangelogWriter,
  type ApplyOutcome,
} from "../../shared/changelog/index.js";
import type { WriteRow } from "../../shared/online-store/index.js";
import {
  definitionHash,
  FeatureRegistry,
  LiveRegistry,
  type FeatureRepoDefinition,
} from "../../shared/registry/index.js";
import { resolveEndpoints } from "../../dev/stack/endpoints.js";
import { generateApiKey } from "../../functions/serve/auth.js";
import { changelogFixture, TEST_TOPICS, type ChangelogFixture } from "../support/changelog.js";
import { post, startTestServer } from "../support/serve.js";
import { ControlledRegistrySource } from "../support/controlled-registry-source.js";
import { openStore, uniqueProject, type OpenedStore } from "../support/store.js";

const DRIVERS = 100;

function definitions(project: string): Record<"v1" | "v2" | "ghost", FeatureRepoDefinition> {
  const entities = [{ name: "driver", joinKeys: { driver_id: "int64" as const } }];
  const stats = (version: string, features: Record<string, "float64">) => ({
    name: "stats",
    version,
    entities: ["driver"],
    features,
    maxAgeMs: 3_600_000,
  });
  const zone = {
    name: "zone_stats",
    version: "1.0.0",
    entities: ["driver"],
    features: { density: "float64" as const },
    maxAgeMs: 3_600_000,
  };
  return {
    v1: { project, entities, views: [stats("1.0.0", { rate: "float64" })] },
    // A feature added to stats@1 (a new minor) and a new view.
    v2: {
      project,
      entities,
      views: [stats("1.1.0", { rate: "float64", surge: "float64" }), zone],
    },
    // A view no registry the consumer will ever get has.
    ghost: {
      project,
      entities,
      views: [{ ...zone, name: "ghost" }],
    },
  };
}

function rows(): WriteRow[] {
  const out: WriteRow[] = [];
  const now = Date.now();
  for (let d = 0; d < DRIVERS; d++) {
    const version = {
      eventTsMs: now,
      epoch: 0,
      hlc: { wallMs: now, counter: d },
      originRegion: "a",
    };
    out.push({
      view: "stats@1",
      entity: { driver_id: d },
      values: { rate: d, surge: d + 0.5 },
      version,
    });
    out.push({
      view: "zone_stats@1",
      entity: { driver_id: d },
      values: { density: d * 3 },
      version,
    });
  }
  return out;
}

for (const refresh of [true, false]) {
  const how = refresh
    ? "a source it asks for what was published (refresh)"
    : "a source that delivers the registry a moment later";
  describe(`the consumer follows its registry live: ${how}`, () => {
    const project = uniqueProject("live_ingest");
    const defs = definitions(project);
    const region = "live-ingest";
    let changelog: ChangelogFixture;
    let source: ControlledRegistrySource;
    let live: LiveRegistry;
    let opened: OpenedStore;
    const outcomes: ApplyOutcome[] = [];
    const closers: (() => Promise<unknown>)[] = [];

    const writerFor = async (definition: FeatureRepoDefinition, version: number) => {
      const registry = LiveRegistry.fixed({
        registry: new FeatureRegistry(definition),
        version,
        hash: definitionHash(definition),
        origin: `test:${version}`,
      });
      const writer = await ChangelogWriter.open({ kafka: changelog.kafka, registry });
      closers.push(() => writer.close(5_000));
      return writer;
    };

    before(async () => {
      changelog = await changelogFixture(new FeatureRegistry(defs.v1));
      source = new ControlledRegistrySource(defs.v1, { refresh });
      live = await LiveRegistry.follow(source);
      opened = await openStore("standalone", live, { hotCache: false });
      const consumer = await ChangelogConsumer.start({
        kafka: changelog.kafka,
        store: opened.store,
        region,
        chunkSize: 500,
        registryWaitMs: 3_000,
        observer: { applied: (outcome) => outcomes.push(outcome) },
      });
      closers.push(() => consumer.stop());
    });
    after(async () => {
      for (const close of closers.reverse()) await close().catch(() => undefined);
      await changelog.cleanup();
      await opened.close();
      await live.stop();
    });

    it("applies records of a view and a feature published after its registry, arriving before its swap", async () => {
      // Published (a writer already has it), not yet delivered to the consumer's source.
      source.stage(defs.v2);
      if (!refresh) setTimeout(() => source.deliver(), 1_000);
      const writer = await writerFor(defs.v2, 2);
      await writer.write(rows(), { wait: "acked" });
      await changelog.waitCaughtUp(region, 30_000);

      const rejected = outcomes.flatMap((o) => o.rejected);
      assert.deepEqual(
        rejected.map((r) => `${r.view}: ${r.error.code}`),
        [],
        "nothing dead-lettered",
      );
      const ignored = outcomes.flatMap((o) => [...(o.ignoredFeatures?.keys() ?? [])]);
      assert.deepEqual(ignored, [], "no feature ignored");
      const applied = outcomes.reduce(
        (sum, o) => sum + [...o.byView.values()].reduce((s, c) => s + c.applied, 0),
        0,
      );
      assert.equal(applied, 2 * DRIVERS);
      assert.equal(live.snapshot().version, 2);
      if (refresh) assert.ok(source.refreshes >= 1);

      const reader = new FeatureRegistry(defs.v2);
      const result = await opened.store.read(
        Array.from({ length: DRIVERS }, (_, d) => ({ driver_id: d })),
        ["stats:rate", "stats:surge", "zone_stats:density"],
        reader,
      );
      result.rows.forEach((row, d) => {
        assert.deepEqual(row.statuses, ["PRESENT", "PRESENT", "PRESENT"], `driver ${d}`);
        assert.deepEqual(row.values, [d, d + 0.5, d * 3], `driver ${d}`);
      });
      const end = await changelog.endOffsets();
      const dlqEnd = await changelog.admin.fetchTopicOffsets(changelog.dlq).catch(() => []);
      assert.equal(
        dlqEnd.reduce((sum, p) => sum + Number(p.high), 0),
        0,
        `dead-letter topic is empty (changelog ends at ${JSON.stringify([...end])})`,
      );
    });

    it("still dead-letters a record of a view no registry has, after a bounded wait", async () => {
      const before = outcomes.length;
      const writer = await writerFor(defs.ghost, 99);
      const now = Date.now();
      await writer.write(
        [
          {
            view: "ghost@1",
            entity: { driver_id: 1 },
            values: { density: 1 },
            version: {
              eventTsMs: now,
              epoch: 0,
              hlc: { wallMs: now, counter: 0 },
              originRegion: "a",
            },
          },
        ],
        { wait: "acked" },
      );
      const started = performance.now();
      await changelog.waitCaughtUp(region, 30_000);
      const rejected = outcomes.slice(before).flatMap((o) => o.rejected);
      assert.deepEqual(
        rejected.map((r) => [r.view, r.error.code]),
        [["ghost@1", "STRATA_E_UNKNOWN_VIEW"]],
      );
      assert.ok(performance.now() - started < 20_000);
    });
  });
}

describe("a server and a consumer that get a new registry at different moments", () => {
  const project = uniqueProject("live_push");
  const defs = definitions(project);
  const region = "live-push";
  const pusher = generateApiKey("pusher", { push: true });

  it("pushes to a view the server just got, and the consumer that gets it later applies the rows", async () => {
    const changelog = await changelogFixture(new FeatureRegistry(defs.v1));
    const serving = new ControlledRegistrySource(defs.v1);
    const consuming = new ControlledRegistrySource(defs.v1);
    const servingLive = await LiveRegistry.follow(serving);
    const consumingLive = await LiveRegistry.follow(consuming);
    const server = await startTestServer(servingLive, {
      extraKeys: [pusher.record],
      changelog: {
        kafka: { brokers: resolveEndpoints().kafka.address },
        region,
        topics: TEST_TOPICS,
        queueMaxRecords: 10_000,
        batchSize: 500,
        lingerMs: 5,
        ackTimeoutMs: 10_000,
      },
    });
    const store = await openStore("standalone", consumingLive, { hotCache: false });
    const outcomes: ApplyOutcome[] = [];
    const consumer = await ChangelogConsumer.start({
      kafka: changelog.kafka,
      store: store.store,
      region,
      observer: { applied: (outcome) => outcomes.push(outcome) },
    });
    try {
      // The same publication reaches the server now and the consumer's source only later.
      serving.publish(defs.v2);
      consuming.stage(defs.v2);
      const drivers = Array.from({ length: 20 }, (_, d) => d);
      const pushed = await post(
        server.url,
        {
          push_source_name: "zone_stats",
          df: {
            driver_id: drivers,
            density: drivers.map((d) => d * 3),
            event_timestamp: drivers.map(() => new Date().toISOString()),
          },
          wait: "acked",
        },
        { key: pusher.key, path: "/push" },
      );
      assert.equal(pushed.status, 200, pushed.text);
      await changelog.waitCaughtUp(region, 30_000);
      assert.deepEqual(
        outcomes.flatMap((o) => o.rejected.map((r) => r.error.code)),
        [],
      );
      assert.equal(consumingLive.snapshot().version, 2);
      const read = await post(
        server.url,
        { features: ["zone_stats:density"], entities: { driver_id: drivers } },
        { key: server.key },
      );
      assert.equal(read.status, 200, read.text);
      const column = (read.json.results as { values: unknown[]; statuses: string[] }[])[1]!;
      assert.deepEqual(
        column.values,
        drivers.map((d) => d * 3),
      );
      assert.ok(column.statuses.every((status) => status === "PRESENT"));
    } finally {
      await consumer.stop();
      await server.close();
      await store.close();
      await changelog.cleanup();
      await servingLive.stop();
      await consumingLive.stop();
    }
  });
});
