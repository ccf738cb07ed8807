// PyIceberg, the offline store's independent reader in tests: a Python venv made from
// test/offline/requirements.lock, cached by that file's hash (like the Feast suite's venv) in
// STRATA_PYICEBERG_CACHE (default .cache/pyiceberg in the clone; CI keeps it outside).
import { spawnSync } from "node:child_process";
import path from "node:path";
import { cachedVenv } from "../../dev/python-venv.js";
import { repoRoot } from "../../dev/stack/paths.js";

const LOCKFILE = path.join(repoRoot, "test/offline/requirements.lock");
const READER = path.join(repoRoot, "test/offline/read_iceberg.py");

function run(command: string, args: string[]): string {
  const result = spawnSync(command, args, { encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
  if (result.error) throw new Error(`${command} could not run: ${result.error.message}`);
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(" ")} failed (${result.status}): ${result.stderr}`);
  }
  return result.stdout;
}

/** The venv's python: reused when complete for this lockfile, else built from PyPI (fails loudly). */
export function pyIcebergPython(): string {
  const cacheRoot = path.resolve(
    process.env.STRATA_PYICEBERG_CACHE ?? path.join(repoRoot, ".cache/pyiceberg"),
  );
  return path.join(cachedVenv(LOCKFILE, cacheRoot), "bin/python");
}

/** A table as PyIceberg reads it (test/offline/read_iceberg.py): exact values as text. */
export interface IcebergRead {
  schema: Record<string, { type: string; required: boolean }>;
  partition: { source: string; transform: string }[];
  /** Each data file's partition values (for day(event_timestamp): days since the epoch). */
  files: string[][];
  rows: Record<string, unknown>[];
}

/** Reads the table in `tableDir` (a Hadoop-catalog table folder) through PyIceberg. */
export function readIcebergTable(python: string, tableDir: string): IcebergRead {
  return JSON.parse(run(python, [READER, tableDir])) as IcebergRead;
}
