// A backfill test bed over the real servers: a project of its own, its changelog, a regional
// consumer, a writer, and coordinators (shared/backfill) for it.
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { BackfillCoordinator, type CoordinatorDeps } from "../../shared/backfill/index.js";
import { backfillTopic } from "../../shared/backfill/backfill-topic.js";
import { FeatureRegistry } from "../../shared/registry/index.js";
import { changelogFixture, TEST_TOPICS, type ChangelogFixture } from "./changelog.js";
import { openStore, testRepo, uniqueProject, type OpenedStore } from "./store.js";
import type { Topology } from "./servers.js";

export interface BackfillBed {
  registry: FeatureRegistry;
  fixture: ChangelogFixture;
  /** The coordinator's store: no hot cache. */
  coordinatorStore: OpenedStore;
  coordinator: (deps?: Partial<CoordinatorDeps>, view?: string) => BackfillCoordinator;
  dir: string;
  writeCsv: (name: string, lines: string[]) => string;
  close: () => Promise<void>;
}

export const REGION = "a";

export async function backfillBed(topology: Topology, prefix = "bf"): Promise<BackfillBed> {
  const registry = new FeatureRegistry(testRepo(uniqueProject(prefix)));
  const fixture = await changelogFixture(registry);
  const coordinatorStore = await openStore(topology, registry, { hotCache: false });
  const dir = mkdtempSync(path.join(os.tmpdir(), "strata-backfill-"));
  return {
    registry,
    fixture,
    coordinatorStore,
    dir,
    coordinator: (deps = {}, view = "stats@1") =>
      new BackfillCoordinator(
        {
          store: coordinatorStore.store,
          client: coordinatorStore.client,
          kafka: fixture.kafka,
          region: REGION,
          topics: TEST_TOPICS,
          drainTimeoutMs: 20_000,
          ...deps,
        },
        view,
      ),
    writeCsv: (name, lines) => {
      const file = path.join(dir, name);
      writeFileSync(file, lines.join("\n") + "\n");
      return file;
    },
    close: async () => {
      await fixture.admin
        .deleteTopics({ topics: [backfillTopic(registry.project)] })
        .catch(() => undefined);
      await fixture.cleanup();
      await coordinatorStore.close();
    },
  };
}

/** CSV lines of stats@1 rows: driver, rate, trips, label, event time (ms). */
export function statsCsv(rows: { driver: number; rate: number; eventTsMs: number }[]): string[] {
  return [
    "driver_id,rate,trips,label,event_timestamp",
    ...rows.map((r) => `${r.driver},${r.rate},${r.driver},d${r.driver},${r.eventTsMs}`),
  ];
}
