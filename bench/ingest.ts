// npm run bench -- ingest: the write path through Kafka against raw kafkajs, in one run.
//   floor_kafka        raw kafkajs: an idempotent acks=all producer sends records of the size
//                      Strata's are, in batches of the writer's size, and one consumer group
//                      reads them all back; records/s from the first send to the last record read
//   ingest             Strata end to end: ChangelogWriter (validate, encode, batch, acks=all),
//                      ChangelogConsumer (decode, validate, Lua CAS into Redis, commit); rows of
//                      10 features per second, from the first write to the last row applied
//   floor_send         raw kafkajs: one record, acks=all, send latency
//   push_sync_visible  HTTP POST /push of one row of a critical view with wait: applied, then
//                      /get-online-features until it returns the new value; ms from push to seen
// Floor and Strata run in this process against the same broker and Redis, interleaved over
// rounds; the figures are medians of the rounds.
import http from "node:http";
import { randomUUID } from "node:crypto";
import { Partitioners, type Kafka } from "kafkajs";
import { Redis } from "ioredis";
import { resolveEndpoints } from "../dev/stack/endpoints.js";
import { startHttpServer } from "../functions/serve/http-server.js";
import { DEFAULT_LIMITS } from "../functions/serve/config.js";
import { createServeRuntime } from "../functions/serve/runtime.js";
import {
  ChangelogConsumer,
  ChangelogWriter,
  changelogTopic,
  createKafka,
  deadLetterTopic,
  encodeChangelogRecord,
  ensureChangelogTopics,
  type ChangelogTopicConfig,
} from "../shared/changelog/index.js";
import { isStrataError } from "../shared/errors.js";
import { OnlineStore, type WriteRow } from "../shared/online-store/index.js";
import { prepareWrites } from "../shared/online-store/write-path.js";
import { FeatureRegistry } from "../shared/registry/index.js";
import { HybridLogicalClock } from "../shared/versions/index.js";
import type { BenchTableRow } from "./run.js";
import { BENCH_FEATURES, benchRepo } from "./_bench-repo.js";
import { percentiles, round } from "./_stats.js";

export const description =
  "changelog ingestion (produce, consume, CAS apply) vs raw kafkajs produce+consume, and push-to-visible latency";

