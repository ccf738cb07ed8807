// npm run bench -- store: the online store against its floors, in one run on standalone Redis.
//   l1_read               hot-cache hit, 1 entity x 10 features (ns)
//   store_read            cache-miss read through Strata, 1 entity x 10 features (us)
//   floor_hmget           raw ioredis HMGET of the same hash and fields (us)
//   cas_write             versioned rows of 10 features through the Lua CAS, batches of 100 (rows/s)
//   floor_hset_pipeline   raw pipelined HSET of the same rows, batches of 100 (rows/s)
//                         (both with the CPU per row of this process and of Redis, from /proc)
//   zipf_hit_ratio        hot-cache hit ratio, Zipf(1.0) over 1,000,000 entities, cache = 1% of them
//   value_codec           bytes and decode time per 10-feature row: Strata's encoding vs JSON vs MessagePack
import { Redis } from "ioredis";
import { pack, unpack } from "msgpackr";
import { resolveEndpoints } from "../dev/stack/endpoints.js";
import { HotCache } from "../shared/hot-cache/index.js";
import { OnlineStore, type WriteRow } from "../shared/online-store/index.js";
import { codecFor, FeatureRegistry, type FeatureType } from "../shared/registry/index.js";
import { HybridLogicalClock } from "../shared/versions/index.js";
import type { BenchTableRow } from "./run.js";
import { BENCH_FEATURES, benchRepo, benchRow, benchRowFields, benchRowKey } from "./_bench-repo.js";
import { stackServerPids, startCpuAccount } from "./_process-cpu.js";
import { median, nowNs, percentiles, round, seededRandom } from "./_stats.js";

export const description =
  "online store reads and writes vs raw ioredis HMGET / pipelined HSET on the same Redis, hot-cache hit ratio, value encoding";

const refs = BENCH_FEATURES.map((f) => `bench_view:${f}`);
const registry = new FeatureRegistry(benchRepo(`bench${process.pid}`));
const redisKey = (id: number) => benchRowKey(registry, id);
const hlc = new HybridLogicalClock();
const row = (id: number, seed: number): WriteRow => benchRow(id, hlc, (j) => seed + j / 100);

export async function run(log: (line: string) => void) {
  const url = resolveEndpoints().redis.address;
  const storeClient = new Redis(url);
  const floorClient = new Redis(url);
  const store = await OnlineStore.open({
    client: storeClient,
    registry,
    hotCache: { maxEntries: 200_000 },
  });
  try {
    const l1 = await measureL1(store, log);
    const reads = await measureMissReads(store, floorClient, log);
    const writes = await measureWrites(store, floorClient, log);
    const zipf = measureZipf(log);
    const codec = measureCodec(log);
    const results = {
      l1_read: l1,
      store_read: reads.store,
      floor_hmget: reads.floor,
      store_read_over_floor_p50: round(reads.store.p50_us / reads.floor.p50_us),
      cas_write: writes.store,
      floor_hset_pipeline: writes.floor,
      cas_write_share_of_floor: round(writes.store.rows_per_s / writes.floor.rows_per_s, 3),
      zipf_hit_ratio: zipf.tinylfu,
      zipf_hit_ratio_plain_lru: zipf.lru,
      value_codec: codec,
    };
    const table: BenchTableRow[] = [
      {
        measurement: "l1_read (ns)",
        p50: l1.p50_ns,
        p99: l1.p99_ns,
        note: "target p99 <= 5000 ns",
      },
      {
        measurement: "store_read (us)",
        p50: reads.store.p50_us,
        p99: reads.store.p99_us,
        note: `p50 ${results.store_read_over_floor_p50}x floor (target <= 1.3x)`,
      },
      {
        measurement: "floor_hmget (us)",
        p50: reads.floor.p50_us,
        p99: reads.floor.p99_us,
        note: "raw ioredis HMGET",
      },
      {
        measurement: "cas_write (rows/s)",
        p50: writes.store.rows_per_s,
        p99: "",
        note: `${round(results.cas_write_share_of_floor * 100, 1)}% of floor (target >= 60%); CPU us/row client ${writes.store.cpu_us_per_row.client}, Redis ${writes.store.cpu_us_per_row.redis}`,
      },
      {
        measurement: "floor_hset_pipeline (rows/s)",
        p50: writes.floor.rows_per_s,
        p99: "",
        note: `raw pipelined HSET; CPU us/row client ${writes.floor.cpu_us_per_row.client}, Redis ${writes.floor.cpu_us_per_row.redis}`,
      },
      { measurement: "zipf_hit_ratio", p50: zipf.tinylfu, p99: "", note: `plain LRU: ${zipf.lru}` },
      ...Object.entries(codec).flatMap(([shape, byCodec]) =>
        Object.entries(byCodec).map(([name, c]) => ({
          measurement: `codec ${shape} ${name} (decode ns/row)`,
          p50: c.decode_ns_per_row,
          p99: "",
          note: `${c.bytes_per_row} B/row, encode ${c.encode_ns_per_row} ns/row`,
        })),
      ),
    ];
    return { results, table };
  } finally {
    await store.close();
    storeClient.disconnect();
    floorClient.disconnect();
  }
}

