// The registry across the stack's regions: an apply in one region reaches followers in the
// others through MirrorMaker 2 (`<region>.strata.<project>.registry` copies), a later apply in
// another region builds on it, and two applies racing in two regions end with every region
// serving the same winner. Times are measured and printed. Read-only for the shared stack:
// no fault is injected.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Kafka } from "kafkajs";
import { stackRegions, type StackRegion } from "../../dev/stack/regions.js";
import {
  changelogTopic,
  createKafka,
  deadLetterTopic,
  replicatedChangelogTopic,
} from "../../shared/changelog/index.js";
import { isStrataError } from "../../shared/errors.js";
import type {
  FeatureRepoDefinition,
  RegistrySource,
  ServedRegistry,
} from "../../shared/registry/index.js";
import {
  applyRegistry,
  compareRegistries,
  kafkaRegistrySource,
  readPublishedRegistry,
  registryTopics,
} from "../../shared/registry-log/index.js";
import { prepareApply } from "../../shared/registry-log/registry-apply.js";
import { TEST_TOPICS } from "../support/changelog.js";
import { testRepo, uniqueProject, waitFor } from "../support/store.js";

interface Region {
  stack: StackRegion;
  name: string;
  peers: string[];
  kafka: Kafka;
  source?: RegistrySource;
  /** What its follower serves now. */
  served?: ServedRegistry;
  /** When (wall clock) its follower got each registry, by hash. */
  arrivals: Map<string, number>;
}

/** How long the first record of a new registry topic may take to reach another region. */
const FIRST_REPLICATION_MS = 90_000;

/** Polls every 20 ms: the checks read Kafka in three regions. */
const until = (check: () => boolean | Promise<boolean>, timeoutMs: number, what: string) =>
  waitFor(check, timeoutMs, what, 20);

