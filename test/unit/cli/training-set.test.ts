import assert from "node:assert/strict";
import path from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { runInProcess } from "../../support/cli.js";
import { tempDir } from "../../support/offline-history.js";

const repoFile = fileURLToPath(new URL("../../support/pit-repo.ts", import.meta.url));
const tmp = tempDir("strata-cli-ts");
after(() => tmp.remove());

describe("strata training-set", () => {
  it("shows an example in its help", async () => {
    const run = await runInProcess(["training-set", "--help"]);
    assert.equal(run.code, 0);
    assert.match(run.stdout, /\$ strata training-set --entities .* --service .* --out /);
  });

  it("asks for features or a service, and for one output", async () => {
    const none = await runInProcess([
      "training-set",
      "--entities",
      "e.parquet",
      "--out",
      "o.parquet",
    ]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no features asked for/);
    const both = await runInProcess([
      "training-set",
      "--entities",
      "e.parquet",
      "--service",
      "pit_model",
    ]);
    assert.equal(both.code, 1);
    assert.match(both.stderr, /no output file/);
  });

  it("names a view whose offline table was never written (exit 1, STRATA_E_OFFLINE_TABLE_MISSING)", async () => {
    const entities = path.join(tmp.dir, "e.csv");
    (await import("node:fs")).writeFileSync(
      entities,
      "driver_id,zone_id,event_timestamp\n1,z1,2026-12-01T00:00:00Z\n",
    );
    const run = await runInProcess(
      ["training-set", "--entities", entities, "--service", "pit_model", "--out", "o.parquet"],
      { env: { STRATA_REPO: repoFile, STRATA_OFFLINE_WAREHOUSE: path.join(tmp.dir, "wh") } },
    );
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /STRATA_E_OFFLINE_TABLE_MISSING: the offline table of stats@1/);
  });
});
