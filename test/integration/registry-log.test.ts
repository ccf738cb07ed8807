// The registry as a Kafka log, on the real Kafka of the stack: apply publishes and reads back,
// refuses incompatible changes, publishes nothing without a change, loses a race with a
// conflict; a follower starts from the latest, sees new applies live (time measured and
// printed), refuses corrupt records and keeps the registry it serves.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import kafkajs, { type Admin, type Kafka } from "kafkajs";
import { resolveEndpoints } from "../../dev/stack/endpoints.js";
import { changelogTopic, deadLetterTopic } from "../../shared/changelog/index.js";
import { isStrataError, type StrataError } from "../../shared/errors.js";
import {
  definitionHash,
  LiveRegistry,
  openRegistrySource,
  type FeatureRepoDefinition,
  type RegistrySource,
  type ServedRegistry,
} from "../../shared/registry/index.js";
import {
  applyRegistry,
  encodePublishedRegistry,
  kafkaRegistrySource,
  planRegistry,
  readPublishedRegistry,
  registryTopic,
  renderPlan,
  type PublishedRegistry,
} from "../../shared/registry-log/index.js";
import { prepareApply } from "../../shared/registry-log/registry-apply.js";
import { RegistryLogReader } from "../../shared/registry-log/registry-log-reader.js";
import { TEST_TOPICS } from "../support/changelog.js";
import { openRegistryKafka, type RegistryKafka } from "../support/registry-kafka.js";
import { testRepo, uniqueProject } from "../support/store.js";

