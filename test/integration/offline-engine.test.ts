import assert from "node:assert/strict";
import { test } from "node:test";
import { openEmbeddedEngine } from "../../shared/offline/duckdb.js";

// The stack's `up` fetched the extensions (dev/stack/duckdb-extensions.ts); this proves the
// fetched files are the ones this DuckDB accepts, which a version bump of either would break.
test("the embedded engine loads iceberg (and avro, which iceberg needs) without downloading", async () => {
  const engine = await openEmbeddedEngine();
  try {
    const reader = await engine.connection.runAndReadAll(
      "select extension_name from duckdb_extensions() where loaded and extension_name in ('iceberg', 'avro') order by 1",
    );
    assert.deepEqual(
      reader.getRowObjects().map((row) => row.extension_name),
      ["avro", "iceberg"],
    );
  } finally {
    engine.close();
  }
});
