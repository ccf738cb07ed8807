// The local multi-region stack against its real servers: MirrorMaker 2 carries a region's
// changelog to every other region unchanged, never loops, and cutting a region's proxy cuts
// exactly that region's replication links. Needs `npm run stack -- up --regions a,b,c`
// (npm run test:integration starts it).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Kafka, logLevel, Partitioners, type Consumer, type KafkaMessage } from "kafkajs";
import {
  cutRegion,
  restoreRegion,
  stackRegions,
  type StackRegion,
} from "../../dev/stack/regions.js";
import {
  DEFAULT_TOPIC_CONFIG,
  changelogTopic,
  deadLetterTopic,
  ensureChangelogTopics,
} from "../../shared/changelog/topics.js";
import { uniqueName } from "../support/servers.js";

const CROSS_TIMEOUT_MS = 60_000;
/** After the cut, b->c has carried a record: a->b gets this much longer to show it is cut. */
const CUT_OBSERVATION_MS = 3_000;

function kafkaOf(region: StackRegion): Kafka {
  return new Kafka({
    clientId: `strata-test-regions-${region.name}`,
    brokers: region.kafkaBrokers,
    logLevel: logLevel.NOTHING,
  });
}

async function topicsOf(region: StackRegion): Promise<string[]> {
  const admin = kafkaOf(region).admin();
  await admin.connect();
  try {
    return await admin.listTopics();
  } finally {
    await admin.disconnect();
  }
}