describe("the registry across regions, through MirrorMaker 2", () => {
  const project = uniqueProject("regreg");
  let regions: Region[];
  const region = (name: string) => regions.find((r) => r.name === name)!;
  const repo = (maxAgeMs: number): FeatureRepoDefinition => {
    const r = testRepo(project);
    r.views[2]!.maxAgeMs = maxAgeMs;
    return r;
  };
  const options = (r: Region) => ({
    kafka: r.kafka,
    region: r.name,
    peerRegions: r.peers,
    appliedBy: `tester@${r.name}`,
    topics: TEST_TOPICS,
  });
  /** Starts a region's follower, retrying while nothing has reached the region yet. */
  const follow = async (r: Region) => {
    const source = kafkaRegistrySource({ ...options(r), project, startTimeoutMs: 10_000 });
    const listener = {
      onRegistry: (next: ServedRegistry) => {
        r.served = next;
        r.arrivals.set(next.hash, Date.now());
      },
      onRefused: ({ error }: { error: Error }) =>
        assert.fail(`region ${r.name} refused: ${error.message}`),
    };
    const waited = await until(
      async () => {
        try {
          r.served = await source.start(listener);
          return true;
        } catch (error) {
          if (isStrataError(error, "STRATA_E_NO_REGISTRY")) return false;
          throw error;
        }
      },
      FIRST_REPLICATION_MS,
      `a registry in region ${r.name}`,
    );
    r.source = source;
    return waited;
  };

  before(() => {
    const stack = stackRegions(3);
    regions = stack.map((s) => ({
      stack: s,
      name: s.name,
      peers: stack.filter((o) => o.name !== s.name).map((o) => o.name),
      kafka: createKafka({ brokers: s.kafkaBrokers, clientId: "strata-test" }, () => undefined),
      arrivals: new Map(),
    }));
  });
  after(async () => {
    for (const r of regions) await r.source?.stop().catch(() => undefined);
    for (const r of regions) {
      const admin = r.kafka.admin();
      await admin.connect();
      await admin
        .deleteTopics({
          topics: [
            ...registryTopics(project, r.peers),
            changelogTopic(project),
            deadLetterTopic(project),
            ...r.peers.map((p) => replicatedChangelogTopic(project, p)),
          ],
        })
        .catch(() => undefined);
      await admin.disconnect();
    }
  });

  it("an apply in region a reaches followers in the other regions", async () => {
    const [a, ...others] = regions;
    const result = await applyRegistry({ ...options(a!), definition: repo(1_000) });
    assert.equal(result.version, 1);
    await follow(a!);
    for (const r of others) {
      const waited = await follow(r);
      assert.equal(r.served!.version, 1);
      assert.equal(r.served!.hash, result.hash);
      assert.equal(
        r.served!.origin.startsWith(`kafka:${a!.name}.strata.${project}.registry@`),
        true,
      );
      console.log(
        `# region ${r.name}: first registry of a new project arrived ${waited.toFixed(0)} ms after its follower first looked`,
      );
    }
  });

  it("an apply in region b builds on a's version and reaches every region live", async () => {
    const b = region(regions[1]!.name);
    const result = await applyRegistry({ ...options(b), definition: repo(2_000) });
    assert.equal(result.version, 2, "b saw a's version 1 through its copy");
    const { appliedAt } = (await readPublishedRegistry({ kafka: b.kafka, project })).latest!.record;
    for (const r of regions) {
      await until(() => r.served?.version === 2, 30_000, `version 2 in region ${r.name}`);
      assert.equal(r.served!.hash, result.hash);
      // appliedAt is stamped just before the record is produced; the regions share this clock.
      const delay = r.arrivals.get(result.hash)! - Date.parse(appliedAt);
      console.log(
        `# region ${r.name}: b's version 2 served ${delay} ms after b stamped the record`,
      );
    }
  });

  it("applies racing in two regions on one version end with every region serving the same winner", async () => {
    const first = regions[0]!;
    const third = regions[2]!;
    const prepared = await Promise.all([
      prepareApply({ ...options(first), definition: repo(3_000) }),
      prepareApply({ ...options(third), definition: repo(4_000) }),
    ]);
    let outcomes: PromiseSettledResult<{ version: number; hash: string }>[];
    try {
      assert.deepEqual(
        prepared.map((p) => p.plan.current?.version),
        [2, 2],
      );
      outcomes = await Promise.allSettled(prepared.map((p) => p.publish()));
    } finally {
      for (const p of prepared) await p.close();
    }
    for (const outcome of outcomes) {
      if (outcome.status === "rejected")
        assert.ok(
          isStrataError(outcome.reason, "STRATA_E_REGISTRY_CONFLICT"),
          String(outcome.reason),
        );
    }
    // The two version-3 records, each from its own region's topic; the order decides.
    const records = await Promise.all(
      [first, third].map(
        async (r) => (await readPublishedRegistry({ kafka: r.kafka, project })).latest!.record,
      ),
    );
    assert.deepEqual(
      records.map((r) => r.version),
      [3, 3],
    );
    const winner = compareRegistries(records[0]!, records[1]!) > 0 ? records[0]! : records[1]!;
    const winnerIndex = records.indexOf(winner);
    assert.equal(outcomes[winnerIndex]!.status, "fulfilled", "the winning apply reported success");
    const waited = await until(
      () => regions.every((r) => r.served?.version === 3 && r.served.hash === winner.hash),
      60_000,
      `every region serving ${winner.region}'s version 3`,
    );
    const latest = Math.max(...records.map((r) => Date.parse(r.appliedAt)));
    const delays = regions.map((r) => `${r.name} ${r.arrivals.get(winner.hash)! - latest} ms`);
    console.log(
      `# racing applies in ${first.name} and ${third.name}: ${outcomes.map((o, i) => `${records[i]!.region} ${o.status === "fulfilled" ? "succeeded" : "got STRATA_E_REGISTRY_CONFLICT"}`).join(", ")}; every region serves ${winner.region}'s (after the later record was stamped: ${delays.join(", ")}; waited ${waited.toFixed(0)} ms after the publishes returned)`,
    );
    for (const r of regions) {
      const seen = await readPublishedRegistry({ kafka: r.kafka, project, peerRegions: r.peers });
      assert.equal(seen.latest!.record.hash, winner.hash, `region ${r.name}'s one-shot read`);
    }
    // The next apply, anywhere, builds on the winner.
    const next = await applyRegistry({ ...options(regions[1]!), definition: repo(5_000) });
    assert.equal(next.version, 4);
    assert.equal(next.previousHash, winner.hash);
  });
});
