import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { DuckDBInstance, version as duckdbVersion, type DuckDBConnection } from "@duckdb/node-api";
import { StrataError } from "../errors.js";

/**
 * The extensions Strata's embedded engine loads: `iceberg` reads the offline store's tables,
 * `avro` is what iceberg reads manifests with, `httpfs` reads S3 / Azure warehouses. DuckDB
 * downloads extensions from its own site on first use, which production networks (and this
 * project's CI) do not reach; the same binaries are published on PyPI as wheels
 * (`duckdb-extension-<name>`), so the project fetches them from there ahead of time
 * (scripts/duckdb-extensions.ts) and DuckDB only ever loads them from a local folder.
 */
export const DUCKDB_EXTENSIONS = ["avro", "iceberg", "httpfs"] as const;
export type DuckDBExtension = (typeof DUCKDB_EXTENSIONS)[number];

/** The DuckDB release of @duckdb/node-api ("1.5.5"): extension wheels must match it exactly. */
export function duckdbRelease(): string {
  return duckdbVersion().replace(/^v/, "");
}

/** DuckDB's platform name for this machine, as in its extension folders. */
export function duckdbPlatform(): string {
  const arch = process.arch === "x64" ? "amd64" : process.arch === "arm64" ? "arm64" : process.arch;
  return `${process.platform === "darwin" ? "osx" : process.platform}_${arch}`;
}

/**
 * The folder DuckDB loads extensions from (its `extension_directory`): STRATA_DUCKDB_EXTENSION_DIR,
 * else `$XDG_CACHE_HOME/strata/duckdb-extensions` (`~/.cache/...`), shared by every checkout.
 */
export function duckdbExtensionDir(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env.STRATA_DUCKDB_EXTENSION_DIR?.trim();
  if (explicit) return path.resolve(explicit);
  const cache = env.XDG_CACHE_HOME?.trim() || path.join(os.homedir(), ".cache");
  return path.join(cache, "strata", "duckdb-extensions");
}

/** Where DuckDB looks for one extension inside the extension directory. */
export function duckdbExtensionFile(dir: string, name: DuckDBExtension): string {
  return path.join(dir, `v${duckdbRelease()}`, duckdbPlatform(), `${name}.duckdb_extension`);
}

export function missingDuckDBExtensions(dir: string): DuckDBExtension[] {
  return DUCKDB_EXTENSIONS.filter((name) => !existsSync(duckdbExtensionFile(dir, name)));
}

export interface EmbeddedEngine {
  connection: DuckDBConnection;
  /** Closes the connection and the instance (its memory and threads). */
  close(): void;
}

export interface EmbeddedEngineOptions {
  extensionDir?: string;
  /** DuckDB's worker threads; its default is one per core. */
  threads?: number;
  /** DuckDB's memory limit, e.g. "4GB"; its default is 80% of the machine's memory. */
  memoryLimit?: string;
}

/**
 * An in-process DuckDB with the offline store's extensions loaded. The one way Strata opens
 * DuckDB, so every reader gets the same extension folder and the same refusal to download.
 */
export async function openEmbeddedEngine(
  options: EmbeddedEngineOptions = {},
): Promise<EmbeddedEngine> {
  const dir = options.extensionDir ?? duckdbExtensionDir();
  const missing = missingDuckDBExtensions(dir);
  if (missing.length > 0) {
    throw new StrataError(
      "STRATA_E_OFFLINE_ENGINE_MISSING",
      `DuckDB ${duckdbRelease()} extension(s) ${missing.join(", ")} are not in ${dir}; run \`npm run setup:duckdb\` (it fetches them from PyPI) or set STRATA_DUCKDB_EXTENSION_DIR`,
      { missing, extensionDir: dir },
    );
  }
  const config: Record<string, string> = {
    extension_directory: dir,
    autoinstall_known_extensions: "false",
    autoload_known_extensions: "true",
  };
  if (options.threads !== undefined) config.threads = String(options.threads);
  if (options.memoryLimit !== undefined) config.memory_limit = options.memoryLimit;
  const instance = await DuckDBInstance.create(":memory:", config);
  const connection = await instance.connect();
  try {
    await connection.run("LOAD iceberg");
  } catch (error) {
    connection.closeSync();
    instance.closeSync();
    throw new StrataError(
      "STRATA_E_OFFLINE_ENGINE_MISSING",
      `DuckDB could not load the iceberg extension from ${dir}: ${error instanceof Error ? error.message : String(error)}`,
      { extensionDir: dir },
      { cause: error },
    );
  }
  return {
    connection,
    close() {
      connection.closeSync();
      instance.closeSync();
    },
  };
}
