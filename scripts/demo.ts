// npm run demo: brings the local stack up, registers the example feature repo, writes
// sample rows through the online store, and reads them back on both Redis topologies.
// It grows with the product: each capability that lands adds its step here.
import { Cluster, Redis } from "ioredis";
import repo from "../examples/feature-repo.js";
import { resolveEndpoints } from "../dev/stack/endpoints.js";
import { formatStatus, stackStatus, stackUp } from "../dev/stack/stack.js";
import { StackError } from "../dev/stack/stack-error.js";
import { isStrataError } from "../shared/errors.js";
import { OnlineStore, type WriteRow } from "../shared/online-store/index.js";
import { FeatureRegistry } from "../shared/registry/index.js";
import { HybridLogicalClock } from "../shared/versions/index.js";

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
  console.log(
    "\nThe HTTP serving tier is not built yet; the store above is what it will serve from.",
  );
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
