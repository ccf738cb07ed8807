// npm run bench -- regions: two regions (a, b) of the multi-region stack
// (npm run stack -- up --regions a,b[,c]), each with its real consumer and serving processes.
//   floor_mirror          a plain record produced with raw kafkajs in a until a raw kafkajs
//                         consumer in b receives it through MirrorMaker 2 (the physical floor)
//   cross_region_visible  a critical POST /push in a (acknowledged by a's Kafka) until
//                         /get-online-features in b returns the pushed value
//   push_acked            the push alone, until a's Kafka acknowledged it (part of the two above)
//   cross_region_applied  the same push until b's Redis holds it, read directly (no serving
//                         tier): splits the visible time into replication + apply and the read
//   heal                  a cut (toxiproxy) while 10,000 keys are written differently in both
//                         regions, then the heal: seconds until both regions' checksums are equal
//   reconcile             digest comparison of a and b holding the same 110,000 keys, against
//                         raw SCAN + pipelined HMGET of the same version fields
import { Kafka, logLevel, type Consumer, type Producer } from "kafkajs";
import { cutRegion, restoreRegion, stackRegions, type StackRegion } from "../dev/stack/regions.js";
import {
  changelogTopic,
  changelogTopicSettings,
  replicatedChangelogTopic,
} from "../shared/changelog/index.js";
import { OnlineStore, diffChecksums, regionChecksum } from "../shared/online-store/index.js";
import { reconcileRegions } from "../shared/reconcile/index.js";
import { HybridLogicalClock } from "../shared/versions/index.js";
import { TEST_TOPICS } from "../test/support/changelog.js";
import { startRegions, type RegionsFixture, type RunningRegion } from "../test/support/regions.js";
import type { BenchTableRow } from "./run.js";
import { scanVersionsFloor } from "./_scan-floor.js";
import { percentiles, round } from "./_stats.js";

export const description =
  "cross-region visibility, heal after a partition and reconciliation on two regions vs MirrorMaker 2 carrying raw kafkajs records and raw SCAN + HMGET";

const ROUNDS = 4;
const SAMPLES_PER_ROUND = 50;
const PACE_MS = 20;
/** Between two reads of the target while waiting for a push to show there. */
const POLL_MS = 1;
const VISIBLE_TIMEOUT_MS = 30_000;
const HEAL_KEYS = 10_000;
const HEAL_BATCH = 500;
const HEAL_TIMEOUT_MS = 300_000;
const RECONCILE_EXTRA_KEYS = 100_000;
const RECONCILE_RUNS = 3;

