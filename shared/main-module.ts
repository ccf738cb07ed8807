import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * Whether the module at `moduleUrl` (its `import.meta.url`) is the script node was started
 * with, rather than a module imported by another: an entry point such as
 * functions/serve/main.ts runs itself only then, so the `strata` command can import its run
 * function. Both sides are compared as real paths (npm's bin links are symlinks).
 */
export function isMainModule(moduleUrl: string): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(moduleUrl));
  } catch {
    return false;
  }
}
