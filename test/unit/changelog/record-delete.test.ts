import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { decodeChangelogRecord, encodeChangelogRecord } from "../../../shared/changelog/record.js";
import { isStrataError } from "../../../shared/errors.js";
import { prepareWrites, type WriteRow } from "../../../shared/online-store/write-path.js";
import { FeatureRegistry } from "../../../shared/registry/index.js";
import { testRepo } from "../../support/store.js";

const registry = new FeatureRegistry(testRepo("records"));

const remove = (driver: number, eventTsMs: number, wallMs: number, counter: number): WriteRow => ({
  view: "stats@2",
  entity: { driver_id: driver },
  values: {},
  version: { eventTsMs, epoch: 0, hlc: { wallMs, counter }, originRegion: "local" },
  deleted: true,
});

describe("changelog records of deletes", () => {
  it('are JSON with "values":{} and "deleted":true, and decode back to a delete', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -1000, max: 1000 }),
        fc.integer({ min: 0, max: 2 ** 47 }),
        fc.integer({ min: 0, max: 2 ** 47 }),
        fc.integer({ min: 0, max: 0xffff }),
        (driver, eventTsMs, wallMs, counter) => {
          const write = prepareWrites(registry, [remove(driver, eventTsMs, wallMs, counter)])[0]!;
          const { key, value } = encodeChangelogRecord(write);
          const parsed = JSON.parse(value) as Record<string, unknown>;
          assert.deepEqual(parsed.values, {});
          assert.equal(parsed.deleted, true);
          const decoded = decodeChangelogRecord(registry, key, value);
          assert.equal(decoded.deleted, true);
          assert.deepEqual(decoded.values, []);
          assert.deepEqual(decoded.version, write.version);
          assert.equal(decoded.encodedKey, write.encodedKey);
        },
      ),
    );
  });

  it("refuses a delete carrying values, or a deleted flag that is not true", () => {
    assert.throws(
      () => prepareWrites(registry, [{ ...remove(1, 1, 1, 0), values: { rate: 1 } }]),
      (e: unknown) => isStrataError(e, "STRATA_E_BATCH_REJECTED"),
    );
    const { key, value } = encodeChangelogRecord(prepareWrites(registry, [remove(1, 1, 1, 0)])[0]!);
    for (const bad of [
      value.replace('"values":{}', '"values":{"rate":"1"}'),
      value.replace('"deleted":true', '"deleted":"yes"'),
    ]) {
      assert.throws(
        () => decodeChangelogRecord(registry, key, bad),
        (e: unknown) => isStrataError(e, "STRATA_E_BAD_RECORD"),
      );
    }
  });
});