async function measureL1(store: OnlineStore, log: (line: string) => void) {
  await store.write([row(1, 1)]);
  const entity = [{ item_id: 1 }];
  for (let i = 0; i < 20_000; i++) await store.read(entity, refs); // warm-up, and the entity is cached
  const samples = new Float64Array(200_000);
  for (let i = 0; i < samples.length; i++) {
    const t0 = nowNs();
    await store.read(entity, refs);
    samples[i] = nowNs() - t0;
  }
  const [p50, p99] = percentiles(samples, [0.5, 0.99]);
  log(`l1_read: ${samples.length} hits, p50 ${p50} ns, p99 ${p99} ns`);
  return { p50_ns: Math.round(p50!), p99_ns: Math.round(p99!), samples: samples.length };
}

/**
 * Cache-miss reads: every read asks for an entity not read before, so the hot cache misses
 * and Strata goes to Redis (the generation pointer is cached, as in steady state). The floor
 * reads the same hash's same 11 fields with one raw HMGET. Blocks alternate between the two
 * so that machine noise falls on both alike.
 */
async function measureMissReads(store: OnlineStore, floor: Redis, log: (line: string) => void) {
  const ENTITIES = 30_000;
  for (let start = 0; start < ENTITIES; start += 500) {
    await store.write(Array.from({ length: 500 }, (_, i) => row(10_000 + start + i, start + i)));
  }
  const fields = benchRowFields(registry);
  const storeSamples: number[] = [];
  const floorSamples: number[] = [];
  const WARM = 1_000;
  const BLOCK = 1_000;
  let next = 0;
  for (let block = 0; next < ENTITIES; block++) {
    for (let i = 0; i < BLOCK && next < ENTITIES; i++, next++) {
      const id = 10_000 + next;
      const t0 = nowNs();
      await store.read([{ item_id: id }], refs);
      const t1 = nowNs();
      await floor.hmget(redisKey(id), ...fields);
      const t2 = nowNs();
      if (next >= WARM) {
        storeSamples.push((t1 - t0) / 1000);
        floorSamples.push((t2 - t1) / 1000);
      }
    }
  }
  const [s50, s99] = percentiles(storeSamples, [0.5, 0.99]);
  const [f50, f99] = percentiles(floorSamples, [0.5, 0.99]);
  log(
    `store_read: ${storeSamples.length} misses p50 ${s50!.toFixed(1)} us; floor_hmget p50 ${f50!.toFixed(1)} us`,
  );
  return {
    store: { p50_us: round(s50!), p99_us: round(s99!), samples: storeSamples.length },
    floor: { p50_us: round(f50!), p99_us: round(f99!), samples: floorSamples.length },
  };
}

/**
 * Rows/s for batches of 100 ten-feature rows: Strata's CAS vs a raw pipelined HSET of the
 * same fields, with the same number of batches in flight (as a consumer applying several
 * partitions does), in alternating rounds so that machine noise falls on both alike.
 */