const RECORDS = Number(process.env.BENCH_RECORDS ?? 100_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const PUSHES = Number(process.env.BENCH_PUSHES ?? 300);
const BATCH = 1_000;
const TOPICS: ChangelogTopicConfig = {
  partitions: 3,
  replicationFactor: 1,
  minInSyncReplicas: 1,
  reconciliationWindowMs: 3_600_000,
  deadLetterRetentionMs: 3_600_000,
};

const median = (values: number[]) => percentiles(values, [0.5])[0]!;

export async function run(log: (line: string) => void) {
  const kafka = createKafka(
    { brokers: resolveEndpoints().kafka.address, clientId: "strata-bench" },
    (level, message) => {
      if (level === "error") log(`kafkajs: ${message}`);
    },
  );
  const admin = kafka.admin();
  await admin.connect();
  const redis = new Redis(resolveEndpoints().redis.address);
  const clock = new HybridLogicalClock();
  const rowsFor = (count: number, view = "bench_view"): WriteRow[] =>
    Array.from({ length: count }, (_, i) => ({
      view,
      entity: { item_id: i },
      values: Object.fromEntries(BENCH_FEATURES.map((f, j) => [f, i + j / 10])),
      version: { eventTsMs: Date.now(), epoch: 0, hlc: clock.now(), originRegion: "bench" },
    }));
  const cleanups: string[] = [];
  const floorRates: number[] = [];
  const ingestRates: number[] = [];
  let recordBytes = 0;
  try {
    for (let round_ = 1; round_ <= ROUNDS; round_++) {
      const project = `benchingest${process.pid}r${round_}`;
      const registry = new FeatureRegistry(benchRepo(project));
      await ensureChangelogTopics(admin, project, TOPICS);
      cleanups.push(changelogTopic(project), deadLetterTopic(project));
      const rows = rowsFor(RECORDS);
      const sample = encodeChangelogRecord(prepareWrites(registry, rows.slice(0, 1))[0]!);
      recordBytes = sample.key.length + sample.value.length;

      const floorTopic = `strata-bench-floor-${process.pid}-${round_}`;
      await admin.createTopics({
        topics: [{ topic: floorTopic, numPartitions: TOPICS.partitions, replicationFactor: 1 }],
        waitForLeaders: true,
      });
      cleanups.push(floorTopic);
      const floor = await floorProduceConsume(kafka, floorTopic, sample, RECORDS);
      floorRates.push(floor);
      log(`round ${round_}: floor_kafka ${Math.round(floor)} records/s`);

      const ingest = await strataIngest(kafka, registry, redis, rows);
      ingestRates.push(ingest);
      log(`round ${round_}: ingest ${Math.round(ingest)} rows/s`);
    }
    const sendLatency = await floorSendLatency(kafka, admin, cleanups, PUSHES);
    log(`floor_send p50 ${round(sendLatency.p50_ms)} ms`);
    const push = await pushSyncVisible(PUSHES);
    log(`push_sync_visible p50 ${round(push.p50_ms)} ms, p99 ${round(push.p99_ms)} ms`);

    const floorRps = median(floorRates);
    const ingestRps = median(ingestRates);
    const results = {
      config: {
        records: RECORDS,
        rounds: ROUNDS,
        pushes: PUSHES,
        recordBytes,
        partitions: TOPICS.partitions,
      },
      floor_kafka: { records_per_s: Math.round(floorRps), rounds: floorRates.map(Math.round) },
      ingest: {
        rows_per_s: Math.round(ingestRps),
        rounds: ingestRates.map(Math.round),
        ratio_to_floor: round(ingestRps / floorRps, 3),
      },
      floor_send: { p50_ms: round(sendLatency.p50_ms), p99_ms: round(sendLatency.p99_ms) },
      push_sync_visible: {
        p50_ms: round(push.p50_ms),
        p99_ms: round(push.p99_ms),
        p50_ratio_to_floor_send: round(push.p50_ms / sendLatency.p50_ms),
      },
    };
    const table: BenchTableRow[] = [
      { measurement: "floor_kafka", "records|rows/s": Math.round(floorRps), ratio: 1 },
      {
        measurement: "ingest",
        "records|rows/s": Math.round(ingestRps),
        ratio: round(ingestRps / floorRps, 3),
      },
      {
        measurement: "floor_send",
        p50_ms: round(sendLatency.p50_ms),
        p99_ms: round(sendLatency.p99_ms),
      },
      { measurement: "push_sync_visible", p50_ms: round(push.p50_ms), p99_ms: round(push.p99_ms) },
    ];
    return { results, table };
  } finally {
    await admin.deleteTopics({ topics: cleanups }).catch(() => undefined);
    await admin.disconnect();
    redis.disconnect();
  }
}

/** Raw kafkajs: the same bytes, the same producer settings and batch size, one consumer group. */
async function floorProduceConsume(
  kafka: Kafka,
  topic: string,
  sample: { key: string; value: string },
  count: number,
): Promise<number> {
  const producer = kafka.producer({
    idempotent: true,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  const consumer = kafka.consumer({
    groupId: `floor-${randomUUID()}`,
    maxBytesPerPartition: 4 * 1024 * 1024,
  });
  await Promise.all([producer.connect(), consumer.connect()]);
  await consumer.subscribe({ topic, fromBeginning: true });
  let received = 0;
  let done!: () => void;
  const all = new Promise<void>((resolve) => (done = resolve));
  await consumer.run({
    partitionsConsumedConcurrently: 3,
    eachBatch: async ({ batch }) => {
      // What any consumer must do with a record: read its bytes.
      for (const message of batch.messages) if (message.value!.length > 0) received++;
      if (received >= count) done();
      return Promise.resolve();
    },
  });
  const started = performance.now();
  for (let i = 0; i < count; i += BATCH) {
    const messages = [];
    for (let j = i; j < Math.min(count, i + BATCH); j++) {
      // Distinct keys spread records over partitions the way entity keys do.
      messages.push({ key: `${sample.key}${j}`, value: sample.value });
    }
    await producer.send({ topic, acks: -1, messages });
  }
  await all;
  const rate = count / ((performance.now() - started) / 1000);
  await Promise.all([producer.disconnect(), consumer.disconnect()]);
  return rate;
}

/** Strata's writer and regional consumer, rows of 10 features into Redis. */
async function strataIngest(
  kafka: Kafka,
  registry: FeatureRegistry,
  redis: Redis,
  rows: readonly WriteRow[],
): Promise<number> {
  const store = await OnlineStore.open({ client: redis, registry, hotCache: false });
  const writer = await ChangelogWriter.open({
    kafka,
    registry,
    queue: { maxRecords: 50_000, batchSize: BATCH },
  });
  let processed = 0;
  let done!: () => void;
  const all = new Promise<void>((resolve) => (done = resolve));
  const consumer = await ChangelogConsumer.start({
    kafka,
    store,
    region: "bench",
    observer: {
      applied: (outcome) => {
        for (const counts of outcome.byView.values()) processed += counts.applied + counts.stale;
        if (processed >= rows.length) done();
      },
    },
  });
  const started = performance.now();
  for (let i = 0; i < rows.length; i += BATCH) {
    const slice = rows.slice(i, i + BATCH);
    for (;;) {
      try {
        await writer.write(slice);
        break;
      } catch (error) {
        // Back-pressure: the queue is full; a real producer waits too.
        if (!isStrataError(error, "STRATA_E_BACKPRESSURE")) throw error;
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    }
  }
  await all;
  const rate = rows.length / ((performance.now() - started) / 1000);
  await consumer.stop();
  await writer.close();
  await store.close();
  return rate;
}

/** One record, acks=all, one at a time: the latency under any synchronous write. */
async function floorSendLatency(
  kafka: Kafka,
  admin: ReturnType<Kafka["admin"]>,
  cleanups: string[],
  count: number,
) {
  const topic = `strata-bench-send-${process.pid}`;
  await admin.createTopics({
    topics: [{ topic, numPartitions: 3, replicationFactor: 1 }],
    waitForLeaders: true,
  });
  cleanups.push(topic);
  const producer = kafka.producer({
    idempotent: true,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  const samples: number[] = [];
  for (let i = 0; i < count + 20; i++) {
    const started = performance.now();
    await producer.send({ topic, acks: -1, messages: [{ key: `k${i}`, value: "x".repeat(300) }] });
    if (i >= 20) samples.push(performance.now() - started);
  }
  await producer.disconnect();
  const [p50, p99] = percentiles(samples, [0.5, 0.99]);
  return { p50_ms: p50!, p99_ms: p99! };
}

/** The serving tier in this process; a critical push with wait: applied, then reads until the value shows. */
async function pushSyncVisible(count: number) {
  const project = `benchpush${process.pid}`;
  const registry = new FeatureRegistry(benchRepo(project));
  const runtime = await createServeRuntime(
    {
      host: "127.0.0.1",
      port: 0,
      repoPath: "(in process)",
      redis: { url: resolveEndpoints().redis.address },
      apiKeys: null,
      limits: DEFAULT_LIMITS,
      cacheEntries: 10_000,
      shutdownGraceMs: 2_000,
      changelog: {
        kafka: { brokers: resolveEndpoints().kafka.address },
        region: "bench",
        topics: TOPICS,
        queueMaxRecords: 10_000,
        batchSize: BATCH,
        lingerMs: 5,
        ackTimeoutMs: 10_000,
      },
    },
    () => undefined,
    registry,
  );
  const server = await startHttpServer(runtime.handle, {
    host: "127.0.0.1",
    port: 0,
    maxBodyBytes: DEFAULT_LIMITS.maxBodyBytes,
    requestTimeoutMs: 10_000,
  });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const call = (path: string, body: unknown) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const request = http.request(
        `${server.url}${path}`,
        { method: "POST", agent, headers: { "content-type": "application/json" } },
        (response) => {
          let text = "";
          response.on("data", (chunk: Buffer) => (text += chunk.toString()));
          response.on("end", () => {
            if (response.statusCode !== 200)
              reject(new Error(`${path}: ${response.statusCode} ${text}`));
            else resolve(JSON.parse(text) as Record<string, unknown>);
          });
        },
      );
      request.on("error", reject);
      request.end(JSON.stringify(body));
    });
  const samples: number[] = [];
  try {
    for (let i = 0; i < count + 20; i++) {
      const value = i + 0.25;
      const started = performance.now();
      await call("/push", {
        push_source_name: "bench_critical",
        df: {
          item_id: [42],
          ...Object.fromEntries(BENCH_FEATURES.map((f) => [f, [value]])),
          event_timestamp: [Date.now()],
        },
        to: "online",
        wait: "applied",
      });
      for (;;) {
        const read = await call("/get-online-features", {
          features: ["bench_critical:f0"],
          entities: { item_id: [42] },
        });
        const values = (read.results as { values: unknown[] }[])[1]!.values;
        if (values[0] === value) break;
      }
      if (i >= 20) samples.push(performance.now() - started);
    }
  } finally {
    agent.destroy();
    await server.close(1_000);
    await runtime.close();
    const admin = createKafka(
      { brokers: resolveEndpoints().kafka.address, clientId: "strata-bench" },
      () => undefined,
    ).admin();
    await admin.connect();
    await admin
      .deleteTopics({ topics: [changelogTopic(project), deadLetterTopic(project)] })
      .catch(() => undefined);
    await admin.disconnect();
  }
  const [p50, p99] = percentiles(samples, [0.5, 0.99]);
  return { p50_ms: p50!, p99_ms: p99! };
}