export async function run(log: (line: string) => void) {
  const [a, b] = stackRegions(2);
  const fixture = await startRegions("benchregions", { only: [a!.name, b!.name] });
  const floor = await FloorPath.open(a!, b!);
  try {
    const regionA = fixture.region(a!.name);
    const regionB = fixture.region(b!.name);
    log(`regions ${a!.name} -> ${b!.name}; warming up both paths (MirrorMaker 2 finds new topics)`);
    await floor.sample(VISIBLE_TIMEOUT_MS);
    await visibleSample(regionA, regionB, -1);

    const direct = await OnlineStore.open({
      client: regionB.redis,
      registry: fixture.registry,
      hotCache: false,
    });
    const storedScore = async (rider: string) =>
      (await direct.read([{ rider_id: rider, city: "oslo" }], ["rider_profile:score"])).rows[0]!
        .values[0];
    const floorMs: number[] = [];
    const visibleMs: number[] = [];
    const appliedMs: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      for (let i = 0; i < SAMPLES_PER_ROUND; i++) {
        floorMs.push(await floor.sample(VISIBLE_TIMEOUT_MS));
        await pause(PACE_MS);
      }
      for (let i = 0; i < SAMPLES_PER_ROUND; i++) {
        visibleMs.push(await visibleSample(regionA, regionB, r * SAMPLES_PER_ROUND + i));
        await pause(PACE_MS);
      }
      for (let i = 0; i < SAMPLES_PER_ROUND; i++) {
        const sample = 10_000 + r * SAMPLES_PER_ROUND + i;
        appliedMs.push(await visibleSample(regionA, regionB, sample, storedScore));
        await pause(PACE_MS);
      }
      log(`round ${r + 1}/${ROUNDS}: ${floorMs.length} samples of each path`);
    }
    const latency = {
      floor_mirror: p50p99(floorMs),
      cross_region_visible: p50p99(visibleMs),
      push_acked: p50p99(pushAckedMs),
      cross_region_applied: p50p99(appliedMs),
    };
    await direct.close();

    const heal = await healAfterPartition(fixture, regionA, regionB, log);
    const reconcile = await reconcileIdentical(fixture, regionA, regionB, log);

    const results = {
      regions: [a!.name, b!.name],
      samples: floorMs.length,
      ...Object.fromEntries(
        Object.entries(latency).flatMap(([name, { p50, p99 }]) => [
          [`${name}.p50_ms`, p50],
          [`${name}.p99_ms`, p99],
        ]),
      ),
      cross_region_visible_over_floor: {
        p50: round(latency.cross_region_visible.p50 / latency.floor_mirror.p50),
        p99: round(latency.cross_region_visible.p99 / latency.floor_mirror.p99),
      },
      "heal.keys": heal.keys,
      "heal.partition_s": heal.partitionS,
      "heal.converge_s": heal.convergeS,
      "reconcile.keys": reconcile.keys,
      "reconcile.keys_per_s": reconcile.keysPerS,
      floor_scan_hmget_keys_per_s: reconcile.floorKeysPerS,
      targets: {
        cross_region_visible_p50_over_floor: 1.5,
        cross_region_visible_p99_over_floor: 2,
        heal_converge_s: 30,
        reconcile_keys_per_s: 50_000,
      },
    };
    const table: BenchTableRow[] = [
      {
        measurement: "floor_mirror (ms)",
        ...latency.floor_mirror,
        note: "raw kafkajs a -> MM2 -> raw kafkajs b",
      },
      {
        measurement: "cross_region_visible (ms)",
        ...latency.cross_region_visible,
        note: `x${results.cross_region_visible_over_floor.p50} / x${results.cross_region_visible_over_floor.p99} floor (target 1.5 / 2)`,
      },
      {
        measurement: "push_acked (ms)",
        ...latency.push_acked,
        note: "the push alone: a's serving tier until a's Kafka acknowledged (part of both above)",
      },
      {
        measurement: "cross_region_applied (ms)",
        ...latency.cross_region_applied,
        note: "the same push until b's Redis holds it (read directly)",
      },
      {
        measurement: "heal.converge_s",
        p50: heal.convergeS,
        p99: "",
        note: `${heal.keys} keys written in both regions during a ${heal.partitionS} s cut (target <= 30 s)`,
      },
      {
        measurement: "reconcile (keys/s)",
        p50: reconcile.keysPerS,
        p99: "",
        note: `${reconcile.keys} identical keys per region, median of ${RECONCILE_RUNS} (target >= 50,000)`,
      },
      {
        measurement: "floor_scan_hmget (keys/s)",
        p50: reconcile.floorKeysPerS,
        p99: "",
        note: "raw SCAN + pipelined HMGET, both regions in parallel",
      },
    ];
    return { results, table };
  } finally {
    await restoreRegion(a!.name).catch(() => undefined);
    await floor.close();
    await fixture.cleanup();
  }
}

/** Raw kafkajs across MirrorMaker 2: a producer in the source region, a consumer of the copy. */
class FloorPath {
  private waiting: { id: string; resolve: (at: number) => void } | undefined;
  private sent = 0;

  private constructor(
    private readonly producer: Producer,
    private readonly consumer: Consumer,
    private readonly topic: string,
    private readonly cleanupTopics: () => Promise<void>,
  ) {}

  static async open(source: StackRegion, target: StackRegion): Promise<FloorPath> {
    // A name MirrorMaker 2 replicates (strata.<x>.changelog), of no Strata project.
    const name = `benchfloor_${process.pid}`;
    const topic = changelogTopic(name);
    const copy = replicatedChangelogTopic(name, source.name);
    const kafkaOf = (region: StackRegion) =>
      new Kafka({
        clientId: "strata-bench-floor",
        brokers: region.kafkaBrokers,
        logLevel: logLevel.NOTHING,
      });
    const sourceAdmin = kafkaOf(source).admin();
    const targetAdmin = kafkaOf(target).admin();
    await Promise.all([sourceAdmin.connect(), targetAdmin.connect()]);
    const configEntries = Object.entries(changelogTopicSettings(TEST_TOPICS)).map(([n, v]) => ({
      name: n,
      value: v,
    }));
    // The copy is created up front, as Strata's consumer does, so the floor consumer can join.
    await Promise.all([
      sourceAdmin.createTopics({
        waitForLeaders: true,
        topics: [{ topic, numPartitions: 1, configEntries }],
      }),
      targetAdmin.createTopics({
        waitForLeaders: true,
        topics: [{ topic: copy, numPartitions: 1, configEntries }],
      }),
    ]);
    const producer = kafkaOf(source).producer({ allowAutoTopicCreation: false, idempotent: true });
    const consumer = kafkaOf(target).consumer({ groupId: `${name}-floor`, maxWaitTimeInMs: 100 });
    await Promise.all([producer.connect(), consumer.connect()]);
    await consumer.subscribe({ topic: copy, fromBeginning: true });
    const path = new FloorPath(producer, consumer, topic, async () => {
      await Promise.all([
        sourceAdmin.deleteTopics({ topics: [topic] }).catch(() => undefined),
        targetAdmin.deleteTopics({ topics: [copy] }).catch(() => undefined),
      ]);
      await Promise.all([sourceAdmin.disconnect(), targetAdmin.disconnect()]);
    });
    await consumer.run({
      eachMessage: ({ message }) => {
        const at = performance.now();
        if (path.waiting && message.key?.toString() === path.waiting.id) path.waiting.resolve(at);
        return Promise.resolve();
      },
    });
    return path;
  }

