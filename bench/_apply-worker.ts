// One measurement of `npm run bench -- apply`, as a process of its own with the deployed
// consumer's node flags (bench/apply.ts starts it): APPLY_MODE=strata applies changelog records
// with the regional consumer's ChangelogApplier, APPLY_MODE=floor writes the same rows with raw
// pipelined HSETs. Prints one line of JSON: elapsed ms, this process' CPU, Redis' CPU (from
// /proc) and young- and old-generation collection time, all for the timed part only.
import { constants, PerformanceObserver, type PerformanceEntry } from "node:perf_hooks";
import type { KafkaMessage } from "kafkajs";
import { Redis } from "ioredis";
import { ChangelogApplier, encodeChangelogRecord } from "../shared/changelog/index.js";
import { EnvReader } from "../shared/config/env.js";
import { OnlineStore } from "../shared/online-store/index.js";
import { prepareWrites } from "../shared/online-store/write-path.js";
import { FeatureRegistry } from "../shared/registry/index.js";
import { HybridLogicalClock } from "../shared/versions/index.js";
import { benchRepo, benchRowFields, benchRows } from "./_bench-repo.js";
import { processCpuMicros } from "./_process-cpu.js";

// Set by bench/apply.ts; missing ones fail with the project's STRATA_E_BAD_CONFIG.
const read = new EnvReader();
const count = (name: string) => Number(read.required(name, "a positive integer"));
const mode = read.required("APPLY_MODE", '"strata" or "floor"');
const rowCount = count("APPLY_ROWS");
const chunkSize = count("APPLY_CHUNK");
const lanes = count("APPLY_LANES");
const redisPid = count("APPLY_REDIS_PID");

const registry = new FeatureRegistry(benchRepo(read.required("APPLY_PROJECT", "a project name")));
const prepared = prepareWrites(registry, benchRows(rowCount, new HybridLogicalClock()));
const client = new Redis(read.required("REDIS_URL", "a Redis URL"));

/** Runs `chunk` over [0, rowCount) in chunks, `lanes` at a time, as partitions are applied. */
async function inLanes(chunk: (start: number, end: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      while (next < rowCount) {
        const start = next;
        next = Math.min(rowCount, next + chunkSize);
        await chunk(start, next);
      }
    }),
  );
}

async function strata(): Promise<() => Promise<void>> {
  // Records as kafkajs hands them to the consumer: key and value Buffers.
  const messages: KafkaMessage[] = prepared.map((write, i) => {
    const record = encodeChangelogRecord(write);
    return {
      key: Buffer.from(record.key),
      value: Buffer.from(record.value),
      timestamp: "0",
      attributes: 0,
      offset: String(i),
      headers: {},
    };
  });
  const store = await OnlineStore.open({ client, registry, hotCache: false });
  const applier = new ChangelogApplier({
    store,
    reject: (records) =>
      Promise.reject(new Error(`${records.length} records rejected: ${records[0]!.error.message}`)),
    shouldContinue: () => false,
  });
  return () => inLanes((start, end) => applier.apply(messages.slice(start, end), 0));
}

async function floor(): Promise<() => Promise<void>> {
  const [versionField, ...featureFields] = benchRowFields(registry);
  const commands = prepared.map((write) => {
    const args = [versionField!, write.encodedVersion];
    featureFields.forEach((field, j) => args.push(field, write.values[j]!));
    return { key: write.redisKey, args };
  });
  await client.ping();
  return () =>
    inLanes(async (start, end) => {
      const pipeline = client.pipeline();
      for (let i = start; i < end; i++) pipeline.hset(commands[i]!.key, ...commands[i]!.args);
      const results = await pipeline.exec();
      const error = results?.find(([failure]) => failure)?.[0];
      if (error) throw error;
    });
}

if (mode !== "strata" && mode !== "floor") {
  throw new Error(`APPLY_MODE ${mode} is neither "strata" nor "floor"`);
}
const run = mode === "strata" ? await strata() : await floor();
const gcMs = { minor: 0, major: 0 };
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const kind = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
    gcMs[kind === constants.NODE_PERFORMANCE_GC_MINOR ? "minor" : "major"] += entry.duration;
  }
}).observe({ entryTypes: ["gc"] });
const cpuBefore = process.cpuUsage();
const redisBefore = processCpuMicros(redisPid);
const started = performance.now();
await run();
const elapsedMs = performance.now() - started;
const cpu = process.cpuUsage(cpuBefore);
const redisAfter = processCpuMicros(redisPid);
// Let the observer hear of the last collections before reporting them.
await new Promise((resolve) => setTimeout(resolve, 50));
process.stdout.write(
  JSON.stringify({
    elapsedMs,
    cpuMicros: cpu.user + cpu.system,
    redisMicros:
      redisBefore === undefined || redisAfter === undefined ? null : redisAfter - redisBefore,
    gcMs,
  }) + "\n",
);
client.disconnect();