async function measureWrites(store: OnlineStore, floor: Redis, log: (line: string) => void) {
  const BATCH = 100;
  const IN_FLIGHT = 4;
  const ROUNDS = 30;
  const BATCHES_PER_ROUND = 16;
  let id = 100_000;
  const storeBatch = (r: number) => store.write(Array.from({ length: BATCH }, () => row(id++, r)));
  const [versionField, ...featureFields] = benchRowFields(registry);
  const floorBatch = (r: number) => {
    const pipeline = floor.pipeline();
    for (let i = 0; i < BATCH; i++) {
      const args: string[] = [versionField!, encodedVersionLike];
      featureFields.forEach((f, n) => args.push(f, String(r + n / 100)));
      pipeline.hset(redisKey(id++), ...args);
    }
    return pipeline.exec();
  };
  const timeRound = async (r: number, batch: (r: number) => Promise<unknown>) => {
    let next = 0;
    const t0 = nowNs();
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (next++ < BATCHES_PER_ROUND) await batch(r);
      }),
    );
    return nowNs() - t0;
  };
  let storeNs = 0;
  let floorNs = 0;
  // CPU per row of this process (the client: building, sending, reading replies) and of Redis.
  const redisPid = stackServerPids().redis;
  const storeCpu = { client: 0, redis: 0 };
  const floorCpu = { client: 0, redis: 0 };
  const timeWithCpu = async (
    r: number,
    batch: (r: number) => Promise<unknown>,
    cpu: { client: number; redis: number },
  ) => {
    const spent = startCpuAccount({ client: process.pid, redis: redisPid });
    const ns = await timeRound(r, batch);
    if (r > 0) {
      const micros = spent(1); // per 1 unit: the round's whole CPU time, in microseconds
      cpu.client += micros.client ?? NaN;
      cpu.redis += micros.redis ?? NaN;
    }
    return ns;
  };
  await floor.config("RESETSTAT");
  for (let r = 0; r < ROUNDS; r++) {
    const s = await timeWithCpu(r, storeBatch, storeCpu);
    const f = await timeWithCpu(r, floorBatch, floorCpu);
    if (r > 0) {
      storeNs += s;
      floorNs += f;
    }
  }
  // Server-side cost of one CAS call (its HMGET and HSET included), from Redis' own counters.
  const stats = await floor.info("commandstats");
  const evalshaUs = Number(/cmdstat_evalsha:.*usec_per_call=([\d.]+)/.exec(stats)?.[1] ?? NaN);
  const rows = (ROUNDS - 1) * BATCHES_PER_ROUND * BATCH;
  const storeRate = Math.round(rows / (storeNs / 1e9));
  const floorRate = Math.round(rows / (floorNs / 1e9));
  const perRow = (cpu: { client: number; redis: number }) => ({
    client: round(cpu.client / rows, 2),
    redis: round(cpu.redis / rows, 2),
  });
  log(
    `cas_write ${storeRate} rows/s; floor_hset_pipeline ${floorRate} rows/s (${IN_FLIGHT} batches of ${BATCH} in flight); EVALSHA ${evalshaUs} us per call inside Redis`,
  );
  log(
    `CPU us per row, client and Redis: cas_write ${JSON.stringify(perRow(storeCpu))}, floor_hset_pipeline ${JSON.stringify(perRow(floorCpu))}`,
  );
  return {
    store: {
      rows_per_s: storeRate,
      rows,
      batch: BATCH,
      in_flight: IN_FLIGHT,
      redis_evalsha_us_per_call: evalshaUs,
      cpu_us_per_row: perRow(storeCpu),
    },
    floor: {
      rows_per_s: floorRate,
      rows,
      batch: BATCH,
      in_flight: IN_FLIGHT,
      cpu_us_per_row: perRow(floorCpu),
    },
  };
}

/** A version field value of the same length as the CAS writes, so the floor stores as many bytes. */
const encodedVersionLike = "0".repeat(36) + "bench";

/**
 * The hot cache alone (no Redis): Zipf(1.0) requests over 1,000,000 entities, a cache of
 * 10,000 entries (1%); a miss fills the cache as the read path does. Hit ratio after a
 * warm-up of 1,000,000 requests, over the next 2,000,000.
 */
function measureZipf(log: (line: string) => void) {
  const N = 1_000_000;
  const cdf = new Float64Array(N);
  let sum = 0;
  for (let k = 1; k <= N; k++) cdf[k - 1] = sum += 1 / k;
  for (let k = 0; k < N; k++) cdf[k]! /= sum;
  const ratio = (admission: "tinylfu" | "lru") => {
    const random = seededRandom(42);
    const cache = new HotCache<{ v: number }>({ maxEntries: N / 100, admission, ttlMs: 3_600_000 });
    cache.setArmed(true);
    let hits = 0;
    const WARM = 1_000_000;
    const MEASURED = 2_000_000;
    for (let i = 0; i < WARM + MEASURED; i++) {
      const u = random();
      let lo = 0;
      let hi = N - 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (cdf[mid]! < u) lo = mid + 1;
        else hi = mid;
      }
      const key = `fs:{bench:item:i${lo}}`;
      if (cache.get(key)) {
        if (i >= WARM) hits++;
      } else {
        cache.fill(cache.beginFetch(key), { v: lo });
      }
    }
    return round(hits / MEASURED, 4);
  };
  const tinylfu = ratio("tinylfu");
  const lru = ratio("lru");
  log(`zipf hit ratio: TinyLFU admission ${tinylfu}, plain LRU ${lru}`);
  return { tinylfu, lru };
}

/**
 * Bytes per row and encode/decode cost of three encodings for a mixed 10-feature row, in
 * two shapes: doubles at full precision (the worst case for decimal text) and typical
 * feature values (rates to 4 decimals, counts, short strings).
 */
