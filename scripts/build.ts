// npm run build: compiles the runtime code (shared/, functions/, examples/) to dist/ and
// copies the Lua scripts next to it, where shared/online-store/lua-script.ts looks for them.
import { execFileSync } from "node:child_process";
import { cpSync, rmSync } from "node:fs";
import path from "node:path";
import { repoRoot } from "../dev/stack/paths.js";

const dist = path.join(repoRoot, "dist");
rmSync(dist, { recursive: true, force: true });
execFileSync(
  process.execPath,
  [path.join(repoRoot, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"],
  {
    cwd: repoRoot,
    stdio: "inherit",
  },
);
cpSync(path.join(repoRoot, "lua"), path.join(dist, "lua"), { recursive: true });
console.log(`built ${path.relative(process.cwd(), dist) || "dist"}`);