/** A follower's events, for assertions. */
class Recorder {
  /** Each new registry with the wall-clock time it arrived (compared with records' appliedAt). */
  readonly registries: { served: ServedRegistry; at: number }[] = [];
  readonly refusals: { error: StrataError; origin: string }[] = [];
  private waiters: (() => void)[] = [];
  readonly listener = {
    onRegistry: (served: ServedRegistry) => {
      this.registries.push({ served, at: Date.now() });
      this.wake();
    },
    onRefused: (refusal: { error: StrataError; origin: string }) => {
      this.refusals.push(refusal);
      this.wake();
    },
  };
  async until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline)
        throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  }
  private wake(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

describe("the registry as a Kafka log, on the real Kafka", () => {
  const project = uniqueProject("registry");
  const topic = registryTopic(project);
  let kafka: Kafka;
  let admin: Admin;
  const sources: RegistrySource[] = [];
  const repo = (change?: (r: FeatureRepoDefinition) => void) => {
    const r = testRepo(project);
    change?.(r);
    return r;
  };
  const apply = (definition: FeatureRepoDefinition, extra: { allowBreaking?: boolean } = {}) =>
    applyRegistry({
      kafka,
      definition,
      appliedBy: "tester@ci",
      region: "a",
      topics: TEST_TOPICS,
      ...extra,
    });
  const endOffset = async () => Number((await admin.fetchTopicOffsets(topic))[0]!.high);
  const follow = async (recorder: Recorder) => {
    const source = kafkaRegistrySource({ kafka, project, region: "a", topics: TEST_TOPICS });
    sources.push(source);
    return { source, first: await source.start(recorder.listener) };
  };
  const produceRaw = async (value: string | Buffer, key: string) => {
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: [{ key, value }] });
    await producer.disconnect();
  };

  let testKafka: RegistryKafka;
  before(async () => {
    testKafka = await openRegistryKafka();
    ({ kafka, admin } = testKafka);
  });
  after(async () => {
    for (const source of sources) await source.stop().catch(() => undefined);
    await testKafka.close([project]);
  });

  it("a follower of a project with nothing published fails to start with STRATA_E_NO_REGISTRY", async () => {
    const empty = uniqueProject("empty");
    const source = kafkaRegistrySource({ kafka, project: empty, topics: TEST_TOPICS });
    try {
      await assert.rejects(source.start(new Recorder().listener), (error: unknown) =>
        isStrataError(error, "STRATA_E_NO_REGISTRY"),
      );
    } finally {
      await admin.deleteTopics({ topics: [registryTopic(empty)] }).catch(() => undefined);
    }
  });

  it("apply creates the project's topics, publishes version 1, and it reads back exactly", async () => {
    const result = await apply(repo());
    assert.equal(result.published, true);
    assert.equal(result.version, 1);
    assert.equal(result.offset, "0");
    assert.equal(result.previousHash, null);
    assert.equal(result.hash, definitionHash(repo()));
    assert.deepEqual(
      result.createdTopics.sort(),
      [changelogTopic(project), deadLetterTopic(project), topic].sort(),
    );
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    assert.equal(metadata.topics[0]!.partitions.length, 1);
    const configs = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [
        { type: kafkajs.ConfigResourceTypes.TOPIC, name: topic, configNames: ["cleanup.policy"] },
      ],
    });
    assert.equal(configs.resources[0]!.configEntries[0]!.configValue, "compact");

    const state = await readPublishedRegistry({ kafka, project });
    const record = state.latest!.record;
    assert.deepEqual(record.definition, repo());
    assert.equal(record.version, 1);
    assert.equal(record.appliedBy, "tester@ci");
    assert.equal(record.region, "a");
    assert.equal(record.strataVersion, "0.1.0");
    assert.deepEqual(record.breaking, { allowed: false, changes: [] });
    assert.ok(Math.abs(Date.parse(record.appliedAt) - Date.now()) < 60_000);
    assert.equal(state.latest!.registry.view("stats").key, "stats@2");
  });

  it("a read that does not reach its offsets in time fails with STRATA_E_REGISTRY_UNAVAILABLE", async () => {
    const reader = await RegistryLogReader.start({ kafka, project, topics: [topic] });
    try {
      await reader.readToEnd(admin, 10_000);
      // An offset the log does not reach: what a read behind a slow or unreachable broker waits for.
      await assert.rejects(reader.readUpTo(new Map([[topic, 1_000n]]), 300), (error: unknown) => {
        assert.ok(isStrataError(error, "STRATA_E_REGISTRY_UNAVAILABLE"));
        assert.equal(error.status, 503);
        assert.match(error.message, /not read to its end within 300 ms: .+ \(read to 1 of 1000\)/);
        return true;
      });
    } finally {
      await reader.stop();
    }
  });

  it("an apply without a change publishes nothing and says so", async () => {
    const before = await endOffset();
    const result = await apply(repo());
    assert.equal(result.published, false);
    assert.equal(result.version, 1);
    assert.deepEqual(result.plan.changes, []);
    assert.equal(await endOffset(), before);
  });

  it("plan compares with the published registry and renders it", async () => {
    const plan = await planRegistry({
      kafka,
      definition: repo((r) => (r.views[0]!.maxAgeMs = 1_000)),
    });
    assert.equal(plan.current!.version, 1);
    assert.deepEqual(
      plan.changes.map((c) => [c.action, c.subject, c.detail]),
      [["change", "stats@1", "maxAgeMs 60000 → 1000"]],
    );
    assert.match(renderPlan(plan), /~ view stats@1: maxAgeMs 60000 → 1000/);
  });

  it("refuses incompatible changes naming each reason (409), and publishes them with allowBreaking", async () => {
    const breaking = repo((r) => {
      (r.views[0]!.features as Record<string, string>).trips = "string";
      r.services = [];
    });
    const before = await endOffset();
    await assert.rejects(apply(breaking), (error: unknown) => {
      assert.ok(isStrataError(error, "STRATA_E_BREAKING_CHANGE"));
      assert.equal(error.status, 409);
      const changes = error.details.changes as { subject: string; reasons: string[] }[];
      assert.deepEqual(
        changes.map((c) => c.subject),
        ["stats@1:trips", "model_a"],
      );
      assert.match(changes[0]!.reasons.join(), /values stored as int64 would be read as string/);
      assert.match(changes[0]!.reasons.join(), /model_a pins stats@1/);
      assert.match(changes[1]!.reasons.join(), /STRATA_E_UNKNOWN_FEATURE_SERVICE/);
      return true;
    });
    assert.equal(await endOffset(), before, "a refused apply publishes nothing");
    const allowed = await apply(breaking, { allowBreaking: true });
    assert.equal(allowed.version, 2);
    assert.equal(allowed.previousHash, definitionHash(repo()));
    const record = (await readPublishedRegistry({ kafka, project })).latest!.record;
    assert.equal(record.breaking.allowed, true);
    assert.equal(record.breaking.changes.length, 2);
  });

  it("two applies racing on the same version: the first in the log wins, the other gets STRATA_E_REGISTRY_CONFLICT", async () => {
    const base = (await readPublishedRegistry({ kafka, project })).latest!.record;
    const options = {
      kafka,
      appliedBy: "tester@ci",
      region: "a",
      topics: TEST_TOPICS,
      allowBreaking: true,
    };
    const first = await prepareApply({
      ...options,
      definition: {
        ...base.definition,
        views: base.definition.views.map((v, i) => (i === 0 ? { ...v, maxAgeMs: 11 } : v)),
      },
    });
    const second = await prepareApply({
      ...options,
      definition: {
        ...base.definition,
        views: base.definition.views.map((v, i) => (i === 0 ? { ...v, maxAgeMs: 22 } : v)),
      },
    });
    try {
      const won = await first.publish();
      assert.equal(won.version, base.version + 1);
      await assert.rejects(second.publish(), (error: unknown) => {
        assert.ok(isStrataError(error, "STRATA_E_REGISTRY_CONFLICT"));
        assert.equal(error.status, 409);
        assert.equal((error.details.winner as { offset: string }).offset, won.offset);
        return true;
      });
    } finally {
      await first.close();
      await second.close();
    }
    const latest = (await readPublishedRegistry({ kafka, project })).latest!;
    assert.equal(
      latest.record.definition.views[0]!.maxAgeMs,
      11,
      "readers serve the winner, not the later record",
    );
    const next = await apply(
      repo((r) => (r.services = [])),
      { allowBreaking: true },
    );
    assert.equal(next.version, base.version + 2, "the next apply builds on the winner");
  });

  it("racing applies with Promise.all never both succeed on one version", async () => {
    let raced = 0;
    for (let round = 0; round < 4; round++) {
      const outcomes = await Promise.allSettled(
        [101, 202].map((maxAgeMs) =>
          apply(
            repo((r) => ((r.views[2]!.maxAgeMs = maxAgeMs + round), (r.services = []))),
            { allowBreaking: true },
          ),
        ),
      );
      const versions = outcomes.flatMap((o) => (o.status === "fulfilled" ? [o.value.version] : []));
      const conflicts = outcomes.filter(
        (o) => o.status === "rejected" && isStrataError(o.reason, "STRATA_E_REGISTRY_CONFLICT"),
      );
      assert.equal(versions.length + conflicts.length, 2, JSON.stringify(outcomes));
      assert.equal(
        new Set(versions).size,
        versions.length,
        "two applies succeeded with one version",
      );
      if (conflicts.length > 0) raced++;
      const latest = (await readPublishedRegistry({ kafka, project })).latest!.record;
      assert.equal(latest.version, Math.max(...versions));
    }
    console.log(
      `# racing applies: ${raced} of 4 rounds published the same version at once (one conflict each)`,
    );
  });

  it("a follower starts on the latest and sees each new apply live (time measured)", async () => {
    const recorder = new Recorder();
    const { first } = await follow(recorder);
    const published = await readPublishedRegistry({ kafka, project });
    assert.equal(first.version, published.latest!.record.version);
    assert.equal(first.hash, published.latest!.record.hash);
    assert.equal(first.origin, `kafka:${topic}@${published.latest!.offset}`);
    const delays: number[] = [];
    const applies: number[] = [];
    for (let i = 0; i < 20; i++) {
      const started = performance.now();
      const result = await apply(
        repo((r) => ((r.views[2]!.maxAgeMs = 1_000 + i), (r.services = []))),
        { allowBreaking: true },
      );
      applies.push(performance.now() - started);
      await recorder.until(
        () => recorder.registries.some((r) => r.served.version === result.version),
        10_000,
        `version ${result.version}`,
      );
      const seen = recorder.registries.find((r) => r.served.version === result.version)!;
      assert.equal(seen.served.hash, result.hash);
      assert.equal(seen.served.registry.view("rider_profile").maxAgeMs, 1_000 + i);
      // appliedAt is stamped just before the record is produced, on this same clock.
      const record = (await readPublishedRegistry({ kafka, project })).latest!.record;
      delays.push(seen.at - Date.parse(record.appliedAt));
    }
    const ms = (values: number[], p: number) => percentile(values, p).toFixed(0);
    console.log(
      `# follower: record stamped → onRegistry over ${delays.length} applies: p50 ${ms(delays, 50)} ms, p99 ${ms(delays, 99)} ms; whole applyRegistry call: p50 ${ms(applies, 50)} ms, p99 ${ms(applies, 99)} ms`,
    );
    assert.ok(Math.max(...delays) < 5_000);
    assert.deepEqual(recorder.refusals, []);
  });

  it("refuses hand-produced corrupt records (onRefused), keeps serving the last good one, and goes on", async () => {
    const recorder = new Recorder();
    const { first } = await follow(recorder);
    const latest = (await readPublishedRegistry({ kafka, project })).latest!.record;
    const next = latest.version + 1;
    const badDefinition = { ...latest.definition, services: [{ name: "m", features: ["nope:x"] }] };
    const forged: PublishedRegistry = {
      ...latest,
      version: next,
      appliedAt: new Date().toISOString(),
    };
    const corrupt: [string, string | Buffer, RegExp][] = [
      ["bad json", "{ not json", /not JSON/],
      [
        "hash mismatch",
        encodePublishedRegistry({
          ...forged,
          hash: definitionHash(repo()) === latest.hash ? "0".repeat(64) : definitionHash(repo()),
        }),
        /is not the hash of its definition/,
      ],
      [
        "invalid definition",
        encodePublishedRegistry({
          ...forged,
          definition: badDefinition,
          hash: definitionHash(badDefinition),
        }),
        /does not validate/,
      ],
    ];
    const start = await endOffset();
    for (const [what, value] of corrupt) await produceRaw(value, `${next}:a:${what}`);
    await recorder.until(() => recorder.refusals.length === 3, 10_000, "three refusals");
    for (const [i, [, , pattern]] of corrupt.entries()) {
      const refusal = recorder.refusals[i]!;
      assert.equal(refusal.error.code, "STRATA_E_REGISTRY_INVALID");
      assert.match(refusal.error.message, pattern);
      assert.equal(refusal.origin, `kafka:${topic}@${start + i}`);
    }
    assert.equal(recorder.registries.length, 0, "no registry swap on a corrupt record");
    assert.equal(
      (await readPublishedRegistry({ kafka, project })).latest!.record.version,
      first.version,
    );
    // A valid apply after them is the next version and reaches the follower.
    const result = await apply(
      repo((r) => ((r.views[2]!.maxAgeMs = 5), (r.services = []))),
      { allowBreaking: true },
    );
    assert.equal(result.version, first.version + 1);
    await recorder.until(() => recorder.registries.length === 1, 10_000, "the next apply");
    assert.equal(recorder.registries[0]!.served.version, result.version);
    // A tombstone (how an operator deletes a bad record's key) is ignored.
    await produceRaw(null as unknown as string, `${next}:a:bad json`);
  });

  it("a follower started after the applies serves the latest and reports the corrupt records still in the log", async () => {
    const recorder = new Recorder();
    const { first } = await follow(recorder);
    const latest = (await readPublishedRegistry({ kafka, project })).latest!;
    assert.equal(first.version, latest.record.version);
    assert.equal(first.registry.view("rider_profile").maxAgeMs, 5);
    assert.equal(recorder.refusals.length, 3);
  });
  it("re-adding a feature removed earlier, with another type, is refused: its old values are still stored", async () => {
    const without = repo((r) => {
      r.services = [];
      delete (r.views[2]!.features as Record<string, string>).blob;
    });
    const removed = await apply(without, { allowBreaking: true });
    assert.equal(removed.published, true);
    const retyped = repo((r) => {
      r.services = [];
      (r.views[2]!.features as Record<string, string>).blob = "string";
    });
    await assert.rejects(apply(retyped), (error: unknown) => {
      assert.ok(isStrataError(error, "STRATA_E_BREAKING_CHANGE"));
      const [change] = error.details.changes as { subject: string; reasons: string[] }[];
      assert.equal(change!.subject, "rider_profile@1:blob");
      assert.match(
        change!.reasons[0]!,
        /was published in version \d+ as bytes: the values it stored would be read as string/,
      );
      return true;
    });
    const plan = await planRegistry({ kafka, definition: retyped });
    assert.equal(plan.incompatible, 1);
  });
  it("a process' LiveRegistry follows the published registry (openRegistrySource) and refresh() brings what was just applied", async () => {
    const source = openRegistrySource(
      { kind: "published", project, kafka: { brokers: resolveEndpoints().kafka.address } },
      "strata-test",
    );
    const live = await LiveRegistry.follow(source, { project });
    try {
      const before = live.snapshot().version;
      assert.equal(
        before,
        (await readPublishedRegistry({ kafka, project })).latest!.record.version,
      );
      const result = await apply(
        repo((r) => ((r.services = []), (r.views[2]!.maxAgeMs = 77))),
        {
          allowBreaking: true,
        },
      );
      const newer = await live.newerThan(before, 10_000);
      assert.equal(newer?.version, result.version);
      assert.equal(live.registry.view("rider_profile").maxAgeMs, 77);
      // refresh: resolves once everything published before it reached the process.
      await produceRaw("{ not json", `${result.version + 1}:a:refresh`);
      let refused = 0;
      live.subscribe({ refused: () => refused++ });
      await source.refresh!();
      assert.equal(refused, 1);
    } finally {
      await live.stop();
    }
  });
});
