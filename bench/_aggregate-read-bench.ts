// A piece of `npm run bench -- sources` (bench/sources.ts composes it): an aggregate read
// through /get-online-features against a plain Redis read, in one run, hot cache off.
//   aggregate_read  1 entity x 1 aggregate: a sum over one hour in one-minute tiles (one HMGET
//                   of the watermark and 60 tiles, folded in the server)
//   redis_read      1 entity x 1 plain float64 feature (one HMGET of its version and value)
//   floor_aggregate_hmget  a raw node:http server doing one raw ioredis HMGET of the aggregate
//                   read's fields and answering the aggregate read's body: what Redis and HTTP
//                   alone cost that read, with no Strata code
// Each with wrk at 1 connection, rounds interleaved, the median of the rounds.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { resolveEndpoints } from "../dev/stack/endpoints.js";
import { ensureTool } from "../dev/stack/prerequisites.js";
import { generateApiKey } from "../functions/serve/auth.js";
import { OnlineStore } from "../shared/online-store/index.js";
import { FeatureRegistry } from "../shared/registry/index.js";
import { HybridLogicalClock } from "../shared/versions/index.js";
import {
  AGGREGATE_FEATURE,
  aggregateReadFields,
  aggregateReadRepo,
  aggregateState,
  cardKey,
  PLAIN_FEATURE,
} from "./_aggregate-read-repo.js";
import type { BenchTableRow } from "./run.js";
import { startProcess, wrk, type ServerProcess, type WrkFigures } from "./serve.js";
import { median, round } from "./_stats.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const DURATION_S = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const WARMUP_S = 1;
const CARD = 7;
/** How long the seeded tiles cover reads for: the whole run, whatever its rounds. */
const SEEDED_AHEAD_MS = 30 * 60_000;

export interface AggregateReadFigures {
  p50_us: number;
  p99_us: number;
  rps: number;
}

/**
 * Runs aggregate_read, redis_read and floor_aggregate_hmget (see the header) against the local
 * stack's Redis and returns their figures, the ratio the target is about (aggregate
 * read p99 over the plain read's), and table rows.
 */
