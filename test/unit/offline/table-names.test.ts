import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { offlineTableDir, offlineTableId } from "../../../shared/offline/table-names.js";

describe("offline table names", () => {
  it("names the namespace after the project and the table after the view major", () => {
    assert.deepEqual(offlineTableId("fraud", "driver_stats@2"), {
      namespace: "strata_fraud",
      table: "driver_stats_v2",
    });
  });

  it("turns - and . into _ in project and view names", () => {
    assert.deepEqual(offlineTableId("my-proj.eu", "drv-stats.x@10"), {
      namespace: "strata_my_proj_eu",
      table: "drv_stats_x_v10",
    });
  });

  it("puts the table folder under the warehouse", () => {
    assert.equal(offlineTableDir("/w", "p", "v@1"), "/w/strata_p/v_v1");
  });

  it("refuses a key without a major", () => {
    assert.throws(() => offlineTableId("p", "view"));
    assert.throws(() => offlineTableId("p", "view@x"));
    assert.throws(() => offlineTableId("p", "@1"));
  });
});
