import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  isTileExpired,
  isTooLate,
  meanTileFields,
  offsetField,
  tileField,
  tileIndex,
  watermarkField,
  windowStartMs,
  windowTiles,
} from "../../../shared/aggregations/index.js";

describe("window math", () => {
  it("puts an event in tile floor(ts / tileMs)", () => {
    assert.equal(tileIndex(0, 60_000), 0);
    assert.equal(tileIndex(59_999, 60_000), 0);
    assert.equal(tileIndex(60_000, 60_000), 1);
    assert.equal(tileIndex(-1, 60_000), -1);
  });

  it("covers W/T tiles ending with now's tile", () => {
    assert.deepEqual(windowTiles(3_600_000 + 30_000, 3_600_000, 60_000), { first: 1, last: 60 });
    assert.equal(windowStartMs(3_600_000 + 30_000, 3_600_000, 60_000), 60_000);
  });

  it("counts an event in the window exactly when its time is in [start, now]", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 0, max: 10 ** 12 }),
        fc.integer({ min: 0, max: 10 ** 7 }),
        (tiles, tileSeconds, now, back) => {
          const tileMs = tileSeconds * 1000;
          const windowMs = tiles * tileMs;
          const ts = now - back;
          const { first, last } = windowTiles(now, windowMs, tileMs);
          const k = tileIndex(ts, tileMs);
          assert.equal(last - first + 1, tiles);
          assert.equal(k >= first && k <= last, ts >= windowStartMs(now, windowMs, tileMs));
          // The window is between W - T and W long.
          const length = now - windowStartMs(now, windowMs, tileMs);
          assert.ok(length >= windowMs - tileMs && length < windowMs);
        },
      ),
    );
  });

  it("never expires a tile that a window at the watermark or an on-time event can reach", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 0, max: 10 ** 7 }),
        fc.integer({ min: 10 ** 9, max: 10 ** 12 }),
        fc.integer({ min: 0, max: 10 ** 8 }),
        (tiles, tileSeconds, lateness, wm, back) => {
          const tileMs = tileSeconds * 1000;
          const windowMs = tiles * tileMs;
          const ts = wm - back;
          if (isTooLate(ts, wm, lateness)) return;
          // An on-time event's tile, and every tile a read at its time covers, are kept.
          const { first } = windowTiles(ts, windowMs, tileMs);
          assert.equal(isTileExpired(first, tileMs, windowMs, wm, lateness), false);
        },
      ),
    );
  });

  it("names fields per CONTRACTS.md", () => {
    assert.equal(watermarkField("v@1"), "v@1#0:_wm");
    assert.equal(offsetField("v@1", "strata.p.events", 3), "v@1#0:_o:strata.p.events:3");
    assert.equal(tileField("v@1", "cnt", 29_416_666), "v@1#0:cnt:29416666");
    assert.deepEqual(meanTileFields("v@1", "m", 7), { count: "v@1#0:m:7:c", sum: "v@1#0:m:7:s" });
  });
});
