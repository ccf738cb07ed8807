// npm run bench -- registry: from `apply` (applyRegistry, what `strata apply` calls) until a
// running serving process that follows the published registry (STRATA_PROJECT) answers a
// request for the view that apply added, while 4 readers keep it busy. The floor, in the same
// rounds: a raw kafkajs record of the registry record's size, produced with acks=all until a
// consumer already subscribed to its topic receives it (the one Kafka hop an apply needs).
import { randomUUID } from "node:crypto";
import { Kafka, logLevel, type Consumer, type Producer } from "kafkajs";
import { resolveEndpoints } from "../dev/stack/endpoints.js";
import { applyRegistry, type ApplyResult } from "../shared/registry-log/index.js";
import { TEST_TOPICS } from "../test/support/changelog.js";
import {
  msUntilServed,
  startFollowingServe,
  startReadLoad,
  withProbeViews,
} from "../test/support/registry-apply-probe.js";
import { openRegistryKafka } from "../test/support/registry-kafka.js";
import { testRepo, uniqueProject } from "../test/support/store.js";
import type { BenchTableRow } from "./run.js";
import { percentiles, round } from "./_stats.js";

export const description =
  "apply → served by a running server under read load (registry through Kafka) vs a raw kafkajs produce → consume of the same size";

const ROUNDS = 5;
const APPLIES_PER_ROUND = 5;
const READERS = 4;
const SERVED_TIMEOUT_MS = 30_000;

export async function run(log: (line: string) => void) {
  const project = uniqueProject("benchregistry");
  const brokers = resolveEndpoints().kafka.address;
  const testKafka = await openRegistryKafka();
  const kafka = testKafka.kafka;
  const apply = (n: number): Promise<ApplyResult> =>
    applyRegistry({
      kafka,
      definition: withProbeViews(testRepo(project), n),
      appliedBy: "bench",
      topics: TEST_TOPICS,
    });
  await apply(0);
  const server = await startFollowingServe(project);
  const recordBytes = Buffer.byteLength(
    JSON.stringify(withProbeViews(testRepo(project), ROUNDS * APPLIES_PER_ROUND)),
  );
  const floor = await KafkaFloor.open(brokers, recordBytes);
  const entities = { driver_id: [1, 2, 3] };
  const load = startReadLoad(
    server.url,
    server.key,
    { feature_service: "model_a", entities },
    READERS,
  );
  const floorMs: number[] = [];
  const returnedMs: number[] = [];
  const servedMs: number[] = [];
  try {
    let n = 0;
    for (let r = 0; r < ROUNDS; r++) {
      for (let i = 0; i < APPLIES_PER_ROUND; i++) floorMs.push(await floor.sample());
      for (let i = 0; i < APPLIES_PER_ROUND; i++) {
        n++;
        const startedAt = performance.now();
        const applied = await apply(n);
        if (!applied.published) throw new Error(`apply ${n} published nothing`);
        returnedMs.push(performance.now() - startedAt);
        servedMs.push(
          await msUntilServed(server.url, server.key, n, entities, startedAt, SERVED_TIMEOUT_MS),
        );
      }
      log(`round ${r + 1}/${ROUNDS}: ${n} applies served`);
    }
  } finally {
    const reads = await load.stop();
    log(`${reads.requests} reads by ${READERS} readers, ${reads.failures.length} failed`);
    await floor.close();
    await server.stop();
    await testKafka.close([project]);
  }
  const stat = (samples: number[]) => {
    const [p50, p99] = percentiles(samples, [0.5, 0.99]);
    return { p50_ms: round(p50!), p99_ms: round(p99!), samples: samples.length };
  };
  const served = stat(servedMs);
  const floorStat = stat(floorMs);
  const afterReturn = stat(servedMs.map((ms, i) => ms - returnedMs[i]!));
  const results = {
    record_bytes: recordBytes,
    readers: READERS,
    apply_to_served: served,
    apply_returned: stat(returnedMs),
    served_after_apply_returned: afterReturn,
    floor_kafka_produce_consume: floorStat,
    ratio_p50: round(served.p50_ms / floorStat.p50_ms),
    ratio_p99: round(served.p99_ms / floorStat.p99_ms),
  };
  const row = (measurement: string, s: ReturnType<typeof stat>): BenchTableRow => ({
    measurement,
    p50_ms: s.p50_ms,
    p99_ms: s.p99_ms,
    samples: s.samples,
  });
  const table: BenchTableRow[] = [
    row("apply_to_served", served),
    row("apply_returned", results.apply_returned),
    row("served_after_apply_returned", afterReturn),
    row("floor_kafka_produce_consume", floorStat),
    {
      measurement: "ratio apply_to_served / floor",
      p50_ms: results.ratio_p50,
      p99_ms: results.ratio_p99,
      samples: served.samples,
    },
  ];
  return { results, table };
}

/** A raw kafkajs producer and a consumer already subscribed to the same fresh topic. */
class KafkaFloor {
  private waiting: ((value: void) => void) | undefined;
  private expected = "";

  private constructor(
    private readonly kafka: Kafka,
    private readonly topic: string,
    private readonly producer: Producer,
    private readonly consumer: Consumer,
    private readonly payload: string,
  ) {}

  static async open(brokers: string[], bytes: number): Promise<KafkaFloor> {
    const kafka = new Kafka({
      brokers,
      clientId: "strata-bench-floor",
      logLevel: logLevel.NOTHING,
    });
    const topic = `strata-bench-floor-${randomUUID()}`;
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 1 }] });
    await admin.disconnect();
    const producer = kafka.producer({ idempotent: true });
    await producer.connect();
    const consumer = kafka.consumer({ groupId: `strata-bench-floor-${randomUUID()}` });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const floor = new KafkaFloor(kafka, topic, producer, consumer, "x".repeat(bytes));
    await consumer.run({
      eachMessage: ({ message }) => {
        if (message.key?.toString() === floor.expected) floor.waiting?.();
        return Promise.resolve();
      },
    });
    // The group's first assignment takes seconds: one record through before timing any.
    await floor.sample();
    return floor;
  }

  async sample(): Promise<number> {
    this.expected = randomUUID();
    const arrived = new Promise<void>((resolve) => (this.waiting = resolve));
    const startedAt = performance.now();
    await this.producer.send({
      topic: this.topic,
      acks: -1,
      messages: [{ key: this.expected, value: this.payload }],
    });
    await arrived;
    return performance.now() - startedAt;
  }

  async close(): Promise<void> {
    await this.consumer.disconnect();
    await this.producer.disconnect();
    const admin = this.kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [this.topic] }).catch(() => undefined);
    await admin.disconnect();
  }
}
