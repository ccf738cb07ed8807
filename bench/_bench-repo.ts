// The feature repo the benchmarks use: views of 10 float64 features keyed by an int64.
import { encodeEntityKey, entityRedisKey } from "../shared/key-codec.js";
import type { WriteRow } from "../shared/online-store/index.js";
import { INITIAL_GENERATION, rowFields } from "../shared/online-store/redis-layout.js";
import {
  defineRepo,
  type FeatureRegistry,
  type FeatureRepoDefinition,
} from "../shared/registry/index.js";
import type { HybridLogicalClock } from "../shared/versions/index.js";

export const BENCH_FEATURES = Array.from({ length: 10 }, (_, i) => `f${i}`);

/** A feature service of bench_view's ten features. */
export const BENCH_SERVICE = "bench_service";

export function benchRepo(project: string): FeatureRepoDefinition {
  return defineRepo({
    project,
    entities: [{ name: "item", joinKeys: { item_id: "int64" } }],
    views: [
      {
        name: "bench_view",
        version: "1.0.0",
        entities: ["item"],
        features: Object.fromEntries(BENCH_FEATURES.map((f) => [f, "float64"])),
        maxAgeMs: 86_400_000,
      },
      {
        // The same features, written synchronously (acks=all, and applied when asked).
        name: "bench_critical",
        version: "1.0.0",
        entities: ["item"],
        features: Object.fromEntries(BENCH_FEATURES.map((f) => [f, "float64"])),
        maxAgeMs: 86_400_000,
        criticality: "critical",
      },
    ],
    // What the serve benchmark's requests by feature service (and drift recording) name.
    services: [{ name: BENCH_SERVICE, features: BENCH_FEATURES.map((f) => `bench_view:${f}`) }],
  });
}

/** Item `itemId`'s bench_view row as a writer sends it, feature j holding `valueOf(j)`. */
export function benchRow(
  itemId: number,
  clock: HybridLogicalClock,
  valueOf: (feature: number) => number,
): WriteRow {
  return {
    view: "bench_view",
    entity: { item_id: itemId },
    values: Object.fromEntries(BENCH_FEATURES.map((f, j) => [f, valueOf(j)])),
    version: { eventTsMs: Date.now(), epoch: 0, hlc: clock.now(), originRegion: "bench" },
  };
}

/** Rows 0..count-1 of bench_view as a writer sends them: item i's feature j is i + j / 10. */
export function benchRows(count: number, clock: HybridLogicalClock): WriteRow[] {
  return Array.from({ length: count }, (_, i) => benchRow(i, clock, (j) => i + j / 10));
}

/** The Redis hash that holds one item's bench_view row: what the floors read and write raw. */
export function benchRowKey(registry: FeatureRegistry, itemId: number): string {
  const view = registry.view("bench_view");
  return entityRedisKey(
    registry.project,
    view.entitySet,
    encodeEntityKey(view.joinKeys, { item_id: itemId }),
  );
}

/** bench_view's version field and feature fields in generation 0: what a read of the row fetches. */
export function benchRowFields(registry: FeatureRegistry): string[] {
  const fields = rowFields(registry.view("bench_view"), INITIAL_GENERATION);
  return [fields.version, ...fields.features];
}

/** As a module for the serving process (STRATA_REPO), named by BENCH_PROJECT. */
export default benchRepo(process.env.BENCH_PROJECT ?? "benchserve");
