import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { DEFAULT_LIMITS } from "../../../functions/serve/config.js";
import { parsePushRequest } from "../../../functions/serve/push-request.js";
import { isStrataError, type StrataError } from "../../../shared/errors.js";
import { validateWrites, type WriteRow } from "../../../shared/online-store/write-path.js";
import { FeatureRegistry } from "../../../shared/registry/index.js";
import {
  checkEventTime,
  DEFAULT_MAX_EVENT_TIME_SKEW_MS,
  eventTimeLimit,
  latestEventTimeMs,
} from "../../../shared/versions/event-time.js";
import { testRepo } from "../../support/store.js";

const NOW = Date.parse("2026-12-01T00:00:00Z");
const registry = new FeatureRegistry(testRepo("eventtime"));
const limit = eventTimeLimit({ now: () => NOW });
const bound = { latestMs: latestEventTimeMs(limit), maxSkewMs: limit.maxSkewMs };

const row = (eventTsMs: number): WriteRow => ({
  view: "stats@1",
  entity: { driver_id: 1 },
  values: { rate: 0.5, trips: 1, label: "x" },
  version: { eventTsMs, epoch: 0, hlc: { wallMs: NOW, counter: 0 }, originRegion: "eu" },
});

describe("the event-time limit", () => {
  it("accepts up to now plus the skew (5 minutes by default) and refuses anything later", () => {
    assert.equal(limit.maxSkewMs, DEFAULT_MAX_EVENT_TIME_SKEW_MS);
    assert.equal(DEFAULT_MAX_EVENT_TIME_SKEW_MS, 300_000);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 48 - 1 }), (eventTsMs) => {
        let error: unknown;
        try {
          checkEventTime(eventTsMs, bound.latestMs, bound.maxSkewMs);
        } catch (e) {
          error = e;
        }
        if (eventTsMs <= NOW + 300_000) return error === undefined;
        return isStrataError(error, "STRATA_E_EVENT_TIME_IN_FUTURE") && error.status === 400;
      }),
    );
  });

  it("refuses a batch with a future row in the writer's validation, naming the row and its code", () => {
    const rows = [row(NOW), row(NOW + 300_000), row(Date.parse("9999-01-01T00:00:00Z"))];
    assert.doesNotThrow(() => validateWrites(registry, rows.slice(0, 2), bound));
    assert.throws(
      () => validateWrites(registry, rows, bound),
      (e: StrataError) =>
        isStrataError(e, "STRATA_E_BATCH_REJECTED") &&
        JSON.stringify(e.details.rejected) ===
          JSON.stringify([
            {
              index: 2,
              code: "STRATA_E_EVENT_TIME_IN_FUTURE",
              message: (e.details.rejected as { message: string }[])[0]!.message,
            },
          ]) &&
        /9999-01-01T00:00:00.000Z/.test(e.message),
    );
    // Without a bound (the online store's own write), nothing changes.
    assert.doesNotThrow(() => validateWrites(registry, rows));
  });

  it("refuses a push whose event timestamp is beyond the writer's bound, naming the pushed row", () => {
    const body = {
      push_source_name: "rider_profile",
      df: {
        rider_id: ["r1", "r2"],
        city: ["paris", "oslo"],
        score: [0.5, 1],
        vip: [true, false],
        blob: [null, null],
        event_timestamp: [NOW, 2 ** 48 - 1],
      },
    };
    const context = {
      registry,
      limits: DEFAULT_LIMITS,
      region: "eu-west-1",
      hlc: () => ({ wallMs: NOW, counter: 0 }),
      eventTime: bound,
    };
    assert.throws(
      () => parsePushRequest(body, context),
      (e: StrataError) =>
        isStrataError(e, "STRATA_E_BATCH_REJECTED") &&
        JSON.stringify(
          (e.details.rejected as { index: number; code: string }[]).map((r) => [r.index, r.code]),
        ) === '[[1,"STRATA_E_EVENT_TIME_IN_FUTURE"]]',
    );
  });
});
