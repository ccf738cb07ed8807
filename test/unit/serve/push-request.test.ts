import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_LIMITS } from "../../../functions/serve/config.js";
import { parsePushRequest, type PushContext } from "../../../functions/serve/push-request.js";
import { isStrataError, type ErrorCode } from "../../../shared/errors.js";
import { FeatureRegistry } from "../../../shared/registry/index.js";
import { testRepo } from "../../support/store.js";

const registry = new FeatureRegistry(testRepo("push"));
let counter = 0;
const context: PushContext = {
  registry,
  limits: { ...DEFAULT_LIMITS, maxEntities: 3 },
  region: "eu-west-1",
  hlc: () => ({ wallMs: 1_800_000_000_000, counter: counter++ }),
};

const riderPush = (df: Record<string, unknown[]>, extra: Record<string, unknown> = {}) => ({
  push_source_name: "rider_profile",
  df: {
    rider_id: ["r1", "r2"],
    city: ["paris", "oslo"],
    score: [0.5, 1],
    vip: [true, false],
    blob: ["aGk=", null],
    event_timestamp: ["2026-11-26 10:00:00", "2026-11-26T10:00:00+01:00"],
    ...df,
  },
  ...extra,
});

function fails(body: unknown, code: ErrorCode, named?: string): void {
  assert.throws(
    () => parsePushRequest(body, context),
    (e: unknown) =>
      isStrataError(e, code) && (named === undefined || JSON.stringify(e).includes(named)),
  );
}

describe("Feast push requests", () => {
  it("turns Feast's push body into one versioned write row per pushed row", () => {
    const parsed = parsePushRequest(riderPush({}, { to: "online", wait: "applied" }), context);
    assert.equal(parsed.pushedRows, 2);
    assert.equal(parsed.wait, "applied");
    assert.deepEqual(parsed.rows[0]!.entity, { rider_id: "r1", city: "paris" });
    assert.deepEqual(parsed.rows[0]!.values.blob, Buffer.from("hi"));
    assert.equal(parsed.rows[1]!.values.blob, null);
    // A time without a zone is UTC, as in Feast.
    assert.equal(parsed.rows[0]!.version.eventTsMs, Date.UTC(2026, 10, 26, 10));
    assert.equal(parsed.rows[1]!.version.eventTsMs, Date.UTC(2026, 10, 26, 9));
    assert.equal(parsed.rows[0]!.version.originRegion, "eu-west-1");
    assert.notDeepEqual(parsed.rows[0]!.version.hlc, parsed.rows[1]!.version.hlc);
  });

  it("writes every view of a push source, each from its own columns", () => {
    const parsed = parsePushRequest(
      {
        push_source_name: "driver_stats_push",
        df: {
          driver_id: [1, 2],
          rate: [0.1, 0.2],
          trips: [1, "9007199254740993"],
          label: ["a", "b"],
          tags: [["x"], []],
          event_timestamp: [1_764_151_200_000, 1_764_151_200_000],
          created: ["ignored", "ignored"],
        },
      },
      context,
    );
    assert.deepEqual(
      parsed.rows.map((r) => r.view),
      ["stats@1", "stats@1", "stats@2", "stats@2"],
    );
    assert.equal(parsed.rows[1]!.values.trips, 9007199254740993n);
    assert.equal("tags" in parsed.rows[0]!.values, false);
    assert.deepEqual(parsed.rows[3]!.values.tags, []);
  });

  it("names what is wrong, with the stable codes", () => {
    fails(null, "STRATA_E_BAD_REQUEST");
    fails({ df: {} }, "STRATA_E_BAD_REQUEST", "push_source_name");
    fails(riderPush({}, { to: "offline" }), "STRATA_E_PUSH_TARGET");
    fails(riderPush({}, { to: "online_and_offline" }), "STRATA_E_PUSH_TARGET");
    fails(riderPush({}, { wait: "forever" }), "STRATA_E_BAD_REQUEST", "wait");
    fails({ ...riderPush({}), push_source_name: "nope" }, "STRATA_E_UNKNOWN_PUSH_SOURCE", "nope");
    fails({ ...riderPush({}), push_source_name: "stats@7" }, "STRATA_E_UNKNOWN_VIEW");
    fails({ ...riderPush({}), df: [] }, "STRATA_E_BAD_REQUEST", "df");
    fails(riderPush({ score: [1] }), "STRATA_E_BAD_REQUEST", "different lengths");
    fails(riderPush({ score: 1 as unknown as unknown[] }), "STRATA_E_BAD_REQUEST", "score");
    fails(riderPush({ city: undefined as unknown as unknown[] }), "STRATA_E_BAD_REQUEST");
    const withoutCity = riderPush({});
    delete (withoutCity.df as Record<string, unknown>).city;
    fails(withoutCity, "STRATA_E_MISSING_JOIN_KEY", "city");
    const withoutScore = riderPush({});
    delete (withoutScore.df as Record<string, unknown>).score;
    fails(withoutScore, "STRATA_E_MISSING_FEATURE_VALUE", "score");
    const withoutTime = riderPush({});
    delete (withoutTime.df as Record<string, unknown>).event_timestamp;
    fails(withoutTime, "STRATA_E_BAD_REQUEST", "event_timestamp");
    fails(riderPush({ mystery: [1, 2] }), "STRATA_E_UNKNOWN_FEATURE", "mystery");
    fails(
      riderPush({
        rider_id: ["a", "b", "c", "d"],
        city: ["x", "x", "x", "x"],
        score: [1, 1, 1, 1],
        vip: [true, true, true, true],
        blob: [null, null, null, null],
        event_timestamp: [0, 0, 0, 0],
      }),
      "STRATA_E_TOO_MANY_ENTITIES",
    );
  });

  it("rejects rows with bad event times, naming each row", () => {
    assert.throws(
      () => parsePushRequest(riderPush({ event_timestamp: ["yesterday", 1.5] }), context),
      (e: unknown) =>
        isStrataError(e, "STRATA_E_BATCH_REJECTED") &&
        (e.details.rejected as { index: number }[]).map((r) => r.index).join() === "0,1",
    );
  });
});

describe("push sources in the registry", () => {
  it("refuses a push source that names a missing view or shares a view's name", () => {
    const repo = testRepo("bad_push");
    assert.throws(
      () => new FeatureRegistry({ ...repo, pushSources: [{ name: "p", views: ["ghost"] }] }),
      (e: unknown) => isStrataError(e, "STRATA_E_UNKNOWN_VIEW"),
    );
    assert.throws(
      () => new FeatureRegistry({ ...repo, pushSources: [{ name: "stats", views: ["stats@1"] }] }),
      (e: unknown) => isStrataError(e, "STRATA_E_BAD_REGISTRY"),
    );
    assert.throws(
      () => new FeatureRegistry({ ...repo, pushSources: [{ name: "p", views: [] }] }),
      (e: unknown) => isStrataError(e, "STRATA_E_BAD_REGISTRY"),
    );
  });
});
