// A serving-tier reader for the flip benchmark (bench/backfill.ts): an OnlineStore with the hot
// cache and invalidation, as a serving process has, reading one entity in a tight loop. It
// reports over IPC the wall time at which it first sees each new generation's value.
import { Redis } from "ioredis";
import { OnlineStore } from "../shared/online-store/index.js";
import { FeatureRegistry } from "../shared/registry/index.js";
import { benchRepo } from "./_bench-repo.js";

const registry = new FeatureRegistry(benchRepo(process.env.BENCH_PROJECT!));
const client = new Redis(process.env.BENCH_REDIS_URL!);
const store = await OnlineStore.open({ client, registry });
let last: unknown;
let running = true;
process.on("message", (message) => {
  if (message === "stop") running = false;
});
process.send!("ready");
while (running) {
  const { rows } = await store.read([{ item_id: 0 }], ["bench_view:f0"]);
  const value = rows[0]!.values[0];
  if (value !== last) {
    last = value;
    process.send!({ value, atMs: performance.timeOrigin + performance.now() });
  }
  await new Promise((resolve) => setImmediate(resolve));
}
await store.close();
client.disconnect();
process.exit(0);
