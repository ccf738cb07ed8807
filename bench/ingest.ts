// npm run bench -- ingest: the write path through Kafka against raw kafkajs, in one run.
//   floor_kafka        raw kafkajs: an idempotent acks=all producer sends records of the size
//                      Strata's are, in batches of the writer's size, and one consumer group
//                      reads them all back; records/s from the first send to the last record read.
//                      kafkajs as installed (with patches/) and its own DefaultPartitioner
//   ingest             Strata end to end: ChangelogWriter (validate, encode, batch, acks=all),
//                      the regional consumer (decode, validate, Lua CAS into Redis, commit); rows of
//                      10 features per second, from the first write to the last row applied
//   writer_alone,      the two halves of `ingest`, one after the other on a changelog of their
//   consumer_alone     own: the writer until Kafka acknowledged every row, then the regional
//                      consumer draining it; rows/s of each (which half limits `ingest`)
//   floor_send         raw kafkajs: one record, acks=all, send latency
//   push_sync_visible  HTTP POST /push of one row of a critical view with wait: applied, then
//                      /get-online-features until it returns the new value; ms from push to seen
// floor_kafka and ingest also give each process's CPU per record or row (/proc, Linux): the
// producer or writer (this process), the consumer, Redis and the broker of the local stack. The
// run keeps both cores busy, so the total CPU per row is what the rate follows.
// In both, the producer runs in this process and the consumer in a process of its own (Strata's
// is the real regional consumer, functions/ingest/main.ts), as they are deployed. Both consumer
// processes get the deployed consumer's node flags (functions/ingest/node-flags.ts), so the two
// differ in their code, not in how V8 is tuned for them; the clock runs
// from the first send to the consumer group having committed the last record. Floor and Strata
// use the same broker, interleaved over rounds; the figures are medians of the rounds.
import { spawn, type ChildProcess } from "node:child_process";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { randomUUID } from "node:crypto";
import { Partitioners, type Admin, type Kafka } from "kafkajs";
import { resolveEndpoints } from "../dev/stack/endpoints.js";
import { INGEST_NODE_FLAGS } from "../functions/ingest/node-flags.js";
import { startHttpServer } from "../functions/serve/http-server.js";
import { DEFAULT_LIMITS } from "../functions/serve/config.js";
import { createServeRuntime } from "../functions/serve/runtime.js";
import {
  ChangelogWriter,
  consumerGroupId,
  changelogTopic,
  createKafka,
  deadLetterTopic,
  encodeChangelogRecord,
  ensureChangelogTopics,
  waitUntilCommitted,
  type ChangelogTopicConfig,
} from "../shared/changelog/index.js";
import { isStrataError } from "../shared/errors.js";
import type { WriteRow } from "../shared/online-store/index.js";
import { prepareWrites } from "../shared/online-store/write-path.js";
import { FeatureRegistry } from "../shared/registry/index.js";
import { HybridLogicalClock } from "../shared/versions/index.js";
import type { BenchTableRow } from "./run.js";
import { BENCH_FEATURES, benchRepo, benchRows } from "./_bench-repo.js";
import { startCpuAccount, stackServerPids } from "./_process-cpu.js";
import { median, percentiles, round } from "./_stats.js";

