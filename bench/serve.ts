// npm run bench -- serve: the serving tier under wrk, against a raw node:http floor, in one run.
//   floor       raw node:http answering the same request with a canned body of the same size
//   floor_redis the floor, reading the hash redis_read reads with one raw ioredis HMGET (the
//               same fields) before answering: redis_read's floor, with no Strata code
//   floor_spin  the floor, busy for handler_loop's microseconds per request before answering:
//               what a handler costing exactly what it costs in a loop would leave of the floor
//   http_layer  the serving tier's own HTTP layer answering with that body and doing nothing
//               else: what the layer costs above the floor (and the most a handler could reach)
//   handler_loop  (in this process, no HTTP) the serving core answering the l1_hit request in a
//               tight loop: what the request's own work costs when nothing else runs between
//   handler_loop_service, handler_loop_drift  the same loop with the l1_hit_service and
//               l1_hit_drift request and server: what drift recording adds to a request's work
//   l1_hit      1 entity x 10 features, all from the hot cache
//   l1_hit_service  l1_hit asked by feature service (the 10 features) rather than by list
//   l1_hit_drift    l1_hit_service on a server recording drift (STRATA_DRIFT_MONITOR on the
//               service, STRATA_DRIFT_SAMPLE_RATE=1: every value counted into its bucket)
//   redis_read  1 entity x 10 features, hot cache off (generation pointers still cached)
//   batch100    100 entities x 10 features, hot cache on (warm)
// Each at 1 and 32 connections: p50, p99, p99.9 latency (us) and requests/s, the median of
// interleaved rounds, and what each request cost the server process over the timed window:
// its CPU (user + system, from /proc/<pid>/stat) and the bytes it allocated on its JS heap
// (bench/_alloc-probe.ts). Every server runs as its own process and gets the same treatment:
// started the same way, warmed up the same way, loaded by the same wrk.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { resolveEndpoints } from "../dev/stack/endpoints.js";
import { ensureTool } from "../dev/stack/prerequisites.js";
import { generateApiKey } from "../functions/serve/auth.js";
import { loadServeConfig } from "../functions/serve/config.js";
import { createServeRuntime } from "../functions/serve/runtime.js";
import { publishBaseline } from "../shared/drift/baseline-store.js";
import { FEATURE_VALUE_BUCKET_TOTAL } from "../shared/drift/metric-names.js";
import { OnlineStore } from "../shared/online-store/index.js";
import { FeatureRegistry } from "../shared/registry/index.js";
import { HybridLogicalClock } from "../shared/versions/index.js";
import type { BenchTableRow } from "./run.js";
import {
  BENCH_FEATURES,
  BENCH_SERVICE,
  benchRepo,
  benchRow,
  benchRowFields,
  benchRowKey,
} from "./_bench-repo.js";
import { benchBaseline } from "./_drift-baseline.js";
import type { AllocWindow } from "./_alloc-probe.js";
import { processCpuMicros } from "./_process-cpu.js";
import { median, round } from "./_stats.js";

export const description =
  "the HTTP serving tier under wrk vs a raw node:http server with a canned body of the same size";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..");
const DURATION_S = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const WARMUP_S = 1;
/** The entity of the one-entity scenarios (l1_hit, redis_read, floor_redis). */
const ONE_ITEM_ID = 7;
const CONNECTIONS = [1, 32] as const;

export interface WrkFigures {
  p50_us: number;
  p99_us: number;
  p999_us: number;
  rps: number;
  requests: number;
  non2xx: number;
}

/** A round's figures, with what its requests cost the server process. */
interface RoundFigures extends WrkFigures {
  cpu_us_per_req: number;
  alloc_bytes_per_req: number;
}

export interface ServerProcess {
  url: string;
  /** /metrics and the other admin routes. */
  adminUrl: string;
  pid: number;
  /** Starts a measuring window; its result gives the CPU and heap allocation since. */
  startWindow: () => Promise<() => Promise<{ cpuMicros: number; allocatedBytes: number }>>;
  stop: () => void;
}

