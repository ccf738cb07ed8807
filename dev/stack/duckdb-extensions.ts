// npm run setup:duckdb (and every `npm run stack -- up`) puts the DuckDB extensions Strata's offline reader loads
// (shared/offline/duckdb.ts) into its extension folder, from the PyPI wheels
// `duckdb-extension-<name>==<DuckDB release>`. Idempotent: present extensions are kept.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  duckdbExtensionDir,
  duckdbExtensionFile,
  duckdbPlatform,
  duckdbRelease,
  missingDuckDBExtensions,
} from "../../shared/offline/duckdb.js";
import { isMainModule } from "../../shared/main-module.js";

/** pip's wheel platform tag for DuckDB's platform name. */
function wheelPlatform(): string {
  const platform = duckdbPlatform();
  const tags: Record<string, string> = {
    linux_amd64: "manylinux2014_x86_64",
    linux_arm64: "manylinux2014_aarch64",
  };
  const tag = tags[platform];
  if (!tag) throw new Error(`no DuckDB extension wheels are published for ${platform}`);
  return tag;
}

function python(): string {
  for (const candidate of ["python3", "python"]) {
    try {
      execFileSync(candidate, ["-m", "pip", "--version"], { stdio: "ignore" });
      return candidate;
    } catch {
      // try the next
    }
  }
  throw new Error("python3 with pip is needed to fetch DuckDB's extensions from PyPI");
}

export function ensureDuckDBExtensions(
  log: (line: string) => void = console.log,
  dir = duckdbExtensionDir(),
): void {
  const missing = missingDuckDBExtensions(dir);
  if (missing.length === 0) return;
  const release = duckdbRelease();
  const work = mkdtempSync(path.join(os.tmpdir(), "strata-duckdb-"));
  try {
    const py = python();
    for (const name of missing) {
      log(
        `fetching DuckDB ${release}'s ${name} extension (PyPI wheel duckdb-extension-${name}) ...`,
      );
      const wheels = path.join(work, name);
      execFileSync(
        py,
        ["-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:"]
          .concat(["--platform", wheelPlatform(), "--dest", wheels])
          .concat([`duckdb-extension-${name}==${release}`]),
        { stdio: ["ignore", "inherit", "inherit"] },
      );
      const wheel = readdirSync(wheels).find((file) => file.endsWith(".whl"));
      if (!wheel) throw new Error(`pip left no wheel for duckdb-extension-${name}`);
      const member = `duckdb_extension_${name}/extensions/v${release}/${name}.duckdb_extension`;
      // A wheel is a zip file; Python's zipfile extracts it wherever pip runs.
      execFileSync(py, ["-m", "zipfile", "-e", path.join(wheels, wheel), path.join(wheels, "x")]);
      const target = duckdbExtensionFile(dir, name);
      mkdirSync(path.dirname(target), { recursive: true });
      copyFileSync(path.join(wheels, "x", member), `${target}.tmp`);
      // Renamed into place so a fetch cut short never leaves a truncated extension behind.
      renameSync(`${target}.tmp`, target);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  log(`DuckDB extensions are in ${dir}`);
}

if (isMainModule(import.meta.url)) {
  try {
    ensureDuckDBExtensions();
  } catch (error) {
    console.error(`setup:duckdb: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}
