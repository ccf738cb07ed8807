import { execBatch, type RedisClient } from "../online-store/pipeline.js";
import { rowFields } from "../online-store/redis-layout.js";
import type { ResolvedView } from "../registry/feature-registry.js";

/** A view's row as one region stores it: the text of its version, clock and values. */
export interface StoredRow {
  version: string;
  clock: string | null;
  /** In the view's feature order; null where a field is missing. */
  values: (string | null)[];
}

const BATCH = 1_000;

/** The stored version of a view's row in each key (null: no row), pipelined in batches. */
export async function readVersions(
  client: RedisClient,
  view: ResolvedView,
  generation: number,
  keys: readonly string[],
): Promise<(string | null)[]> {
  const field = rowFields(view, generation).version;
  const versions: (string | null)[] = [];
  for (let start = 0; start < keys.length; start += BATCH) {
    const slice = keys.slice(start, start + BATCH);
    const replies = await execBatch(
      client,
      slice.map((key) => ({ key, argv: ["hget", key, field] })),
    );
    for (const [error, reply] of replies) {
      if (error) throw error;
      versions.push((reply as string | null) ?? null);
    }
  }
  return versions;
}

/** A view's whole row in each key (undefined: no row), pipelined in batches. */
export async function readRows(
  client: RedisClient,
  view: ResolvedView,
  generation: number,
  keys: readonly string[],
): Promise<(StoredRow | undefined)[]> {
  const fields = rowFields(view, generation);
  const rows: (StoredRow | undefined)[] = [];
  for (let start = 0; start < keys.length; start += BATCH) {
    const slice = keys.slice(start, start + BATCH);
    const replies = await execBatch(
      client,
      slice.map((key) => ({
        key,
        argv: ["hmget", key, fields.version, fields.clock, ...fields.features],
      })),
    );
    for (const [error, reply] of replies) {
      if (error) throw error;
      const [version, clock, ...values] = reply as (string | null)[];
      rows.push(
        version === null || version === undefined
          ? undefined
          : { version, clock: clock ?? null, values },
      );
    }
  }
  return rows;
}
