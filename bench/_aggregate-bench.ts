// The aggregation apply path against a raw HINCRBY floor, for `npm run bench -- sources`
// (the lead composes bench/sources.ts from this piece):
//   aggregate      pre-built events (no Kafka: the broker is not what is measured) grouped
//                  into one aggregate-apply.lua call per entity per chunk and run pipelined by
//                  the consumer's own code (applyCalls + runApplyCalls), chunks of the
//                  consumer's default size, as many at a time as it consumes partitions; every
//                  event updates 3 windows of its entity
//   floor_hincrby  raw ioredis: one pipelined HINCRBY of one field per event, same chunks,
//                  same concurrency, same entities
// Events arrive in random entity order, so a chunk holds about one event per entity: every
// event costs a script call, the hardest case for the per-entity grouping. aggregate_grouped
// gives the same events entity by entity (20 per entity in a chunk, as a burst of one card's
// transactions would come), to show what one call per entity saves. All run in this process
// against the stack's standalone Redis, alternating over rounds, on fresh keys.
import { Redis } from "ioredis";
import { resolveEndpoints } from "../dev/stack/endpoints.js";
import {
  aggregateScript,
  applyCalls,
  runApplyCalls,
  type AggregationEvent,
} from "../shared/aggregations/index.js";
import { CONSUMER_DEFAULTS } from "../shared/changelog/changelog-consumer.js";
import { encodeEntityKey, entityRedisKey } from "../shared/key-codec.js";
import { FeatureRegistry, type ResolvedAggregationView } from "../shared/registry/index.js";
import type { BenchTableRow } from "./run.js";
import { median, round, seededRandom } from "./_stats.js";

const EVENTS = Number(process.env.BENCH_AGG_EVENTS ?? 200_000);
const ENTITIES = Number(process.env.BENCH_AGG_ENTITIES ?? 10_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CHUNK = CONSUMER_DEFAULTS.chunkSize;
const LANES = CONSUMER_DEFAULTS.partitionsConsumedConcurrently;

function benchView(project: string): ResolvedAggregationView {
  const registry = new FeatureRegistry({
    project,
    entities: [{ name: "card", joinKeys: { card_id: "string" } }],
    views: [],
    aggregationViews: [
      {
        name: "card_velocity",
        version: "1.0.0",
        entities: ["card"],
        inputs: { amount: "float64" },
        source: { push: true },
        aggregations: [
          { name: "tx_1m", function: "count", windowMs: 60_000, tileMs: 10_000 },
          { name: "tx_1h", function: "count", windowMs: 3_600_000, tileMs: 60_000 },
          {
            name: "amount_1d",
            function: "sum",
            column: "amount",
            windowMs: 86_400_000,
            tileMs: 3_600_000,
          },
        ],
      },
    ],
  });
  return registry.aggregationView("card_velocity");
}

/** Events in random entity order (or grouped by entity), each entity's in time order, offsets as one partition's. */
function buildEvents(view: ResolvedAggregationView, grouped = false): AggregationEvent[] {
  const random = seededRandom(42);
  const start = Date.now() - 600_000;
  const keys = Array.from({ length: ENTITIES }, (_, i) =>
    encodeEntityKey(view.joinKeys, { card_id: `card-${i}` }),
  );
  const seen = new Array<number>(ENTITIES).fill(0);
  const perEntity = Math.ceil(EVENTS / ENTITIES);
  return Array.from({ length: EVENTS }, (_, n) => {
    const i = grouped ? Math.floor(n / perEntity) % ENTITIES : Math.floor(random() * ENTITIES);
    const eventTsMs = start + seen[i]!++ * 1_000;
    return {
      view,
      entity: keys[i]!,
      eventTsMs,
      sourceTopic: "strata.bench.events",
      partition: 0,
      offset: String(n),
      texts: [String(Math.round(random() * 10_000) / 100)],
    };
  });
}

async function inLanes(chunks: number, run: (chunk: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: LANES }, async () => {
      while (next < chunks) await run(next++);
    }),
  );
}