  /** Milliseconds from the send of one record (acks=all) until the consumer of the copy has it. */
  async sample(timeoutMs: number): Promise<number> {
    const id = `floor-${this.sent++}`;
    const arrived = new Promise<number>((resolve) => (this.waiting = { id, resolve }));
    const started = performance.now();
    await this.producer.send({ topic: this.topic, acks: -1, messages: [{ key: id, value: id }] });
    const at = await withTimeout(arrived, timeoutMs, `floor record ${id} did not arrive`);
    this.waiting = undefined;
    return at - started;
  }

  async close(): Promise<void> {
    await Promise.all([this.producer.disconnect(), this.consumer.disconnect()]);
    await this.cleanupTopics();
  }
}

/** How long each sample's push took to answer (acknowledged by the source region's Kafka). */
const pushAckedMs: number[] = [];

/** Milliseconds from a critical push in `source` until `target` serves the pushed value. */
async function visibleSample(
  source: RunningRegion,
  target: RunningRegion,
  sample: number,
  readTarget: (rider: string) => Promise<unknown> = (rider) => servedScore(target, rider),
): Promise<number> {
  const rider = `vis-${sample}`;
  const score = sample + 0.5;
  const started = performance.now();
  const pushed = await fetch(`${source.serve.url}/push`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${source.serve.key}` },
    body: JSON.stringify({
      push_source_name: "rider_profile",
      df: {
        rider_id: [rider],
        city: ["oslo"],
        score: [score],
        vip: [true],
        blob: [null],
        event_timestamp: [Date.now()],
      },
      to: "online",
    }),
  });
  if (pushed.status !== 200)
    throw new Error(`push answered ${pushed.status}: ${await pushed.text()}`);
  await pushed.arrayBuffer();
  if (sample >= 0) pushAckedMs.push(performance.now() - started);
  for (;;) {
    if ((await readTarget(rider)) === score) return performance.now() - started;
    if (performance.now() - started > VISIBLE_TIMEOUT_MS) {
      throw new Error(`push ${rider} not visible in ${target.name} after ${VISIBLE_TIMEOUT_MS} ms`);
    }
    // A reader polling back to back would take the CPU the consumer and MM2 need on 2 cores.
    await pause(POLL_MS);
  }
}

/** rider_profile:score of `rider` as `region`'s serving tier answers it. */
async function servedScore(region: RunningRegion, rider: string): Promise<unknown> {
  const response = await fetch(`${region.serve.url}/get-online-features`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${region.serve.key}` },
    body: JSON.stringify({
      features: ["rider_profile:score"],
      entities: { rider_id: [rider], city: ["oslo"] },
    }),
  });
  const body = (await response.json()) as { results: { values: unknown[] }[] };
  // Join keys first (rider_id, city), then the feature.
  return body.results[2]?.values[0];
}

/**
 * Cuts `a`'s replication links, writes HEAL_KEYS drivers with different values in both
 * regions (through /push, acknowledged), heals, and times the way back to equal checksums.
 */
