// npm run demo: brings the local stack up, registers the example feature repo, writes
// sample rows through the online store on both Redis topologies, then starts the serving
// tier and answers a real Feast request over HTTP, and pushes a row through Kafka and the
// regional consumer and reads it back. `npm run demo -- --serve` keeps the
// server running afterwards. It grows with the product: each capability adds its step.
import http from "node:http";
import { Cluster, Redis } from "ioredis";
import repo from "../examples/feature-repo.js";
import { resolveEndpoints } from "../dev/stack/endpoints.js";
import { formatStatus, stackStatus, stackUp } from "../dev/stack/stack.js";
import { StackError } from "../dev/stack/stack-error.js";
import { ChangelogConsumer, createKafka, DEFAULT_TOPIC_CONFIG } from "../shared/changelog/index.js";
import { isStrataError } from "../shared/errors.js";
import { OnlineStore, type WriteRow } from "../shared/online-store/index.js";
import { FeatureRegistry } from "../shared/registry/index.js";
import { HybridLogicalClock } from "../shared/versions/index.js";
import { generateApiKey } from "../functions/serve/auth.js";
import { DEFAULT_LIMITS } from "../functions/serve/config.js";
import { startHttpServer } from "../functions/serve/http-server.js";
import { createServeRuntime } from "../functions/serve/runtime.js";
import { isPortFree } from "../dev/stack/processes.js";

const REGION = "local-dev";

function sampleRows(clock: HybridLogicalClock): WriteRow[] {
  const version = () => ({
    eventTsMs: Date.now(),
    epoch: 0,
    hlc: clock.now(),
    originRegion: REGION,
  });
  return [
    ...[1001, 1002, 1003].flatMap((driver_id, i): WriteRow[] => [
      {
        view: "driver_hourly_stats@1",
        entity: { driver_id },
        values: { conv_rate: 0.5 + i / 10, acc_rate: 0.9 - i / 20, avg_daily_trips: 10 + i },
        version: version(),
      },
      {
        view: "driver_hourly_stats@2",
        entity: { driver_id },
        values: {
          conv_rate: 0.55 + i / 10,
          acc_rate: 0.88,
          avg_daily_trips: 10 + i,
          trip_ids_last_hour: [i, i + 1],
        },
        version: version(),
      },
    ]),
    {
      view: "customer_profile",
      entity: { customer_id: "c-42" },
      values: {
        segment: "gold",
        lifetime_trips: 311,
        is_vip: true,
        signup_ts: Date.UTC(2024, 0, 5),
        avatar_thumb: null,
      },
      version: version(),
    },
  ];
}

async function demoOn(
  label: string,
  client: Redis | Cluster,
  registry: FeatureRegistry,
): Promise<void> {
  const store = await OnlineStore.open({ client, registry });
  try {
    const clock = new HybridLogicalClock();
    const rows = sampleRows(clock);
    const report = await store.write(rows);
    console.log(
      `\n[${label}] wrote ${rows.length} rows: ${report.applied} applied, ${report.stale} stale`,
    );
    const replay = await store.write(rows);
    console.log(
      `[${label}] replayed the same rows: ${replay.applied} applied, ${replay.stale} stale (versions never regress)`,
    );

    const features = [
      "driver_hourly_stats@1:conv_rate",
      "driver_hourly_stats:conv_rate",
      "driver_hourly_stats:trip_ids_last_hour",
    ];
    const entities = [{ driver_id: 1001 }, { driver_id: 1002 }, { driver_id: 9999 }];
    const result = await store.read(entities, features);
    console.log(`[${label}] read ${features.join(", ")}:`);
    console.table(
      entities.map((entity, r) => ({
        driver_id: entity.driver_id,
        ...Object.fromEntries(
          features.map((f, i) => [
            f,
            `${JSON.stringify(result.rows[r]!.values[i])} ${result.rows[r]!.statuses[i]}`,
          ]),
        ),
      })),
    );
    await store.read(entities, features);
    const cache = store.stats().cache!;
    console.log(
      `[${label}] hot cache: ${cache.hits} hits, ${cache.misses} misses, ${cache.size} entries`,
    );

    try {
      await store.write([{ ...rows[0]!, values: { conv_rate: "high" } }]);
    } catch (error) {
      if (!isStrataError(error)) throw error;
      console.log(
        `[${label}] a bad row is refused before anything is written: ${error.code}: ${error.message}`,
      );
    }
  } finally {
    await store.close();
  }
}

async function main(): Promise<void> {
  console.log(
    "Strata demo: bringing up the local stack (Redis, a 3-master Redis Cluster, Kafka) ...",
  );
  const report = await stackUp();
  console.log(`\nstack ready in ${report.seconds.toFixed(1)}s:\n${formatStatus(stackStatus())}`);

  const registry = new FeatureRegistry(repo);
  console.log(
    `\nregistered project "${registry.project}": ${registry
      .views()
      .map((v) => v.key)
      .join(", ")}; services ${registry.serviceNames().join(", ")}`,
  );
  const endpoints = resolveEndpoints();
  const standalone = new Redis(endpoints.redis.address);
  const cluster = new Cluster(endpoints.cluster.address);
  try {
    await demoOn("redis standalone", standalone, registry);
    await demoOn("redis cluster", cluster, registry);
  } finally {
    standalone.disconnect();
    cluster.disconnect();
  }
  await serveDemo(registry, process.argv.includes("--serve"));
}