function measureCodec(log: (line: string) => void) {
  const types: FeatureType[] = [
    "float64",
    "float64",
    "float64",
    "float32",
    "int64",
    "int64",
    "string",
    "string",
    "bool",
    "float64[]",
  ];
  // As the read and write paths do: each feature's codec resolved once.
  const typed = types.map(codecFor);
  const shapes = {
    full_precision: (random: () => number) => [
      random(),
      random() * 1000,
      -random(),
      Math.fround(random()),
      Math.floor(random() * 1e9),
      Math.floor(random() * 100),
      `segment-${Math.floor(random() * 20)}`,
      "us-east-1",
      random() < 0.5,
      [random(), random(), random(), random(), random()],
    ],
    typical: (random: () => number) => [
      Math.round(random() * 1e4) / 1e4,
      Math.round(random() * 1e3) / 10,
      Math.round(random() * 100) / 100,
      Math.round(random() * 1e3) / 1e3,
      Math.floor(random() * 1e6),
      Math.floor(random() * 100),
      `segment-${Math.floor(random() * 20)}`,
      "us-east-1",
      random() < 0.5,
      [1, 2, 3, 4, 5].map(() => Math.round(random() * 100) / 100),
    ],
  };
  const codecs = {
    strata_typed_text: {
      encode: (r: unknown[]) => r.map((v, i) => typed[i]!.encode(v)),
      decode: (e: string[]) => e.map((t, i) => typed[i]!.decode(t)),
      bytes: (e: string[]) => e.reduce((n, t) => n + Buffer.byteLength(t), 0),
    },
    json: {
      encode: (r: unknown[]) => r.map((v) => JSON.stringify(v)),
      decode: (e: string[]) => e.map((t) => JSON.parse(t) as unknown),
      bytes: (e: string[]) => e.reduce((n, t) => n + Buffer.byteLength(t), 0),
    },
    msgpack: {
      encode: (r: unknown[]) => r.map((v) => pack(v)),
      decode: (e: Buffer[]) => e.map((b) => unpack(b) as unknown),
      bytes: (e: Buffer[]) => e.reduce((n, b) => n + b.length, 0),
    },
  };
  type Codec = {
    encode: (r: unknown[]) => unknown[];
    decode: (e: never) => unknown;
    bytes: (e: never) => number;
  };
  type Figures = { bytes_per_row: number; encode_ns_per_row: number; decode_ns_per_row: number };
  const out: Record<string, Record<string, Figures>> = {};
  // Tight loops on a shared machine swing from run to run: five rounds, the codecs
  // interleaved within each, and the median of the five per codec.
  const ROUNDS = 5;
  const REPEAT = 40;
  for (const [shape, make] of Object.entries(shapes)) {
    const random = seededRandom(7);
    const rows = Array.from({ length: 2_000 }, () => make(random));
    const entries = Object.entries(codecs) as [string, Codec][];
    const encodedBy = entries.map(([, codec]) => rows.map((r) => codec.encode(r)));
    // JIT warm-up before timing.
    entries.forEach(([, codec]) => {
      for (let k = 0; k < 20; k++) for (const r of rows) codec.decode(codec.encode(r) as never);
    });
    const encodeNs = entries.map(() => [] as number[]);
    const decodeNs = entries.map(() => [] as number[]);
    for (let round = 0; round < ROUNDS; round++) {
      entries.forEach(([, codec], c) => {
        let t0 = nowNs();
        for (let k = 0; k < REPEAT; k++) for (const r of rows) codec.encode(r);
        encodeNs[c]!.push((nowNs() - t0) / (REPEAT * rows.length));
        t0 = nowNs();
        for (let k = 0; k < REPEAT; k++) for (const e of encodedBy[c]!) codec.decode(e as never);
        decodeNs[c]!.push((nowNs() - t0) / (REPEAT * rows.length));
      });
    }
    out[shape] = {};
    entries.forEach(([name, codec], c) => {
      const bytes = encodedBy[c]!.reduce((n, e) => n + codec.bytes(e as never), 0) / rows.length;
      const figures = {
        bytes_per_row: round(bytes, 1),
        encode_ns_per_row: Math.round(median(encodeNs[c]!)),
        decode_ns_per_row: Math.round(median(decodeNs[c]!)),
      };
      out[shape]![name] = figures;
      log(
        `codec ${shape} ${name}: ${figures.bytes_per_row} B/row, encode ${figures.encode_ns_per_row} ns, decode ${figures.decode_ns_per_row} ns (median of ${ROUNDS})`,
      );
    });
  }
  return out;
}
