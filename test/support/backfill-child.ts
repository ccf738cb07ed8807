// A backfill coordinator as a child process, for tests that SIGKILL it: runs the steps named by
// BACKFILL_STEPS (start,advance,verify,flip,gc) one after another, prints "done <step>" after
// each, then "paused" and waits to be killed when BACKFILL_PAUSE_AFTER names that step.
import { BackfillCoordinator } from "../../shared/backfill/index.js";
import { FeatureRegistry } from "../../shared/registry/index.js";
import { kafkaClient, type Topology } from "./servers.js";
import { TEST_TOPICS } from "./changelog.js";
import { openStore, testRepo } from "./store.js";

const env = process.env;
const registry = new FeatureRegistry(testRepo(env.STRATA_TEST_PROJECT!));
const opened = await openStore(env.BACKFILL_TOPOLOGY as Topology, registry, { hotCache: false });
const coordinator = new BackfillCoordinator(
  {
    store: opened.store,
    client: opened.client,
    kafka: kafkaClient("backfill-child"),
    region: "a",
    topics: TEST_TOPICS,
    leaseMs: 4_000,
    drainTimeoutMs: 20_000,
  },
  "stats@1",
);
for (const step of env.BACKFILL_STEPS!.split(",")) {
  if (step === "start")
    await coordinator.start({ source: { kind: "file", path: env.BACKFILL_FILE! } });
  else if (step === "advance") await coordinator.advance();
  else if (step === "verify") await coordinator.verify();
  else if (step === "flip") await coordinator.flip();
  else if (step === "gc") await coordinator.gc({ force: true });
  console.log(`done ${step}`);
  if (env.BACKFILL_PAUSE_AFTER === step) {
    console.log("paused");
    await new Promise(() => setInterval(() => undefined, 1_000));
  }
}
await opened.close();
process.exit(0);