export async function run(log: (line: string) => void) {
  await ensureTool("wrk", "wrk", log);
  const project = `benchserve${process.pid}`;
  const registry = new FeatureRegistry(benchRepo(project));
  await seed(registry);

  const { key, record } = generateApiKey("bench");
  const features = BENCH_FEATURES.map((f) => `bench_view:${f}`);
  const oneEntity = JSON.stringify({ features, entities: { item_id: [ONE_ITEM_ID] } });
  const oneEntityService = JSON.stringify({
    feature_service: BENCH_SERVICE,
    entities: { item_id: [ONE_ITEM_ID] },
  });
  const hundred = JSON.stringify({
    features,
    entities: { item_id: Array.from({ length: 100 }, (_, i) => i) },
  });
  const redisUrl = resolveEndpoints().redis.address;
  const serverEnv = (cacheEntries: number, drift = false) => ({
    STRATA_REPO: path.join(here, "_bench-repo.ts"),
    BENCH_PROJECT: project,
    REDIS_URL: redisUrl,
    STRATA_HOST: "127.0.0.1",
    STRATA_PORT: "0",
    // Two servers run side by side: neither may take the default admin port.
    STRATA_ADMIN_PORT: "0",
    STRATA_API_KEYS: JSON.stringify([record]),
    STRATA_CACHE_ENTRIES: String(cacheEntries),
    // Reads only: no changelog writer, even when the environment names a broker.
    KAFKA_BROKERS: "",
    // Drift recording of every l1_hit_drift request, or off (even when the environment sets it).
    STRATA_DRIFT_MONITOR: drift ? BENCH_SERVICE : "",
    STRATA_DRIFT_SAMPLE_RATE: "1",
  });

  const handlerLoop = await handlerLoopMicros(serverEnv(100_000), key, oneEntity);
  log(`handler_loop: ${handlerLoop} us per l1_hit request`);
  const handlerLoopService = await handlerLoopMicros(serverEnv(100_000), key, oneEntityService);
  const handlerLoopDrift = await handlerLoopMicros(serverEnv(100_000, true), key, oneEntityService);
  log(
    `handler_loop_service: ${handlerLoopService} us, handler_loop_drift: ${handlerLoopDrift} us per request`,
  );

  const cached = await startProcess(["functions/serve/main.ts"], serverEnv(100_000));
  const cachedDrift = await startProcess(["functions/serve/main.ts"], serverEnv(100_000, true));
  const uncached = await startProcess(["functions/serve/main.ts"], serverEnv(0));
  // The floor answers with exactly the bytes the real server answers l1_hit with.
  const realBody = execFileSync(
    "curl",
    [
      "-s",
      "-X",
      "POST",
      `${cached.url}/get-online-features`,
      "-H",
      `Authorization: Bearer ${key}`,
      "-d",
      oneEntity,
    ],
    {
      encoding: "utf8",
    },
  );
  if (!realBody.startsWith('{"metadata"'))
    throw new Error(`the serving tier answered ${realBody.slice(0, 200)}`);
  const driftBody = await (
    await fetch(`${cachedDrift.url}/get-online-features`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: oneEntityService,
    })
  ).text();
  if (driftBody !== realBody) {
    throw new Error(`the service request is answered differently: ${driftBody.slice(0, 200)}`);
  }
  const floor = await startProcess(["bench/_floor-server.ts"], { FLOOR_BODY: realBody });
  const floorSpin = await startProcess(["bench/_floor-server.ts"], {
    FLOOR_BODY: realBody,
    FLOOR_SPIN_US: String(handlerLoop),
  });
  const httpLayer = await startProcess(["bench/_http-layer-server.ts"], { FLOOR_BODY: realBody });
  const floorRedis = await startProcess(["bench/_floor-server.ts"], {
    FLOOR_BODY: realBody,
    FLOOR_REDIS_URL: redisUrl,
    ...(await redisReadTarget(registry, redisUrl, ONE_ITEM_ID)),
  });

  const scenarios = {
    floor: { server: floor, body: oneEntity },
    floor_spin: { server: floorSpin, body: oneEntity },
    floor_redis: { server: floorRedis, body: oneEntity },
    http_layer: { server: httpLayer, body: oneEntity },
    l1_hit: { server: cached, body: oneEntity },
    l1_hit_service: { server: cached, body: oneEntityService },
    l1_hit_drift: { server: cachedDrift, body: oneEntityService },
    redis_read: { server: uncached, body: oneEntity },
    batch100: { server: cached, body: hundred },
  };
  // Rounds interleave the scenarios, and each figure is the median of its rounds: on this
  // shared machine a single run can drift by tens of microseconds between scenarios.
  const runs: Record<string, Record<string, RoundFigures[]>> = {};
  let driftValues: number;
  try {
    for (const connections of CONNECTIONS) {
      for (let r = 1; r <= ROUNDS; r++) {
        for (const [name, { server, body }] of Object.entries(scenarios)) {
          wrk(server.url, body, key, connections, WARMUP_S); // warm-up, discarded
          const endWindow = await server.startWindow();
          const load = wrk(server.url, body, key, connections, DURATION_S);
          const cost = await endWindow();
          const figures: RoundFigures = {
            ...load,
            cpu_us_per_req: round(cost.cpuMicros / load.requests, 1),
            alloc_bytes_per_req: Math.round(cost.allocatedBytes / load.requests),
          };
          ((runs[name] ??= {})[`c${connections}`] ??= []).push(figures);
          log(
            `round ${r}/${ROUNDS} ${name} c${connections}: p50 ${figures.p50_us} us, p99 ${figures.p99_us} us, p99.9 ${figures.p999_us} us, ${figures.rps} req/s, ${figures.cpu_us_per_req} us CPU and ${figures.alloc_bytes_per_req} bytes allocated per request${figures.non2xx ? `, ${figures.non2xx} non-2xx!` : ""}`,
          );
        }
      }
    }
    driftValues = await recordedValues(cachedDrift.adminUrl);
  } finally {
    for (const p of [cached, cachedDrift, uncached, floor, floorSpin, httpLayer, floorRedis])
      p.stop();
  }
  // Ten values a request: a server that recorded nothing did not measure recording.
  const driftRequests = Object.values(runs.l1_hit_drift!)
    .flat()
    .reduce((n, f) => n + f.requests, 0);
  if (driftValues < driftRequests * BENCH_FEATURES.length) {
    throw new Error(
      `l1_hit_drift recorded ${driftValues} values for ${driftRequests} timed requests`,
    );
  }
  const results: Record<string, Record<string, RoundFigures>> = {};
  for (const [name, byConn] of Object.entries(runs)) {
    for (const [conn, figures] of Object.entries(byConn))
      (results[name] ??= {})[conn] = medianFigures(figures);
  }

  const ratio = (a: number, b: number) => round(a / b, 2);
  const f = results.floor!;
  const l1 = results.l1_hit!;
  const fr = results.floor_redis!;
  const rr = results.redis_read!;
  const ls = results.l1_hit_service!;
  const ld = results.l1_hit_drift!;
  const summary = {
    l1_hit_p50_over_floor_c1: ratio(l1.c1!.p50_us, f.c1!.p50_us),
    l1_hit_p50_over_floor_c32: ratio(l1.c32!.p50_us, f.c32!.p50_us),
    l1_hit_rps_share_of_floor_c32: ratio(l1.c32!.rps, f.c32!.rps),
    l1_hit_cpu_per_req_over_floor_c32: ratio(l1.c32!.cpu_us_per_req, f.c32!.cpu_us_per_req),
    http_layer_rps_share_of_floor_c32: ratio(results.http_layer!.c32!.rps, f.c32!.rps),
    floor_spin_rps_share_of_floor_c32: ratio(results.floor_spin!.c32!.rps, f.c32!.rps),
    handler_loop_us: handlerLoop,
    redis_read_p99_us_c1: rr.c1!.p99_us,
    floor_redis_p99_us_c1: fr.c1!.p99_us,
    redis_read_p50_over_floor_redis_c1: ratio(rr.c1!.p50_us, fr.c1!.p50_us),
    redis_read_p99_over_floor_redis_c1: ratio(rr.c1!.p99_us, fr.c1!.p99_us),
    batch100_p99_us_c1: results.batch100!.c1!.p99_us,
    l1_hit_drift_rps_share_of_l1_hit_c32: ratio(ld.c32!.rps, l1.c32!.rps),
    l1_hit_drift_rps_share_of_l1_hit_service_c32: ratio(ld.c32!.rps, ls.c32!.rps),
    l1_hit_drift_cpu_per_req_over_l1_hit_service_c32: ratio(
      ld.c32!.cpu_us_per_req,
      ls.c32!.cpu_us_per_req,
    ),
    handler_loop_service_us: handlerLoopService,
    handler_loop_drift_us: handlerLoopDrift,
    l1_hit_drift_values_recorded: driftValues,
  };
  const table: BenchTableRow[] = Object.entries(results).flatMap(([name, byConn]) =>
    Object.entries(byConn).map(([conn, fig]) => ({
      measurement: `${name} ${conn}`,
      p50_us: fig.p50_us,
      p99_us: fig.p99_us,
      p999_us: fig.p999_us,
      rps: fig.rps,
      cpu_us_per_req: fig.cpu_us_per_req,
      alloc_bytes_per_req: fig.alloc_bytes_per_req,
    })),
  );
  table.push({
    measurement: "l1_hit CPU per request / floor's (c32)",
    p50_us: "",
    p99_us: "",
    p999_us: "",
    rps: "",
    cpu_us_per_req: `${summary.l1_hit_cpu_per_req_over_floor_c32}x`,
    alloc_bytes_per_req: "",
  });
  table.push({
    measurement: "l1_hit p50 / floor p50 (c1, c32)",
    p50_us: `${summary.l1_hit_p50_over_floor_c1}x, ${summary.l1_hit_p50_over_floor_c32}x`,
    p99_us: "",
    p999_us: "",
    rps: `${Math.round(summary.l1_hit_rps_share_of_floor_c32 * 100)}% of floor (c32)`,
  });
  table.push({
    measurement: "redis_read / floor_redis (c1)",
    p50_us: `${summary.redis_read_p50_over_floor_redis_c1}x`,
    p99_us: `${summary.redis_read_p99_over_floor_redis_c1}x`,
    p999_us: "",
    rps: "",
  });
  table.push({
    measurement: "handler_loop (no HTTP, us per request)",
    p50_us: handlerLoop,
    p99_us: "",
    p999_us: "",
    rps: "",
  });
  table.push({
    measurement: `floor_spin (${handlerLoop} us busy per request) rps / floor rps (c32)`,
    p50_us: "",
    p99_us: "",
    p999_us: "",
    rps: `${Math.round(summary.floor_spin_rps_share_of_floor_c32 * 100)}% of floor (c32)`,
  });
  table.push({
    measurement: "l1_hit_drift rps / l1_hit rps, / l1_hit_service rps (c32)",
    p50_us: "",
    p99_us: "",
    p999_us: "",
    rps: `${Math.round(summary.l1_hit_drift_rps_share_of_l1_hit_c32 * 100)}%, ${Math.round(summary.l1_hit_drift_rps_share_of_l1_hit_service_c32 * 100)}%`,
    cpu_us_per_req: `${summary.l1_hit_drift_cpu_per_req_over_l1_hit_service_c32}x l1_hit_service's`,
  });
  table.push({
    measurement: "handler_loop_service, handler_loop_drift (no HTTP, us per request)",
    p50_us: `${handlerLoopService}, ${handlerLoopDrift}`,
    p99_us: "",
    p999_us: "",
    rps: "",
  });
  table.push({
    measurement: "http_layer rps / floor rps (c32)",
    p50_us: "",
    p99_us: "",
    p999_us: "",
    rps: `${Math.round(summary.http_layer_rps_share_of_floor_c32 * 100)}% of floor (c32)`,
  });
  return {
    results: {
      scenarios: results,
      summary,
      duration_s: DURATION_S,
      load_generator: "wrk -t1",
      response_bytes_l1_hit: Buffer.byteLength(realBody),
    },
    table,
  };
}

