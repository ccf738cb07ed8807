import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import {
  duckdbExtensionDir,
  duckdbExtensionFile,
  duckdbRelease,
  openEmbeddedEngine,
} from "../../../shared/offline/duckdb.js";
import { StrataError } from "../../../shared/errors.js";

test("the extension folder follows STRATA_DUCKDB_EXTENSION_DIR, else the user's cache", () => {
  assert.equal(duckdbExtensionDir({ STRATA_DUCKDB_EXTENSION_DIR: "/x/ext" }), "/x/ext");
  assert.equal(
    duckdbExtensionDir({ XDG_CACHE_HOME: "/c" }),
    path.join("/c", "strata", "duckdb-extensions"),
  );
  assert.match(
    duckdbExtensionFile("/d", "iceberg"),
    new RegExp(
      `^/d/v${duckdbRelease().replace(/\./g, "\\.")}/[a-z]+_[a-z0-9]+/iceberg\\.duckdb_extension$`,
    ),
  );
});

test("opening the engine without its extensions names what is missing and how to fetch it", async () => {
  const empty = mkdtempSync(path.join(os.tmpdir(), "strata-no-ext-"));
  await assert.rejects(openEmbeddedEngine({ extensionDir: empty }), (error: unknown) => {
    assert.ok(error instanceof StrataError);
    assert.equal(error.code, "STRATA_E_OFFLINE_ENGINE_MISSING");
    assert.match(error.message, /avro, iceberg, httpfs/);
    assert.match(error.message, /npm run setup:duckdb/);
    return true;
  });
});
