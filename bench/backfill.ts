// npm run bench -- backfill: a backfill of BENCH_BACKFILL_ROWS (1,000,000) rows from Parquet
// (validate, produce to the backfill topic, load into a new generation, verify) against the
// floor of a raw pipelined HSET of the same rows into Redis in the same run; then the flip's
// visibility: from the pointer SET until each of 4 serving-tier reader processes (hot cache and
// invalidation, as serving has) returns the new generation's value. Training sets: the hook below.
import { runTrainingSetBench } from "./_training-set-bench.js";
import { fork } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { resolveEndpoints } from "../dev/stack/endpoints.js";
import { BackfillCoordinator } from "../shared/backfill/index.js";
import { backfillTopic } from "../shared/backfill/backfill-topic.js";
import {
  changelogTopic,
  createKafka,
  deadLetterTopic,
  ensureChangelogTopics,
} from "../shared/changelog/index.js";
import { encodeEntityKey, entityRedisKey } from "../shared/key-codec.js";
import { openEmbeddedEngine } from "../shared/offline/duckdb.js";
import { OnlineStore, scanMasters } from "../shared/online-store/index.js";
import { generationPointerKey, rowFields } from "../shared/online-store/redis-layout.js";
import { FeatureRegistry } from "../shared/registry/index.js";
import { encodeVersion } from "../shared/versions/index.js";
import type { BenchTableRow } from "./run.js";
import { BENCH_FEATURES, benchRepo } from "./_bench-repo.js";
import { percentiles, round } from "./_stats.js";

export const description =
  "backfill of 1M rows (Parquet -> backfill topic -> new generation, verified) vs raw pipelined HSET of the same rows; flip visibility across 4 serving readers";

const here = path.dirname(fileURLToPath(import.meta.url));
const TOPICS = {
  partitions: 6,
  replicationFactor: 1,
  minInSyncReplicas: 1,
  reconciliationWindowMs: 3_600_000,
  deadLetterRetentionMs: 3_600_000,
};