async function waitForTopic(region: StackRegion, topic: string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!(await topicsOf(region)).includes(topic)) {
    if (Date.now() > deadline) {
      assert.fail(`${topic} did not appear in region ${region.name} within ${timeoutMs / 1000}s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Every record of one topic of one region, as it arrives (a throwaway group, from the start). */
class TopicWatcher {
  readonly records: KafkaMessage[] = [];
  private consumer: Consumer | undefined;

  constructor(
    private readonly region: StackRegion,
    readonly topic: string,
  ) {}

  async start(timeoutMs: number): Promise<void> {
    await waitForTopic(this.region, this.topic, timeoutMs);
    this.consumer = kafkaOf(this.region).consumer({
      groupId: uniqueName("strata-test-regions"),
      maxWaitTimeInMs: 100,
    });
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.topic, fromBeginning: true });
    await this.consumer.run({
      eachMessage: ({ message }) => {
        this.records.push(message);
        return Promise.resolve();
      },
    });
  }

  has(value: string): boolean {
    return this.records.some((record) => record.value?.toString() === value);
  }

  async waitFor(value: string, timeoutMs: number): Promise<KafkaMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.records.find((record) => record.value?.toString() === value);
      if (found) return found;
      if (Date.now() > deadline) {
        assert.fail(
          `record "${value}" did not reach ${this.topic} in region ${this.region.name} within ${timeoutMs / 1000}s`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
  }
}

async function produce(
  region: StackRegion,
  topic: string,
  message: { key: string; value: string; timestamp?: string; headers?: Record<string, string> },
) {
  const producer = kafkaOf(region).producer({
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages: [message] });
  } finally {
    await producer.disconnect();
  }
}

async function createChangelog(region: StackRegion, project: string): Promise<void> {
  const admin = kafkaOf(region).admin();
  await admin.connect();
  try {
    await ensureChangelogTopics(admin, project, DEFAULT_TOPIC_CONFIG);
  } finally {
    await admin.disconnect();
  }
}

describe("the local multi-region stack (MirrorMaker 2 between real brokers)", () => {
  let a: StackRegion;
  let b: StackRegion;
  let c: StackRegion;
  const project = uniqueName("regions");
  const topic = changelogTopic(project);
  const watchers: TopicWatcher[] = [];
  // Set by the first test, used by the second: a's changelog in b, b's changelog in c.
  let aInB: TopicWatcher | undefined;
  let bInC: TopicWatcher | undefined;

  function watch(region: StackRegion, name: string): TopicWatcher {
    const watcher = new TopicWatcher(region, name);
    watchers.push(watcher);
    return watcher;
  }

  before(() => {
    // Fails every test with the command to run when the stack lacks the regions.
    [a, b, c] = stackRegions(3) as [StackRegion, StackRegion, StackRegion];
  });

  after(async () => {
    if (a) await restoreRegion(a.name).catch(() => undefined);
    await Promise.all(watchers.map((watcher) => watcher.stop()));
  });

  it("carries a record from a to b and c unchanged (key, value, headers, timestamp), and never loops", async () => {
    const created = Date.now();
    await createChangelog(a, project);
    const sent = {
      key: "entity-1",
      value: `from a ${project}`,
      // Older than the append time, so a broker-assigned timestamp would show.
      timestamp: String(created - 60_000),
      headers: { "strata-test": "header value" },
    };
    await produce(a, topic, sent);
    const inB = watch(b, `${a.name}.${topic}`);
    const inC = watch(c, `${a.name}.${topic}`);
    await Promise.all([inB.start(CROSS_TIMEOUT_MS), inC.start(CROSS_TIMEOUT_MS)]);
    const [gotB, gotC] = await Promise.all([
      inB.waitFor(sent.value, CROSS_TIMEOUT_MS),
      inC.waitFor(sent.value, CROSS_TIMEOUT_MS),
    ]);
    console.log(
      `  new topic in a until its first record was consumed in b and c: ${((Date.now() - created) / 1000).toFixed(1)}s`,
    );
    for (const got of [gotB, gotC]) {
      assert.equal(got.key?.toString(), sent.key);
      assert.equal(got.timestamp, sent.timestamp);
      assert.equal(got.headers?.["strata-test"]?.toString(), "header value");
    }

    // b's own changelog of the same project: once it has crossed to a and c, MM2 has listed
    // b's topics again since a.<topic> existed in b, so a loop would have shown by now.
    await createChangelog(b, project);
    const fromB = `from b ${project}`;
    await produce(b, topic, { key: "entity-1", value: fromB });
    const bInA = watch(a, `${b.name}.${topic}`);
    const bToC = watch(c, `${b.name}.${topic}`);
    await Promise.all([bInA.start(CROSS_TIMEOUT_MS), bToC.start(CROSS_TIMEOUT_MS)]);
    await Promise.all([
      bInA.waitFor(fromB, CROSS_TIMEOUT_MS),
      bToC.waitFor(fromB, CROSS_TIMEOUT_MS),
    ]);
    aInB = inB;
    bInC = bToC;

    for (const region of [a, b, c]) {
      const topics = (await topicsOf(region)).filter((name) => name.includes(project));
      const twoHops = topics.filter((name) => /^[^.]+\.[^.]+\.strata\./.test(name));
      assert.deepEqual(twoHops, [], `replicated twice in ${region.name}: ${twoHops.join(", ")}`);
      const dlq = topics.filter((name) => name.endsWith(`.${deadLetterTopic(project)}`));
      assert.deepEqual(dlq, [], `dead-letter topic replicated into ${region.name}`);
    }
  });

  it("cutting a's proxy stops a->b while b->c goes on; restoring resumes a->b", async () => {
    assert.ok(aInB && bInC, "the first test set up the replicated topics");

    await cutRegion(a.name);
    const cutAt = Date.now();
    const duringCut = `from a during the cut ${project}`;
    const fromB = `from b during a's cut ${project}`;
    await produce(a, topic, { key: "entity-2", value: duringCut });
    await produce(b, topic, { key: "entity-2", value: fromB });
    await bInC.waitFor(fromB, CROSS_TIMEOUT_MS);
    console.log(
      `  b->c carried a record ${((Date.now() - cutAt) / 1000).toFixed(1)}s into a's cut`,
    );
    await new Promise((resolve) => setTimeout(resolve, CUT_OBSERVATION_MS));
    assert.equal(aInB.has(duringCut), false, "a->b carried a record while a was cut");

    const healedAt = Date.now();
    await restoreRegion(a.name);
    await aInB.waitFor(duringCut, CROSS_TIMEOUT_MS);
    console.log(`  a->b resumed ${((Date.now() - healedAt) / 1000).toFixed(1)}s after the heal`);
  });
});