/**
 * The serving core (functions/serve/runtime.ts, as the server builds it) answering the l1_hit
 * request in a loop in this process: median microseconds per request over rounds.
 */
async function handlerLoopMicros(
  env: Record<string, string>,
  key: string,
  body: string,
): Promise<number> {
  const runtime = await createServeRuntime(
    loadServeConfig({ ...process.env, ...env }),
    (message, error) => {
      throw new Error(`${message}: ${String(error)}`);
    },
  );
  const request = {
    method: "POST",
    path: "/get-online-features",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: Buffer.from(body),
  };
  const perRound: number[] = [];
  try {
    for (let r = 0; r < 5; r++) {
      const count = 50_000;
      const started = performance.now();
      for (let i = 0; i < count; i++) {
        const response = await runtime.handle(request);
        if (response.status !== 200) throw new Error(`handler answered ${response.body}`);
      }
      perRound.push(((performance.now() - started) * 1000) / count);
    }
  } finally {
    await runtime.close();
  }
  // The first round warms the JIT up; the median of the rest.
  return round(median(perRound.slice(1)), 2);
}

/**
 * The hash and fields the serving tier reads for one item (bench_view, generation 0), checked
 * to hold values, as the floor_redis server's settings.
 */
async function redisReadTarget(
  registry: FeatureRegistry,
  redisUrl: string,
  itemId: number,
): Promise<Record<string, string>> {
  const key = benchRowKey(registry, itemId);
  const names = benchRowFields(registry);
  const client = new Redis(redisUrl);
  try {
    const values = await client.hmget(key, ...names);
    if (values.some((v) => v === null))
      throw new Error(`floor_redis: ${key} lacks some of ${names.join(", ")}`);
  } finally {
    client.disconnect();
  }
  return { FLOOR_REDIS_KEY: key, FLOOR_REDIS_FIELDS: JSON.stringify(names) };
}

