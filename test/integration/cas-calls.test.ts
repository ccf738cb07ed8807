import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ROWS_PER_CAS_CALL } from "../../shared/online-store/cas-calls.js";
import { LuaScript } from "../../shared/online-store/lua-script.js";
import type { WriteRow } from "../../shared/online-store/index.js";
import { FeatureRegistry } from "../../shared/registry/index.js";
import type { Version } from "../../shared/versions/index.js";
import { TOPOLOGIES } from "../support/servers.js";
import { openStore, testRepo, uniqueProject, type OpenedStore } from "../support/store.js";

const CAS = LuaScript.fromFile("cas-write");
const version = (n: number): Version => ({
  eventTsMs: 1_700_000_000_000 + n,
  epoch: 0,
  hlc: { wallMs: 1_700_000_000_000 + n, counter: 0 },
  originRegion: "us-east-1",
});
const row = (driver_id: number, n: number): WriteRow => ({
  view: "stats@1",
  entity: { driver_id },
  values: { rate: n, trips: n, label: `v${n}` },
  version: version(n),
});

for (const topology of TOPOLOGIES) {
  describe(`the CAS script applies rows in calls of many (${topology})`, () => {
    const registry = new FeatureRegistry(testRepo(uniqueProject("cascalls")));
    let opened: OpenedStore;
    before(async () => {
      opened = await openStore(topology, registry, { hotCache: false });
    });
    after(() => opened.close());

    it("answers each row of a batch spanning several calls, rows of one key in order", async () => {
      // 3 calls' worth of distinct drivers, with driver 0 written at 5, then 3 (stale), then 9,
      // then 9 again (a duplicate: stale), spread over the batch.
      const rows = Array.from({ length: ROWS_PER_CAS_CALL * 3 }, (_, i) => row(i + 1, 1));
      rows.splice(10, 0, row(0, 5));
      rows.splice(ROWS_PER_CAS_CALL + 5, 0, row(0, 3));
      rows.splice(2 * ROWS_PER_CAS_CALL + 7, 0, row(0, 9));
      rows.push(row(0, 9));
      const report = await opened.store.write(rows);
      const outcomeOf = (i: number) => report.rows.find((r) => r.index === i)!.outcome;
      assert.equal(report.rows.length, rows.length);
      assert.equal(outcomeOf(10), "applied");
      assert.equal(outcomeOf(ROWS_PER_CAS_CALL + 5), "stale");
      assert.equal(outcomeOf(2 * ROWS_PER_CAS_CALL + 7), "applied");
      assert.equal(outcomeOf(rows.length - 1), "stale");
      assert.equal(report.applied, ROWS_PER_CAS_CALL * 3 + 2);
      assert.equal(report.stale, 2);
      const read = await opened.store.read(
        [0, 1, ROWS_PER_CAS_CALL * 3].map((driver_id) => ({ driver_id })),
        ["stats@1:label"],
      );
      assert.deepEqual(
        read.rows.map((r) => r.values[0]),
        ["v9", "v1", "v1"],
      );
    });

    it("writes each row's own values when rows of two view majors alternate in one call", async () => {
      // stats@1 (3 features) and stats@2 (4) share the driver hash, so they share calls: two
      // shapes of different sizes, their rows interleaved, a stale row among them.
      const rows: WriteRow[] = [];
      for (let d = 100; d < 110; d++) {
        rows.push({ ...row(d, d), values: { rate: d + 0.5, trips: d, label: `one-${d}` } });
        rows.push({
          view: "stats@2",
          entity: { driver_id: d },
          values: { rate: -d, trips: 2 * d, label: `two-${d}`, tags: [`t${d}`, "x"] },
          version: version(d),
        });
      }
      rows.push({ ...row(100, 50), values: { rate: 0, trips: 0, label: "stale" } });
      const report = await opened.store.write(rows);
      assert.equal(report.applied, 20);
      assert.equal(report.stale, 1);
      const drivers = Array.from({ length: 10 }, (_, i) => ({ driver_id: 100 + i }));
      const read = await opened.store.read(drivers, [
        "stats@1:rate",
        "stats@1:trips",
        "stats@1:label",
        "stats@2:rate",
        "stats@2:trips",
        "stats@2:label",
        "stats@2:tags",
      ]);
      assert.deepEqual(
        read.rows.map((r) => r.values),
        drivers.map(({ driver_id: d }) => [
          d + 0.5,
          d,
          `one-${d}`,
          -d,
          2 * d,
          `two-${d}`,
          [`t${d}`, "x"],
        ]),
      );
    });

    it("refuses a malformed call as a whole, before writing any of its rows", async () => {
      // Two keys of one hash slot, as the store's calls on a cluster are.
      const first = `fs:{${registry.project}:driver:x}`;
      const second = `fs:{${registry.project}:driver:x}:2`;
      const server = opened.client;
      const shape = ["1", "stats@1#0:_v", "stats@1#0:_cv", "stats@1#0:label"];
      const row = ["1", "0".repeat(36) + "r", "r:" + "0".repeat(16), "v"];
      const call = (...argv: string[]) => server.evalsha(CAS.sha, 2, first, second, ...argv);
      const malformed: [string[], RegExp][] = [
        [["0", ...shape, ...row, ...row], /the shape count is not a positive integer/],
        [["1", "99", ...shape.slice(1), ...row, ...row], /shape 1 is malformed/],
        [["1", ...shape, ...row, "2", ...row.slice(1)], /row 2 names no shape/],
        [["1", ...shape, ...row, ...row.slice(0, 3)], /row 2 names no shape or lacks arguments/],
        [["1", ...shape, ...row, ...row, "extra"], /1 arguments after the last row/],
      ];
      for (const [argv, reason] of malformed) {
        await assert.rejects(call(...argv), (error: Error) => {
          assert.match(error.message, /^ERR cas-write script: /);
          assert.match(error.message, reason);
          return true;
        });
      }
      assert.equal(await server.exists(first), 0, "nothing of the calls was written");
      // The well-formed call goes through, and answers one code per row.
      assert.deepEqual(await call("1", ...shape, ...row, ...row), [1, 1]);
      assert.equal(await server.hget(second, "stats@1#0:label"), "v");
    });
  });
}
