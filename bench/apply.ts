// npm run bench -- apply: the regional consumer's apply path without Kafka, against raw ioredis.
//   apply        changelog records (key and value Buffers, as kafkajs hands them over) decoded,
//                validated and CAS-applied by the consumer's own ChangelogApplier, in chunks of
//                its default size, as many chunks at a time as it applies partitions
//   floor_hset   raw ioredis: the same rows' version and feature fields as pipelined HSETs,
//                one pipeline per chunk, as many at a time
// Each measurement is a process of its own (bench/_apply-worker.ts) with the deployed
// consumer's node flags, alternating over rounds, each round on fresh keys (first writes, as
// in `ingest`). Rows/s, CPU per row of the process and of Redis (/proc), and collection time
// per 100,000 rows; figures are medians of the rounds. The consumer's CPU in `ingest` mixes this
// path with kafkajs and shares the cores with the writer and the broker; here it runs alone,
// so a change to decoding or to the CAS writes shows with far less noise.
import { execFile } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Redis } from "ioredis";
import { resolveEndpoints } from "../dev/stack/endpoints.js";
import { CONSUMER_DEFAULTS } from "../shared/changelog/index.js";
import { INGEST_NODE_FLAGS } from "../functions/ingest/node-flags.js";
import type { BenchTableRow } from "./run.js";
import { stackServerPids } from "./_process-cpu.js";
import { median, round } from "./_stats.js";

export const description =
  "the consumer's decode, validate and CAS apply of changelog records vs raw pipelined HSET of the same rows";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const ROWS = Number(process.env.BENCH_ROWS ?? 100_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const MODES = ["floor", "strata"] as const;
type Mode = (typeof MODES)[number];

interface Sample {
  rowsPerS: number;
  cpuPerRow: number;
  redisPerRow: number;
  gcMinorMs: number;
  gcMajorMs: number;
}

export async function run(log: (line: string) => void) {
  const redisPid =
    stackServerPids().redis ?? (await redisProcessId(resolveEndpoints().redis.address));
  if (redisPid === undefined)
    throw new Error("bench apply needs the pid of a local Redis (its CPU is measured)");
  const samples: Record<Mode, Sample[]> = { floor: [], strata: [] };
  for (let round_ = 1; round_ <= ROUNDS; round_++) {
    for (const mode of MODES) {
      const sample = await measure(mode, `benchapply${process.pid}r${round_}${mode}`, redisPid);
      samples[mode].push(sample);
      log(
        `round ${round_}: ${mode === "strata" ? "apply" : "floor_hset"} ${Math.round(sample.rowsPerS)} rows/s, CPU us per row ${round(sample.cpuPerRow, 2)} (Redis ${round(sample.redisPerRow, 2)}), GC ms per 100k rows ${Math.round(sample.gcMinorMs)} minor, ${Math.round(sample.gcMajorMs)} major`,
      );
    }
  }
  const summary = (mode: Mode) => ({
    rows_per_s: Math.round(median(samples[mode].map((s) => s.rowsPerS))),
    cpu_us_per_row: round(median(samples[mode].map((s) => s.cpuPerRow)), 2),
    redis_cpu_us_per_row: round(median(samples[mode].map((s) => s.redisPerRow)), 2),
    gc_ms_per_100k_rows: {
      minor: Math.round(median(samples[mode].map((s) => s.gcMinorMs))),
      major: Math.round(median(samples[mode].map((s) => s.gcMajorMs))),
    },
    rounds: samples[mode].map((s) => Math.round(s.rowsPerS)),
  });
  const floor = summary("floor");
  const apply = summary("strata");
  const results = {
    config: {
      rows: ROWS,
      rounds: ROUNDS,
      chunk: CONSUMER_DEFAULTS.chunkSize,
      lanes: CONSUMER_DEFAULTS.partitionsConsumedConcurrently,
      nodeFlags: INGEST_NODE_FLAGS,
    },
    floor_hset: floor,
    apply: {
      ...apply,
      ratio_to_floor: round(apply.rows_per_s / floor.rows_per_s, 3),
      cpu_ratio_to_floor: round(apply.cpu_us_per_row / floor.cpu_us_per_row, 2),
    },
  };
  const row = (name: string, s: typeof floor, ratio: number): BenchTableRow => ({
    measurement: name,
    "rows/s": s.rows_per_s,
    ratio,
    cpu_us_per_row: s.cpu_us_per_row,
    redis_us_per_row: s.redis_cpu_us_per_row,
    gc_ms_per_100k: `${s.gc_ms_per_100k_rows.minor} minor, ${s.gc_ms_per_100k_rows.major} major`,
  });
  const table = [row("floor_hset", floor, 1), row("apply", apply, results.apply.ratio_to_floor)];
  return { results, table };
}

/** Redis' own pid (INFO server): the stack's Redis when this run did not start it. */
async function redisProcessId(url: string): Promise<number | undefined> {
  const client = new Redis(url);
  try {
    const pid = /^process_id:(\d+)/m.exec(await client.info("server"))?.[1];
    return pid === undefined ? undefined : Number(pid);
  } finally {
    client.disconnect();
  }
}

async function measure(mode: Mode, project: string, redisPid: number): Promise<Sample> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [...INGEST_NODE_FLAGS, "--import", "tsx", "bench/_apply-worker.ts"],
    {
      cwd: root,
      env: {
        ...process.env,
        APPLY_MODE: mode,
        APPLY_PROJECT: project,
        APPLY_ROWS: String(ROWS),
        APPLY_CHUNK: String(CONSUMER_DEFAULTS.chunkSize),
        APPLY_LANES: String(CONSUMER_DEFAULTS.partitionsConsumedConcurrently),
        APPLY_REDIS_PID: String(redisPid),
        REDIS_URL: resolveEndpoints().redis.address,
      },
      maxBuffer: 1 << 20,
    },
  );
  const out = JSON.parse(stdout.trim().split("\n").pop()!) as {
    elapsedMs: number;
    cpuMicros: number;
    redisMicros: number | null;
    gcMs: { minor: number; major: number };
  };
  const per100k = 100_000 / ROWS;
  return {
    rowsPerS: ROWS / (out.elapsedMs / 1000),
    cpuPerRow: out.cpuMicros / ROWS,
    redisPerRow: out.redisMicros === null ? NaN : out.redisMicros / ROWS,
    gcMinorMs: out.gcMs.minor * per100k,
    gcMajorMs: out.gcMs.major * per100k,
  };
}