/** The drift counter's total on a server's /metrics: every value it recorded. */
async function recordedValues(adminUrl: string): Promise<number> {
  const text = await (await fetch(`${adminUrl}/metrics`)).text();
  return text
    .split("\n")
    .filter((line) => line.startsWith(`${FEATURE_VALUE_BUCKET_TOTAL}{`))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(" ") + 1)), 0);
}

async function seed(registry: FeatureRegistry): Promise<void> {
  const client = new Redis(resolveEndpoints().redis.address);
  const store = await OnlineStore.open({ client, registry, hotCache: false });
  const clock = new HybridLogicalClock();
  await store.write(Array.from({ length: 100 }, (_, id) => benchRow(id, clock, (j) => id + j / 7)));
  // The baseline the drift server reads at start (bench/_drift-baseline.ts).
  await publishBaseline(client, benchBaseline(registry.project));
  await store.close();
  client.disconnect();
}

/** One wrk run POSTing `body` to /get-online-features: latency percentiles (us) and requests/s. */
export function wrk(
  url: string,
  body: string,
  key: string,
  connections: number,
  seconds: number,
): WrkFigures {
  const out = execFileSync(
    "wrk",
    [
      "-t1",
      `-c${connections}`,
      `-d${seconds}s`,
      "-s",
      path.join(here, "_wrk-post.lua"),
      `${url}/get-online-features`,
    ],
    {
      encoding: "utf8",
      env: { ...process.env, WRK_BODY: body, WRK_AUTH: `Bearer ${key}` },
      timeout: (seconds + 30) * 1000,
    },
  );
  const line = out.split("\n").find((l) => l.startsWith('{"p50_us"'));
  if (!line) throw new Error(`wrk printed no figures:\n${out}`);
  const raw = JSON.parse(line) as {
    p50_us: number;
    p99_us: number;
    p999_us: number;
    requests: number;
    duration_us: number;
    non2xx: number;
  };
  return {
    p50_us: raw.p50_us,
    p99_us: raw.p99_us,
    p999_us: raw.p999_us,
    rps: Math.round(raw.requests / (raw.duration_us / 1e6)),
    requests: raw.requests,
    non2xx: raw.non2xx,
  };
}

