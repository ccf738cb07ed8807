import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export interface PackageInfo {
  name: string;
  version: string;
  /** The folder holding Strata's package.json (the checkout, or /app in the image). */
  root: string;
}

let cached: PackageInfo | undefined;

/**
 * Strata's own package.json, found upwards from this file: cli/ in a checkout, dist/cli/ in
 * the image, so the depth differs.
 */
export function packageInfo(): PackageInfo {
  if (cached) return cached;
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); ; dir = path.dirname(dir)) {
    const file = path.join(dir, "package.json");
    if (existsSync(file)) {
      const parsed = JSON.parse(readFileSync(file, "utf8")) as { name?: string; version?: string };
      if (parsed.name === "strata" && typeof parsed.version === "string") {
        cached = { name: parsed.name, version: parsed.version, root: dir };
        return cached;
      }
    }
    if (path.dirname(dir) === dir) throw new Error("Strata's package.json was not found");
  }
}