export async function measureAggregateRead(log: (line: string) => void): Promise<{
  results: Record<string, unknown>;
  table: BenchTableRow[];
}> {
  await ensureTool("wrk", "wrk", log);
  const project = `benchaggread${process.pid}`;
  const registry = new FeatureRegistry(aggregateReadRepo(project));
  const redisUrl = resolveEndpoints().redis.address;
  const seededAt = Date.now();
  await seed(registry, redisUrl, seededAt);

  const { key, record } = generateApiKey("bench");
  const body = (feature: string) =>
    JSON.stringify({ features: [feature], entities: { card_id: [CARD] } });
  const server = await startProcess(["functions/serve/main.ts"], {
    STRATA_REPO: path.join(here, "_aggregate-read-repo.ts"),
    BENCH_PROJECT: project,
    REDIS_URL: redisUrl,
    STRATA_HOST: "127.0.0.1",
    STRATA_PORT: "0",
    STRATA_ADMIN_PORT: "0",
    STRATA_API_KEYS: JSON.stringify([record]),
    // Hot cache off (generation pointers still cached), as the target says.
    STRATA_CACHE_ENTRIES: "0",
    KAFKA_BROKERS: "",
    STRATA_DRIFT_MONITOR: "",
  });
  let floor: ServerProcess | undefined;
  const runs: Record<string, WrkFigures[]> = {};
  try {
    const aggregateBody = await checkedAnswer(server.url, key, body(AGGREGATE_FEATURE));
    await checkedAnswer(server.url, key, body(PLAIN_FEATURE));
    const fields = aggregateReadFields(registry, Date.now());
    floor = await startProcess(["bench/_floor-server.ts"], {
      FLOOR_BODY: aggregateBody,
      FLOOR_REDIS_URL: redisUrl,
      FLOOR_REDIS_KEY: cardKey(registry, CARD),
      FLOOR_REDIS_FIELDS: JSON.stringify(fields),
    });
    const scenarios: Record<string, { url: string; body: string }> = {
      redis_read: { url: server.url, body: body(PLAIN_FEATURE) },
      aggregate_read: { url: server.url, body: body(AGGREGATE_FEATURE) },
      floor_aggregate_hmget: { url: floor.url, body: body(AGGREGATE_FEATURE) },
    };
    // Interleaved rounds: on a shared machine one run drifts between scenarios.
    for (let r = 1; r <= ROUNDS; r++) {
      for (const [name, scenario] of Object.entries(scenarios)) {
        wrk(scenario.url, scenario.body, key, 1, WARMUP_S);
        const figures = wrk(scenario.url, scenario.body, key, 1, DURATION_S);
        if (figures.non2xx > 0) throw new Error(`${name}: ${figures.non2xx} non-2xx answers`);
        (runs[name] ??= []).push(figures);
        log(`round ${r}/${ROUNDS} ${name}: p50 ${figures.p50_us} us, p99 ${figures.p99_us} us`);
      }
    }
    if (Date.now() > seededAt + SEEDED_AHEAD_MS) {
      throw new Error("the run outlasted the seeded tiles; lower BENCH_SECONDS or BENCH_ROUNDS");
    }
  } finally {
    server.stop();
    floor?.stop();
    await unseed(registry, redisUrl);
  }
  const figures = Object.fromEntries(
    Object.entries(runs).map(([name, rounds]) => [name, medianOf(rounds)]),
  ) as Record<string, AggregateReadFigures>;
  const aggregate = figures.aggregate_read!;
  const plain = figures.redis_read!;
  const summary = {
    aggregate_read_p99_over_redis_read: round(aggregate.p99_us / plain.p99_us, 2),
    aggregate_read_p50_over_redis_read: round(aggregate.p50_us / plain.p50_us, 2),
    aggregate_read_fields: aggregateReadFields(registry, Date.now()).length,
  };
  const table: BenchTableRow[] = Object.entries(figures).map(([name, f]) => ({
    measurement: `${name} c1`,
    p50_us: f.p50_us,
    p99_us: f.p99_us,
    rps: f.rps,
  }));
  table.push({
    measurement: "aggregate_read / redis_read (c1)",
    p50_us: `${summary.aggregate_read_p50_over_redis_read}x`,
    p99_us: `${summary.aggregate_read_p99_over_redis_read}x`,
    rps: "",
  });
  return {
    results: {
      aggregate_read: aggregate,
      redis_read: plain,
      floor_aggregate_hmget: figures.floor_aggregate_hmget,
      summary,
      duration_s: DURATION_S,
      rounds: ROUNDS,
      load_generator: "wrk -t1 -c1",
    },
    table,
  };
}

/** The card's plain row (through the store's CAS) and its aggregate tiles (as the apply script keeps them). */
async function seed(registry: FeatureRegistry, redisUrl: string, nowMs: number): Promise<void> {
  const client = new Redis(redisUrl);
  try {
    const store = await OnlineStore.open({ client, registry, hotCache: false });
    await store.write([
      {
        view: "txn_last",
        entity: { card_id: CARD },
        values: { amount: 12.5 },
        version: {
          eventTsMs: nowMs,
          epoch: 0,
          hlc: new HybridLogicalClock().now(),
          originRegion: "bench",
        },
      },
    ]);
    await store.close();
    const state = aggregateState(registry, CARD, nowMs, nowMs + SEEDED_AHEAD_MS);
    await client.hset(state.key, state.fields);
  } finally {
    client.disconnect();
  }
}

async function unseed(registry: FeatureRegistry, redisUrl: string): Promise<void> {
  const client = new Redis(redisUrl);
  try {
    await client.del(cardKey(registry, CARD));
  } finally {
    client.disconnect();
  }
}

/** The server's answer to `body`, which must be 200 with every value PRESENT. */
async function checkedAnswer(url: string, key: string, body: string): Promise<string> {
  const response = await fetch(`${url}/get-online-features`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body,
  });
  const text = await response.text();
  const statuses = (JSON.parse(text) as { results?: { statuses: string[] }[] }).results?.[1]
    ?.statuses;
  if (response.status !== 200 || statuses?.[0] !== "PRESENT") {
    throw new Error(`the serving tier answered ${response.status} ${text.slice(0, 300)}`);
  }
  return text;
}

function medianOf(rounds: readonly WrkFigures[]): AggregateReadFigures {
  return {
    p50_us: median(rounds.map((f) => f.p50_us)),
    p99_us: median(rounds.map((f) => f.p99_us)),
    rps: median(rounds.map((f) => f.rps)),
  };
}