async function healAfterPartition(
  fixture: RegionsFixture,
  a: RunningRegion,
  b: RunningRegion,
  log: (line: string) => void,
) {
  await cutRegion(a.name);
  const cutAt = performance.now();
  log(`heal: ${a.name} cut; writing ${HEAL_KEYS} keys in both regions`);
  await Promise.all([writeKeys(a, HEAL_KEYS), writeKeys(b, HEAL_KEYS)]);
  const differing = await divergentViews(fixture, a, b);
  if (differing.length === 0) throw new Error("the regions did not diverge during the cut");
  const partitionS = round((performance.now() - cutAt) / 1000, 1);
  await restoreRegion(a.name);
  const healed = performance.now();
  for (;;) {
    if ((await divergentViews(fixture, a, b)).length === 0) break;
    if (performance.now() - healed > HEAL_TIMEOUT_MS) {
      throw new Error(`the regions still differ ${HEAL_TIMEOUT_MS / 1000} s after the heal`);
    }
    await pause(100);
  }
  const convergeS = round((performance.now() - healed) / 1000, 2);
  log(`heal: converged ${convergeS} s after the heal (cut for ${partitionS} s)`);
  return { keys: HEAL_KEYS, partitionS, convergeS };
}

async function writeKeys(region: RunningRegion, keys: number): Promise<void> {
  for (let first = 0; first < keys; first += HEAL_BATCH) {
    const ids = Array.from({ length: Math.min(HEAL_BATCH, keys - first) }, (_, i) => first + i);
    const response = await fetch(`${region.serve.url}/push`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${region.serve.key}` },
      body: JSON.stringify({
        push_source_name: "driver_stats_push",
        df: {
          driver_id: ids,
          rate: ids.map(() => 0.5),
          trips: ids,
          label: ids.map((id) => `${region.name}-${id}`),
          tags: ids.map(() => null),
          event_timestamp: ids.map(() => Date.now()),
        },
        to: "online",
        wait: "acked",
      }),
    });
    if (response.status !== 200) {
      throw new Error(
        `push in ${region.name} answered ${response.status}: ${await response.text()}`,
      );
    }
    await response.arrayBuffer();
  }
}

async function divergentViews(fixture: RegionsFixture, a: RunningRegion, b: RunningRegion) {
  const [left, right] = await Promise.all([
    regionChecksum(a.redis, fixture.registry),
    regionChecksum(b.redis, fixture.registry),
  ]);
  return diffChecksums(left, right);
}

/**
 * Loads RECONCILE_EXTRA_KEYS identical rows into both regions' Redis directly (a benchmark of
 * the comparison, not of loading), then times reconcileRegions over stats@1 against the floor.
 */
async function reconcileIdentical(
  fixture: RegionsFixture,
  a: RunningRegion,
  b: RunningRegion,
  log: (line: string) => void,
) {
  const registry = fixture.registry;
  const view = registry.view("stats", 1);
  const clock = new HybridLogicalClock();
  const rows = Array.from({ length: RECONCILE_EXTRA_KEYS }, (_, i) => {
    const hlc = clock.now();
    return {
      view: "stats@1",
      entity: { driver_id: 1_000_000 + i },
      values: { rate: i / 7, trips: i, label: `r${i}` },
      version: { eventTsMs: hlc.wallMs, epoch: 0, hlc, originRegion: a.name },
    };
  });
  for (const region of [a, b]) {
    const store = await OnlineStore.open({ client: region.redis, registry, hotCache: false });
    for (let i = 0; i < rows.length; i += 2_000) await store.write(rows.slice(i, i + 2_000));
    await store.close();
  }
  const keys = HEAL_KEYS + RECONCILE_EXTRA_KEYS;
  const clients = [a.redis, b.redis];
  const rates: number[] = [];
  const floorRates: number[] = [];
  for (let r = 0; r < RECONCILE_RUNS; r++) {
    const started = performance.now();
    const report = await reconcileRegions({
      registry,
      regions: [a, b].map((region) => ({ name: region.name, client: region.redis })),
      views: [view],
      publisher: () => Promise.reject(new Error("identical regions: nothing to publish")),
    });
    const seconds = (performance.now() - started) / 1000;
    if (report.outcome !== "converged" || report.keysCompared !== keys) {
      throw new Error(
        `reconcile: ${report.outcome}, ${report.keysCompared} keys, expected ${keys}`,
      );
    }
    rates.push(keys / seconds);
    floorRates.push(keys / (await scanVersionsFloor(clients, registry, view, keys)));
    log(
      `reconcile run ${r + 1}: ${Math.round(rates[r]!)} keys/s, floor ${Math.round(floorRates[r]!)} keys/s`,
    );
  }
  return {
    keys,
    keysPerS: Math.round(percentiles(rates, [0.5])[0]!),
    floorKeysPerS: Math.round(percentiles(floorRates, [0.5])[0]!),
  };
}

function p50p99(samples: readonly number[]): { p50: number; p99: number } {
  const [p50, p99] = percentiles(samples, [0.5, 0.99]);
  return { p50: round(p50!), p99: round(p99!) };
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expiry = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, expiry]);
  } finally {
    clearTimeout(timer);
  }
}
