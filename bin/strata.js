#!/usr/bin/env node
// The `strata` command's launcher (package.json "bin"). In a checkout, where tsx is installed,
// it registers tsx's ESM loader and runs the TypeScript sources, so no build step is needed and
// feature repo files written in TypeScript load too. In the container image (compiled code,
// production dependencies only) it runs the build output, dist/cli/main.js.
// Paths are resolved from this file, never from the current directory: `strata` works from
// any folder, through npx, a global install's symlink or the image's PATH.
import { existsSync } from "node:fs";
import process from "node:process";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const source = path.join(root, "cli", "main.ts");
const built = path.join(root, "dist", "cli", "main.js");

async function tsxRegister() {
  try {
    return (await import("tsx/esm/api")).register;
  } catch {
    return undefined;
  }
}

const register = existsSync(source) ? await tsxRegister() : undefined;
if (register) {
  register();
  await import(pathToFileURL(source).href);
} else if (existsSync(built)) {
  await import(pathToFileURL(built).href);
} else {
  process.stderr.write(
    `strata: neither ${source} with tsx installed nor ${built} exists\n` +
      "  → run npm install in the Strata checkout (or npm run build)\n",
  );
  process.exitCode = 2;
}