export const description =
  "changelog ingestion (produce, consume, CAS apply) vs raw kafkajs produce+consume, and push-to-visible latency";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const RECORDS = Number(process.env.BENCH_RECORDS ?? 100_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const PUSHES = Number(process.env.BENCH_PUSHES ?? 300);
const BATCH = 1_000;
const COMMIT_TIMEOUT_MS = 600_000;
/**
 * Node flags for both consumer processes: the deployed consumer's, then any of
 * BENCH_CONSUMER_NODE_FLAGS (e.g. "--cpu-prof" to profile them).
 */
const CONSUMER_NODE_FLAGS = [
  ...INGEST_NODE_FLAGS,
  ...(process.env.BENCH_CONSUMER_NODE_FLAGS ?? "").split(" ").filter(Boolean),
];
const TOPICS: ChangelogTopicConfig = {
  partitions: 3,
  replicationFactor: 1,
  minInSyncReplicas: 1,
  reconciliationWindowMs: 3_600_000,
  deadLetterRetentionMs: 3_600_000,
};

export async function run(log: (line: string) => void) {
  const kafka = createKafka(
    { brokers: resolveEndpoints().kafka.address, clientId: "strata-bench" },
    (level, message) => {
      if (level === "error") log(`kafkajs: ${message}`);
    },
  );
  const admin = kafka.admin();
  await admin.connect();
  const clock = new HybridLogicalClock();
  const cleanups: string[] = [];
  const floorRates: number[] = [];
  const ingestRates: number[] = [];
  const floorCpu: Record<string, number>[] = [];
  const ingestCpu: Record<string, number>[] = [];
  const writerRates: number[] = [];
  const consumerRates: number[] = [];
  let recordBytes = 0;
  try {
    for (let round_ = 1; round_ <= ROUNDS; round_++) {
      const project = `benchingest${process.pid}r${round_}`;
      const registry = new FeatureRegistry(benchRepo(project));
      await ensureChangelogTopics(admin, project, TOPICS);
      cleanups.push(changelogTopic(project), deadLetterTopic(project));
      const rows = benchRows(RECORDS, clock);
      const sample = encodeChangelogRecord(prepareWrites(registry, rows.slice(0, 1))[0]!);
      recordBytes = sample.key.length + sample.value.length;

      const floorTopic = `strata-bench-floor-${process.pid}-${round_}`;
      await admin.createTopics({
        topics: [{ topic: floorTopic, numPartitions: TOPICS.partitions, replicationFactor: 1 }],
        waitForLeaders: true,
      });
      cleanups.push(floorTopic);
      const floor = await floorProduceConsume(kafka, admin, floorTopic, sample, RECORDS);
      floorRates.push(floor.rate);
      floorCpu.push(floor.cpu);
      log(
        `round ${round_}: floor_kafka ${Math.round(floor.rate)} records/s, CPU us per record ${formatCpu(floor.cpu)}`,
      );

      const ingest = await strataIngest(kafka, admin, registry, rows);
      ingestRates.push(ingest.rate);
      ingestCpu.push(ingest.cpu);
      log(
        `round ${round_}: ingest ${Math.round(ingest.rate)} rows/s, CPU us per row ${formatCpu(ingest.cpu)}`,
      );

      const stagesProject = `benchstages${process.pid}r${round_}`;
      const stagesRegistry = new FeatureRegistry(benchRepo(stagesProject));
      await ensureChangelogTopics(admin, stagesProject, TOPICS);
      cleanups.push(changelogTopic(stagesProject), deadLetterTopic(stagesProject));
      const stages = await strataStages(kafka, admin, stagesRegistry, rows);
      writerRates.push(stages.writer);
      consumerRates.push(stages.consumer);
      log(
        `round ${round_}: writer_alone ${Math.round(stages.writer)} rows/s, consumer_alone ${Math.round(stages.consumer)} rows/s`,
      );
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
      floor_kafka: {
        records_per_s: Math.round(floorRps),
        rounds: floorRates.map(Math.round),
        cpu_us_per_record: medianByRole(floorCpu),
      },
      ingest: {
        rows_per_s: Math.round(ingestRps),
        rounds: ingestRates.map(Math.round),
        ratio_to_floor: round(ingestRps / floorRps, 3),
        cpu_us_per_row: medianByRole(ingestCpu),
      },
      writer_alone: {
        rows_per_s: Math.round(median(writerRates)),
        rounds: writerRates.map(Math.round),
      },
      consumer_alone: {
        rows_per_s: Math.round(median(consumerRates)),
        rounds: consumerRates.map(Math.round),
      },
      floor_send: { p50_ms: round(sendLatency.p50_ms), p99_ms: round(sendLatency.p99_ms) },
      push_sync_visible: {
        p50_ms: round(push.p50_ms),
        p99_ms: round(push.p99_ms),
        p50_ratio_to_floor_send: round(push.p50_ms / sendLatency.p50_ms),
      },
    };
    const table: BenchTableRow[] = [
      {
        measurement: "floor_kafka",
        "records|rows/s": Math.round(floorRps),
        ratio: 1,
        cpu_us_each: formatCpu(medianByRole(floorCpu)),
      },
      {
        measurement: "ingest",
        "records|rows/s": Math.round(ingestRps),
        ratio: round(ingestRps / floorRps, 3),
        cpu_us_each: formatCpu(medianByRole(ingestCpu)),
      },
      { measurement: "writer_alone", "records|rows/s": Math.round(median(writerRates)) },
      { measurement: "consumer_alone", "records|rows/s": Math.round(median(consumerRates)) },
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
  }
}

/** A consumer process; resolves once its group has a member, so the clock starts with it ready. */
async function startConsumerProcess(
  admin: Admin,
  groupId: string,
  script: string,
  env: Record<string, string>,
): Promise<ChildProcess> {
  const child = spawn(process.execPath, [...CONSUMER_NODE_FLAGS, "--import", "tsx", script], {
    cwd: root,
    env: { ...process.env, KAFKA_BROKERS: resolveEndpoints().kafka.address.join(","), ...env },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const started = performance.now();
  for (;;) {
    const { groups } = await admin.describeGroups([groupId]);
    if (groups[0]?.state === "Stable" && groups[0].members.length > 0) return child;
    if (child.exitCode !== null) throw new Error(`${script} exited with ${child.exitCode}`);
    if (performance.now() - started > 60_000) throw new Error(`${script} did not join ${groupId}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function stopProcess(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await exited;
}

/** Raw kafkajs: the same bytes, the same producer settings and batch size, a consumer process. */
async function floorProduceConsume(
  kafka: Kafka,
  admin: Admin,
  topic: string,
  sample: { key: string; value: string },
  count: number,
): Promise<{ rate: number; cpu: Record<string, number> }> {
  const groupId = `floor-${randomUUID()}`;
  const consumer = await startConsumerProcess(admin, groupId, "bench/_floor-consumer.ts", {
    FLOOR_TOPIC: topic,
    FLOOR_GROUP: groupId,
  });
  const producer = kafka.producer({
    idempotent: true,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  const cpu = startCpuAccount({
    producer: process.pid,
    consumer: consumer.pid,
    broker: stackServerPids().kafka,
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
  await waitUntilCommitted(admin, groupId, topic, COMMIT_TIMEOUT_MS, 10);
  const rate = count / ((performance.now() - started) / 1000);
  const cpuPerRecord = cpu(count);
  await producer.disconnect();
  await stopProcess(consumer);
  await admin.deleteGroups([groupId]).catch(() => undefined);
  return { rate, cpu: cpuPerRecord };
}

/** Strata's writer here, the regional consumer process (functions/ingest/main.ts) applying to Redis. */
async function strataIngest(
  kafka: Kafka,
  admin: Admin,
  registry: FeatureRegistry,
  rows: readonly WriteRow[],
): Promise<{ rate: number; cpu: Record<string, number> }> {
  const consumer = await startStrataConsumer(admin, registry);
  const servers = stackServerPids();
  const cpu = startCpuAccount({
    writer: process.pid,
    consumer: consumer.pid,
    redis: servers.redis,
    broker: servers.kafka,
  });
  const started = performance.now();
  await writeAll(kafka, registry, rows);
  await consumer.drained();
  const rate = rows.length / ((performance.now() - started) / 1000);
  const cpuPerRow = cpu(rows.length);
  await consumer.stop();
  return { rate, cpu: cpuPerRow };
}

/**
 * The two halves of `ingest` one after the other, each with the machine to itself: the writer
 * alone (rows/s until Kafka acknowledged the last), then the regional consumer draining what
 * it wrote (rows/s from the group being ready to the last commit). They say which half limits
 * the end-to-end figure.
 */
async function strataStages(
  kafka: Kafka,
  admin: Admin,
  registry: FeatureRegistry,
  rows: readonly WriteRow[],
): Promise<{ writer: number; consumer: number }> {
  const started = performance.now();
  await writeAll(kafka, registry, rows);
  const writer = rows.length / ((performance.now() - started) / 1000);
  const consumer = await startStrataConsumer(admin, registry);
  const ready = performance.now();
  await consumer.drained();
  const rate = rows.length / ((performance.now() - ready) / 1000);
  await consumer.stop();
  return { writer, consumer: rate };
}

/**
 * The regional consumer (functions/ingest/main.ts) of the bench region, as a process, once its
 * group is ready; `drained` resolves when the group has committed the whole changelog.
 */
async function startStrataConsumer(
  admin: Admin,
  registry: FeatureRegistry,
): Promise<{ pid?: number; drained: () => Promise<void>; stop: () => Promise<void> }> {
  const region = "bench";
  const groupId = consumerGroupId(registry.project, region);
  const child = await startConsumerProcess(admin, groupId, "functions/ingest/main.ts", {
    STRATA_REPO: "bench/_bench-repo.ts",
    BENCH_PROJECT: registry.project,
    REDIS_URL: resolveEndpoints().redis.address,
    STRATA_REGION: region,
    STRATA_CHANGELOG_PARTITIONS: String(TOPICS.partitions),
    STRATA_CHANGELOG_REPLICATION: "1",
    STRATA_CHANGELOG_MIN_ISR: "1",
    STRATA_METRICS_HOST: "127.0.0.1",
    STRATA_METRICS_PORT: "0",
  });
  const topic = changelogTopic(registry.project);
  return {
    pid: child.pid,
    drained: async () => {
      await waitUntilCommitted(admin, groupId, topic, COMMIT_TIMEOUT_MS, 10);
    },
    stop: () => stopProcess(child),
  };
}

/** Every row through a ChangelogWriter, BATCH at a time, until Kafka acknowledged them all. */
async function writeAll(
  kafka: Kafka,
  registry: FeatureRegistry,
  rows: readonly WriteRow[],
): Promise<void> {
  const writer = await ChangelogWriter.open({
    kafka,
    registry,
    queue: { maxRecords: 50_000, batchSize: BATCH },
  });
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
  await writer.flush();
  await writer.close();
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
      admin: { host: "127.0.0.1", port: 0 },
      registry: { kind: "file", path: "(in process)" },
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

/** The median of each role's figure over the rounds (roles absent in a round are skipped). */
function medianByRole(rounds: Record<string, number>[]): Record<string, number> {
  const roles = [...new Set(rounds.flatMap((r) => Object.keys(r)))];
  return Object.fromEntries(
    roles.map((role) => [
      role,
      round(median(rounds.flatMap((r) => (r[role] === undefined ? [] : [r[role]]))), 1),
    ]),
  );
}

function formatCpu(cpu: Record<string, number>): string {
  const parts = Object.entries(cpu).map(([role, micros]) => `${role} ${micros}`);
  return parts.length > 0 ? parts.join(", ") : "(not measured)";
}