export async function run(
  log: (line: string) => void,
): Promise<{ results: Record<string, unknown>; table: BenchTableRow[] }> {
  const rows = Number(process.env.BENCH_BACKFILL_ROWS ?? 1_000_000);
  const project = `benchbf_${Date.now().toString(36)}`;
  const registry = new FeatureRegistry(benchRepo(project));
  const endpoints = resolveEndpoints();
  const redisUrl = endpoints.redis.address;
  const client = new Redis(redisUrl);
  const kafka = createKafka(
    { brokers: endpoints.kafka.address, clientId: "bench-backfill" },
    () => undefined,
  );
  const admin = kafka.admin();
  await admin.connect();
  await ensureChangelogTopics(admin, project, TOPICS);
  const dir = mkdtempSync(path.join(os.tmpdir(), "strata-bench-backfill-"));
  const file = path.join(dir, "rows.parquet");
  const eventTsMs = Date.now() - 3_600_000;
  const store = await OnlineStore.open({ client, registry, hotCache: false });
  try {
    // The rows: item i, feature j = i + j / 10, one event time.
    const engine = await openEmbeddedEngine();
    const features = BENCH_FEATURES.map((f, j) => `(i + ${j / 10})::DOUBLE AS ${f}`).join(", ");
    await engine.connection.run(
      `COPY (SELECT i::BIGINT AS item_id, ${features}, ${eventTsMs}::BIGINT AS event_timestamp FROM range(${rows}) t(i)) TO '${file}' (FORMAT parquet)`,
    );
    engine.close();
    log(`wrote ${rows} rows to Parquet`);

    // Floor: raw pipelined HSET of the same rows (fields of a scratch generation), 8 batches in flight.
    const view = registry.view("bench_view");
    const fields = rowFields(view, 999_999);
    const version = encodeVersion({
      eventTsMs,
      epoch: 1,
      hlc: { wallMs: eventTsMs, counter: 0 },
      originRegion: "bench",
    });
    const floorStarted = performance.now();
    const BATCH = 2_000;
    const inFlight: Promise<unknown>[] = [];
    for (let start = 0; start < rows; start += BATCH) {
      const pipeline = client.pipeline();
      for (let i = start; i < Math.min(rows, start + BATCH); i++) {
        const key = entityRedisKey(
          project,
          view.entitySet,
          encodeEntityKey(view.joinKeys, { item_id: i }),
        );
        const args: string[] = [fields.version, version, fields.clock, "bench:0000000000000000"];
        for (let j = 0; j < BENCH_FEATURES.length; j++)
          args.push(fields.features[j]!, String(i + j / 10));
        pipeline.hset(key, ...args);
      }
      inFlight.push(pipeline.exec());
      if (inFlight.length >= 8) await inFlight.shift();
    }
    await Promise.all(inFlight);
    const floorSeconds = (performance.now() - floorStarted) / 1_000;
    const floorRate = rows / floorSeconds;
    log(`floor: raw HSET ${Math.round(floorRate)} rows/s`);

    // The backfill.
    const coordinator = new BackfillCoordinator(
      { store, client, kafka, region: "bench", topics: TOPICS, drainTimeoutMs: 5_000 },
      "bench_view",
    );
    const t0 = performance.now();
    const started = await coordinator.start({ source: { kind: "file", path: file } });
    const t1 = performance.now();
    const loaded = await coordinator.advance();
    const t2 = performance.now();
    const verified = await coordinator.verify();
    const t3 = performance.now();
    const backfillSeconds = (t2 - t0) / 1_000;
    const backfillRate = rows / backfillSeconds;
    log(
      `backfill: validate ${round((t1 - t0) / 1_000)} s, produce+load ${round((t2 - t1) / 1_000)} s (${Math.round(backfillRate)} rows/s), verify ${round((t3 - t2) / 1_000)} s; ${loaded.stage} -> ${verified.stage}`,
    );

    // Flip visibility: two generations whose item 0 differs; flips alternate between them.
    const genA = started.newGeneration;
    const genB = genA + 1_000;
    await store.write(
      [
        {
          view: "bench_view",
          entity: { item_id: 0 },
          values: Object.fromEntries(BENCH_FEATURES.map((f) => [f, -1])),
          version: {
            eventTsMs,
            epoch: 0,
            hlc: { wallMs: eventTsMs, counter: 0 },
            originRegion: "bench",
          },
        },
      ],
      { generation: genB },
    );
    const valueOf = (generation: number) => (generation === genA ? 0 : -1);
    const pointer = generationPointerKey(project, view.key);
    await client.set(pointer, String(genA));
    const readers = Array.from({ length: 4 }, () =>
      fork(path.join(here, "_flip-reader.ts"), [], {
        execArgv: ["--import", "tsx"],
        env: { ...process.env, BENCH_PROJECT: project, BENCH_REDIS_URL: redisUrl },
        stdio: ["ignore", "inherit", "inherit", "ipc"],
      }),
    );
    const seen: { value: unknown; atMs: number }[][] = readers.map(() => []);
    await Promise.all(
      readers.map(
        (child, n) =>
          new Promise<void>((resolve) =>
            child.on("message", (message) => {
              if (message === "ready") resolve();
              else seen[n]!.push(message as { value: unknown; atMs: number });
            }),
          ),
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    const visible: number[] = [];
    const FLIPS = 60;
    for (let k = 0; k < FLIPS; k++) {
      const target = k % 2 === 0 ? genB : genA;
      const marks = seen.map((s) => s.length);
      const at = performance.timeOrigin + performance.now();
      await client.set(pointer, String(target));
      const deadline = Date.now() + 5_000;
      let when: number | undefined;
      while (Date.now() < deadline) {
        const firsts = seen.map(
          (s, n) => s.slice(marks[n]).find((m) => m.value === valueOf(target))?.atMs,
        );
        if (firsts.every((f) => f !== undefined)) {
          when = Math.max(...firsts);
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      visible.push(when === undefined ? 5_000 : when - at);
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
    for (const child of readers) child.send("stop");
    await Promise.all(readers.map((child) => new Promise((resolve) => child.on("exit", resolve))));
    const [p50, p99, max] = percentiles(visible, [0.5, 0.99, 1]);
    log(`flip visible: p50 ${round(p50!)} ms, p99 ${round(p99!)} ms over ${FLIPS} flips`);

    // Training sets: the same run, over Parquet history (bench/_training-set-bench.ts).
    const trainingSet = await runTrainingSetBench(log);

    const results = {
      backfill: {
        rows,
        rows_per_s: round(backfillRate, 0),
        seconds: round(backfillSeconds),
        validate_seconds: round((t1 - t0) / 1_000),
        produce_and_load_seconds: round((t2 - t1) / 1_000),
        verify_seconds: round((t3 - t2) / 1_000),
        vs_floor: round(backfillRate / floorRate, 3),
      },
      floor_hset_pipeline: { rows, rows_per_s: round(floorRate, 0), seconds: round(floorSeconds) },
      flip: {
        flips: FLIPS,
        readers: 4,
        visible_p50_ms: round(p50!),
        visible_p99_ms: round(p99!),
        visible_max_ms: round(max!),
      },
      training_set: trainingSet.training_set,
      floor_duckdb_asof: trainingSet.floor_duckdb_asof,
      training_set_vs_floor: trainingSet.ratio,
    };
    const table: BenchTableRow[] = [
      {
        measurement: "backfill (validate + produce + load)",
        rows,
        rows_per_s: results.backfill.rows_per_s,
        seconds: results.backfill.seconds,
      },
      {
        measurement: "floor: raw pipelined HSET",
        rows,
        rows_per_s: results.floor_hset_pipeline.rows_per_s,
        seconds: results.floor_hset_pipeline.seconds,
      },
      {
        measurement: "verify",
        rows,
        rows_per_s: round(rows / ((t3 - t2) / 1_000), 0),
        seconds: results.backfill.verify_seconds,
      },
      {
        measurement: "flip visible (4 readers)",
        rows: FLIPS,
        p50_ms: results.flip.visible_p50_ms,
        p99_ms: results.flip.visible_p99_ms,
      },
      {
        measurement: "training set (DuckDB ASOF on strata_version)",
        rows: results.training_set.labels,
        seconds: results.training_set.seconds,
      },
      {
        measurement: "floor: hand-written DuckDB ASOF join",
        rows: results.training_set.labels,
        seconds: results.floor_duckdb_asof.seconds,
      },
    ];
    return { results, table };
  } finally {
    await store.close();
    for await (const keys of scanMasters(client, `fs:{${project}*`, 5_000))
      await client.unlink(...keys);
    await admin
      .deleteTopics({
        topics: [changelogTopic(project), deadLetterTopic(project), backfillTopic(project)],
      })
      .catch(() => undefined);
    await admin.disconnect();
    client.disconnect();
    rmSync(dir, { recursive: true, force: true });
  }
}
