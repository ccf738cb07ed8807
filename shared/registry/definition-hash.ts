import { createHash } from "node:crypto";
import type { FeatureRepoDefinition } from "./definitions.js";

/**
 * The content hash of a feature repo definition: sha256 (hex) of its canonical JSON, object
 * keys sorted at every depth and `undefined` members dropped, so the same definitions hash
 * the same whatever order a repo file wrote its keys in. Arrays keep their order: the order of
 * views, features and services is part of what a repo declares. So do the `joinKeys` and
 * `features` records: their key order is the join keys' order in every entity key and the
 * features' order in a view, so two repos that differ only there are different registries.
 */
export function definitionHash(definition: FeatureRepoDefinition): string {
  return createHash("sha256")
    .update(JSON.stringify(sortKeys(definition, false)))
    .digest("hex");
}

/** JSON with object keys sorted at every depth. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value, false, true));
}

/** Records whose key order is part of what they declare (see definitionHash). */
const ORDERED_RECORDS = new Set(["joinKeys", "features"]);

function sortKeys(value: unknown, keepOrder: boolean, sortAll = false): unknown {
  if (Array.isArray(value)) return value.map((item) => sortKeys(item, false, sortAll));
  if (value === null || typeof value !== "object") return value;
  const sorted: Record<string, unknown> = {};
  const keys = Object.keys(value);
  for (const key of keepOrder && !sortAll ? keys : keys.sort()) {
    const member = (value as Record<string, unknown>)[key];
    if (member !== undefined) sorted[key] = sortKeys(member, ORDERED_RECORDS.has(key), sortAll);
  }
  return sorted;
}
