import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import { sameLayout, stackLayout } from "../../../dev/stack/layout.js";
import { formatFlowLags } from "../../../dev/stack/replication-lag.js";
import { StackError } from "../../../dev/stack/stack-error.js";

// paths.ts reads STRATA_STACK_DIR once, at import: set it before the module loads.
const dir = mkdtempSync(path.join(os.tmpdir(), "strata-stack-layout-"));
process.env.STRATA_STACK_DIR = dir;
const { currentLayout, forgetLayout, recordLayout, recordedLayout } =
  await import("../../../dev/stack/recorded-layout.js");

describe("recorded layout", () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("round-trips the regions and offset through .stack/regions.json", () => {
    assert.equal(recordedLayout(), undefined);
    const layout = stackLayout(["a", "b", "c"], 1000);
    recordLayout(layout);
    assert.deepEqual(recordedLayout(), layout);
    assert.deepEqual(currentLayout(), layout);
    forgetLayout();
    assert.equal(recordedLayout(), undefined);
    assert.deepEqual(
      currentLayout().regions.map((region) => region.name),
      ["local"],
    );
  });

  it("refuses a file that does not describe a layout, naming the file", () => {
    writeFileSync(path.join(dir, "regions.json"), '{"regions": 3}');
    assert.throws(
      () => recordedLayout(),
      (error: unknown) => error instanceof StackError && error.message.includes("regions.json"),
    );
    forgetLayout();
  });

  it("tells a different region list or offset from the same one", () => {
    const abc = stackLayout(["a", "b", "c"], 0);
    assert.ok(sameLayout(abc, stackLayout(["a", "b", "c"], 0)));
    assert.ok(!sameLayout(abc, stackLayout(["a", "b"], 0)));
    assert.ok(!sameLayout(abc, stackLayout(["b", "a", "c"], 0)));
    assert.ok(!sameLayout(abc, stackLayout(["a", "b", "c"], 1000)));
  });
});

describe("flow lag lines", () => {
  it("prints one compact line per flow, with unknowns marked", () => {
    const text = formatFlowLags([
      { source: "a", target: "b", topics: 2, records: 30, seconds: 30.27 },
      { source: "b", target: "a", topics: 1, records: 0, seconds: 0 },
      { source: "a", target: "c", topics: 2, records: 3, seconds: undefined },
      { source: "c", target: "a", topics: 0, records: 0, seconds: undefined, error: "down" },
    ]);
    assert.deepEqual(text.split("\n"), [
      "flow     a->b         lag 30 records, 30.3s  (2 topics)",
      "flow     b->a         lag 0 records, 0.0s  (1 topics)",
      "flow     a->c         lag 3 records, ?s  (2 topics)",
      "flow     c->a         unknown (down)",
    ]);
  });
});