/** A server (or floor) as its own process, with its CPU and heap allocation measurable per window. */
export async function startProcess(
  args: string[],
  env: Record<string, string>,
): Promise<ServerProcess> {
  const probe = path.join(here, "_alloc-probe.ts");
  const child: ChildProcess = spawn(
    process.execPath,
    ["--import", "tsx", "--import", probe, ...args],
    {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "inherit", "ipc"],
    },
  );
  const { url, adminUrl } = await new Promise<{ url: string; adminUrl: string }>(
    (resolve, reject) => {
      let output = "";
      const timer = setTimeout(
        () => reject(new Error(`${args.join(" ")} did not start: ${output}`)),
        30_000,
      );
      child.stdout!.on("data", (chunk: Buffer) => {
        output += chunk.toString();
        const line = output.split("\n").find((l) => l.includes('"serving"'));
        if (line) {
          clearTimeout(timer);
          resolve(JSON.parse(line) as { url: string; adminUrl: string });
        }
      });
      child.once("exit", (code) =>
        reject(new Error(`${args.join(" ")} exited with ${code}: ${output}`)),
      );
    },
  );
  const pid = child.pid!;
  const reply = <T>(send: string, pick: (message: unknown) => T | undefined) =>
    new Promise<T>((resolve) => {
      const onMessage = (message: unknown) => {
        const value = pick(message);
        if (value === undefined) return;
        child.off("message", onMessage);
        resolve(value);
      };
      child.on("message", onMessage);
      child.send(send);
    });
  const cpu = () => {
    const micros = processCpuMicros(pid);
    if (micros === undefined) throw new Error(`/proc/${pid}/stat is unreadable (Linux only)`);
    return micros;
  };
  return {
    url,
    adminUrl,
    pid,
    startWindow: async () => {
      await reply("alloc:start", (m) => (m === "alloc:started" ? true : undefined));
      const cpuAtStart = cpu();
      return async () => {
        const cpuMicros = cpu() - cpuAtStart;
        const { alloc } = await reply("alloc:stop", (m) =>
          typeof m === "object" && m !== null && "alloc" in m
            ? (m as { alloc: AllocWindow })
            : undefined,
        );
        return { cpuMicros, allocatedBytes: alloc.allocated_bytes };
      };
    },
    stop: () => child.kill("SIGTERM"),
  };
}

/** Each figure is the median over the rounds (so one noisy round does not decide). */
function medianFigures(rounds: RoundFigures[]): RoundFigures {
  const of = (pick: (f: RoundFigures) => number) => median(rounds.map(pick));
  return {
    p50_us: of((f) => f.p50_us),
    p99_us: of((f) => f.p99_us),
    p999_us: of((f) => f.p999_us),
    rps: of((f) => f.rps),
    requests: rounds.reduce((n, f) => n + f.requests, 0),
    non2xx: rounds.reduce((n, f) => n + f.non2xx, 0),
    cpu_us_per_req: of((f) => f.cpu_us_per_req),
    alloc_bytes_per_req: of((f) => f.alloc_bytes_per_req),
  };
}