/** The serving tier on Feast's port (or the next free one), with a freshly generated API key. */
async function serveDemo(registry: FeatureRegistry, keepServing: boolean): Promise<void> {
  let port = 6566;
  while (!(await isPortFree(port, "127.0.0.1"))) port++;
  // One key that may read and push, for the demo; production keys are scoped (docs/serving.md).
  const { key, record } = generateApiKey("demo", { push: true });
  const runtime = await createServeRuntime(
    {
      host: "127.0.0.1",
      port,
      admin: { host: "127.0.0.1", port: 0 },
      registry: { kind: "file", path: "examples/feature-repo.ts" },
      redis: { url: resolveEndpoints().redis.address },
      apiKeys: [record],
      limits: DEFAULT_LIMITS,
      cacheEntries: 100_000,
      shutdownGraceMs: 2_000,
      changelog: {
        kafka: { brokers: resolveEndpoints().kafka.address },
        region: REGION,
        // One broker: one replica. Production defaults are in docs/changelog.md.
        topics: {
          ...DEFAULT_TOPIC_CONFIG,
          partitions: 3,
          replicationFactor: 1,
          minInSyncReplicas: 1,
        },
        queueMaxRecords: 10_000,
        batchSize: 1_000,
        lingerMs: 5,
        ackTimeoutMs: 10_000,
      },
    },
    // Transient broker chatter (a coordinator still loading) is retried by kafkajs.
    () => undefined,
    registry,
  );
  // The regional consumer, in this process for the demo (its own process in production:
  // npm run ingest). It applies what the serving tier pushes to the changelog.
  const consumerClient = new Redis(resolveEndpoints().redis.address);
  const consumerStore = await OnlineStore.open({
    client: consumerClient,
    registry,
    hotCache: false,
  });
  const consumer = await ChangelogConsumer.start({
    kafka: createKafka(
      { brokers: resolveEndpoints().kafka.address, clientId: "strata-demo" },
      () => undefined,
    ),
    store: consumerStore,
    region: REGION,
  });
  const server = await startHttpServer(runtime.handle, {
    host: "127.0.0.1",
    port,
    maxBodyBytes: DEFAULT_LIMITS.maxBodyBytes,
    requestTimeoutMs: 10_000,
  });
  // Health, readiness and metrics listen apart from the feature API (docs/serving.md).
  const admin = await startHttpServer(runtime.handleAdmin, {
    host: "127.0.0.1",
    port: 0,
    maxBodyBytes: DEFAULT_LIMITS.maxBodyBytes,
    requestTimeoutMs: 10_000,
  });
  const body = JSON.stringify({
    features: [
      "driver_hourly_stats:conv_rate",
      "driver_hourly_stats:acc_rate",
      "driver_hourly_stats:avg_daily_trips",
    ],
    entities: { driver_id: [1001, 1002, 1003] },
  });
  console.log(`\nserving tier: ${server.url} (API key generated for this run: ${key})`);
  console.log("Feast's request, unchanged:\n");
  console.log(
    `curl -s -X POST ${server.url}/get-online-features \\\n  -H 'Authorization: Bearer ${key}' \\\n  -d '${body}'\n`,
  );
  // node:http, not fetch: fetch refuses port 6566 (on the WHATWG "bad ports" list), which
  // is Feast's default port, so Feast's clients and curl use it and so do we.
  const response = await postJson(`${server.url}/get-online-features`, body, {
    authorization: `Bearer ${key}`,
  });
  console.log(`HTTP ${response.status}`);
  console.log(JSON.stringify(JSON.parse(response.body), null, 2));

  const push = JSON.stringify({
    push_source_name: "customer_profile",
    df: {
      customer_id: ["c-42"],
      segment: ["gold"],
      lifetime_trips: [318],
      is_vip: [true],
      signup_ts: [Date.UTC(2024, 0, 15)],
      avatar_thumb: [null],
      event_timestamp: [new Date().toISOString()],
    },
    to: "online",
    wait: "applied",
  });
  console.log(
    "\nFeast's push, through Kafka (customer_profile is critical: acks=all, then applied):\n",
  );
  console.log(
    `curl -s -X POST ${server.url}/push \\\n  -H 'Authorization: Bearer ${key}' \\\n  -H 'Content-Type: application/json' \\\n  -d '${push}'\n`,
  );
  const pushed = await postJson(`${server.url}/push`, push, { authorization: `Bearer ${key}` });
  console.log(`HTTP ${pushed.status} ${pushed.body}`);
  const readBack = await postJson(
    `${server.url}/get-online-features`,
    JSON.stringify({
      features: ["customer_profile:segment", "customer_profile:lifetime_trips"],
      entities: { customer_id: ["c-42"] },
    }),
    { authorization: `Bearer ${key}` },
  );
  console.log(`read back at once: HTTP ${readBack.status} ${readBack.body}`);
  if (keepServing) {
    console.log(`\nServing until Ctrl-C: try the curl command above, or ${admin.url}/metrics.`);
    await new Promise<void>((resolve) => process.once("SIGINT", () => resolve()));
  } else {
    console.log("\n(npm run demo -- --serve keeps the server running.)");
  }
  await server.close(2_000);
  await admin.close(0);
  await runtime.close();
  await consumer.stop();
  await consumerStore.close();
  consumerClient.disconnect();
  console.log("Stop the stack with: npm run stack -- down");
}

main().catch((error: unknown) => {
  if (error instanceof StackError) {
    console.error(`strata demo: ${error.message}${error.hint ? `\n  → ${error.hint}` : ""}`);
  } else {
    console.error("strata demo: unexpected failure", error);
  }
  process.exitCode = 1;
});

function postJson(
  url: string,
  body: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      { method: "POST", headers: { "content-type": "application/json", ...headers } },
      (response) => {
        let text = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => (text += chunk));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body: text }));
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}
