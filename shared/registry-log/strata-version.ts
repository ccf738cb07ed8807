import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

let cached: string | undefined;

/**
 * The strata package's version, from the nearest package.json named "strata" above this file
 * (the source tree and the built dist/ both sit under it); "unknown" when none is found.
 */
export function strataVersion(): string {
  if (cached !== undefined) return cached;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  cached = "unknown";
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === "strata" && typeof pkg.version === "string") {
        cached = pkg.version;
        break;
      }
    } catch {
      // No package.json here: look one folder up.
    }
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return cached;
}
