import { createHash } from "node:crypto";
import type { FeatureRepoDefinition } from "./definitions.js";

/**
 * The content hash of a feature repo definition: sha256 (hex) of its canonical JSON, object
 * keys sorted at every depth and `undefined` members dropped, so the same definitions hash
 * the same whatever order a repo file wrote its keys in. Arrays keep their order: the order of
 * views, features and services is part of what a repo declares.
 */
export function definitionHash(definition: FeatureRepoDefinition): string {
  return createHash("sha256").update(canonicalJson(definition)).digest("hex");
}

/** JSON with object keys sorted at every depth; what definitionHash hashes. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== "object") return value;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const member = (value as Record<string, unknown>)[key];
    if (member !== undefined) sorted[key] = sortKeys(member);
  }
  return sorted;
}