async function measureAggregate(redis: Redis, project: string, grouped = false): Promise<number> {
  const view = benchView(project);
  const events = buildEvents(view, grouped);
  const chunks = Math.ceil(events.length / CHUNK);
  const started = performance.now();
  await inLanes(chunks, async (c) => {
    const calls = applyCalls(project, events.slice(c * CHUNK, (c + 1) * CHUNK));
    await runApplyCalls(redis, calls);
  });
  return events.length / ((performance.now() - started) / 1000);
}

async function measureFloor(redis: Redis, project: string): Promise<number> {
  const view = benchView(project);
  const events = buildEvents(view);
  const redisKeys = events.map((e) => entityRedisKey(project, view.entitySet, e.entity));
  const fields = events.map((e) => `f:${Math.floor(e.eventTsMs / 60_000)}`);
  const chunks = Math.ceil(events.length / CHUNK);
  const started = performance.now();
  await inLanes(chunks, async (c) => {
    const pipeline = redis.pipeline();
    for (let i = c * CHUNK; i < Math.min(events.length, (c + 1) * CHUNK); i++) {
      pipeline.hincrby(redisKeys[i]!, fields[i]!, 1);
    }
    await pipeline.exec();
  });
  return events.length / ((performance.now() - started) / 1000);
}

/** Deletes a bench project's keys (its own prefix only). */
async function dropProject(redis: Redis, project: string): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `fs:{${project}:*`, "COUNT", 5_000);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== "0");
}

/** Runs aggregate.events_per_s and floor_hincrby.events_per_s in the same run. */
export async function aggregateBench(log: (line: string) => void): Promise<{
  results: Record<string, unknown>;
  table: BenchTableRow[];
}> {
  const redis = new Redis(resolveEndpoints().redis.address);
  const samples = { aggregate: [] as number[], grouped: [] as number[], floor: [] as number[] };
  try {
    // Every round's view has the same spec, so the same script.
    await aggregateScript(benchView(`benchagg${process.pid}`)).loadOn(redis);
    for (let r = 1; r <= ROUNDS; r++) {
      const floorProject = `benchaggf${process.pid}r${r}`;
      const aggProject = `benchagg${process.pid}r${r}`;
      samples.floor.push(await measureFloor(redis, floorProject));
      samples.aggregate.push(await measureAggregate(redis, aggProject));
      samples.grouped.push(await measureAggregate(redis, `${aggProject}g`, true));
      log(
        `round ${r}: aggregate ${Math.round(samples.aggregate.at(-1)!)} events/s, aggregate_grouped ${Math.round(samples.grouped.at(-1)!)}, floor_hincrby ${Math.round(samples.floor.at(-1)!)}`,
      );
      for (const project of [floorProject, aggProject, `${aggProject}g`]) {
        await dropProject(redis, project);
      }
    }
  } finally {
    redis.disconnect();
  }
  const aggregate = Math.round(median(samples.aggregate));
  const floor = Math.round(median(samples.floor));
  const grouped = Math.round(median(samples.grouped));
  const ratio = round(aggregate / floor, 3);
  const groupedRatio = round(grouped / floor, 3);
  const results = {
    config: {
      events: EVENTS,
      entities: ENTITIES,
      windows: 3,
      chunk: CHUNK,
      lanes: LANES,
      rounds: ROUNDS,
    },
    aggregate: {
      events_per_s: aggregate,
      ratio_to_floor: ratio,
      rounds: samples.aggregate.map(Math.round),
    },
    aggregate_grouped: {
      events_per_s: grouped,
      ratio_to_floor: groupedRatio,
      rounds: samples.grouped.map(Math.round),
    },
    floor_hincrby: { events_per_s: floor, rounds: samples.floor.map(Math.round) },
  };
  const table: BenchTableRow[] = [
    { measurement: "floor_hincrby", "events/s": floor, ratio: 1 },
    { measurement: "aggregate", "events/s": aggregate, ratio },
    { measurement: "aggregate_grouped", "events/s": grouped, ratio: groupedRatio },
  ];
  return { results, table };
}
