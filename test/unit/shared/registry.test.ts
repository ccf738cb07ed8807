import assert from "node:assert/strict";
import { describe, it } from "node:test";
import repo from "../../../examples/feature-repo.js";
import { isStrataError, type ErrorCode } from "../../../shared/errors.js";
import { FeatureRegistry, type FeatureRepoDefinition } from "../../../shared/registry/index.js";

const registry = new FeatureRegistry(repo);

function base(): FeatureRepoDefinition {
  return {
    project: "p",
    entities: [{ name: "driver", joinKeys: { driver_id: "int64" } }],
    views: [
      {
        name: "stats",
        version: "1.0.0",
        entities: ["driver"],
        features: { rate: "float64" },
        maxAgeMs: 1000,
      },
    ],
  };
}

function rejects(mutate: (repo: FeatureRepoDefinition) => void, code: ErrorCode, named: string) {
  const definition = base();
  mutate(definition);
  assert.throws(
    () => new FeatureRegistry(definition),
    (e: unknown) => isStrataError(e, code) && e.message.includes(named),
  );
}

describe("feature registry", () => {
  it("loads the example repo with two majors of one view side by side", () => {
    assert.deepEqual(
      registry.views().map((v) => v.key),
      ["driver_hourly_stats@1", "driver_hourly_stats@2", "customer_profile@1"],
    );
  });

  it("resolves view:feature to the latest major and view@major:feature to the pinned one", () => {
    assert.equal(registry.resolveRef("driver_hourly_stats:conv_rate").view.major, 2);
    assert.equal(registry.resolveRef("driver_hourly_stats:conv_rate").feature.type, "float64");
    const pinned = registry.resolveRef("driver_hourly_stats@1:conv_rate");
    assert.equal(pinned.view.major, 1);
    assert.equal(pinned.feature.type, "float32");
  });

  it("expands a feature service to its pinned features", () => {
    assert.deepEqual(
      registry.service("driver_activity_v1").map((r) => `${r.view.key}:${r.feature.name}`),
      [
        "driver_hourly_stats@1:conv_rate",
        "driver_hourly_stats@1:acc_rate",
        "driver_hourly_stats@1:avg_daily_trips",
      ],
    );
  });

  it("names an unknown feature, view, major, service and a malformed reference", () => {
    const cases: [() => unknown, ErrorCode, string][] = [
      [() => registry.resolveRef("driver_hourly_stats:nope"), "STRATA_E_UNKNOWN_FEATURE", '"nope"'],
      [() => registry.resolveRef("ghost:conv_rate"), "STRATA_E_UNKNOWN_VIEW", '"ghost"'],
      [
        () => registry.resolveRef("driver_hourly_stats@7:conv_rate"),
        "STRATA_E_UNKNOWN_VIEW",
        "major version 7",
      ],
      [() => registry.resolveRef("no-colon"), "STRATA_E_BAD_FEATURE_REF", '"no-colon"'],
      [
        () => registry.service("ghost_service"),
        "STRATA_E_UNKNOWN_FEATURE_SERVICE",
        '"ghost_service"',
      ],
    ];
    for (const [call, code, named] of cases) {
      assert.throws(
        call,
        (e: unknown) => isStrataError(e, code) && e.message.includes(named),
        code,
      );
    }
  });

  it("reports every bad reference of a request at once", () => {
    assert.throws(
      () =>
        registry.resolveRefs([
          "driver_hourly_stats:a",
          "driver_hourly_stats:conv_rate",
          "driver_hourly_stats:b",
        ]),
      (e: unknown) => isStrataError(e, "STRATA_E_UNKNOWN_FEATURE") && /"a".*"b"/.test(e.message),
    );
  });

  it("rejects an unknown entity", () =>
    rejects((r) => (r.views[0]!.entities = ["rider"]), "STRATA_E_UNKNOWN_ENTITY", '"rider"'));
  it("rejects a duplicate feature", () =>
    rejects(
      (r) =>
        (r.views[0]!.features = [
          { name: "rate", type: "float64" },
          { name: "rate", type: "int64" },
        ]),
      "STRATA_E_DUPLICATE_FEATURE",
      '"rate"',
    ));
  it("rejects a bad version string", () =>
    rejects((r) => (r.views[0]!.version = "1.0"), "STRATA_E_BAD_VERSION", '"1.0"'));
  it("rejects a second definition of the same major", () =>
    rejects(
      (r) => r.views.push({ ...r.views[0]!, version: "1.1.0" }),
      "STRATA_E_DUPLICATE_VIEW",
      "1.0.0 and 1.1.0",
    ));
  it("rejects a feature service naming a feature that does not exist", () =>
    rejects(
      (r) => (r.services = [{ name: "svc", features: ["stats:rate", "stats:ghost"] }]),
      "STRATA_E_UNKNOWN_FEATURE",
      '"ghost"',
    ));
  it("rejects a feature service pinning a major that does not exist", () =>
    rejects(
      (r) => (r.services = [{ name: "svc", features: ["stats@3:rate"] }]),
      "STRATA_E_UNKNOWN_VIEW",
      "svc",
    ));
  it("rejects an unknown feature type", () =>
    rejects(
      (r) => (r.views[0]!.features = { rate: "float128" as never }),
      "STRATA_E_UNKNOWN_TYPE",
      '"float128"',
    ));
  it("rejects names that would break the Redis layout", () =>
    rejects((r) => (r.views[0]!.name = "a:b"), "STRATA_E_INVALID_NAME", '"a:b"'));
  it("rejects a non-positive maxAge", () =>
    rejects((r) => (r.views[0]!.maxAgeMs = 0), "STRATA_E_BAD_REGISTRY", "maxAgeMs"));

  it("refuses a feature named like a join key or a column the offline store adds", () => {
    for (const name of [
      "driver_id",
      "Driver_ID",
      "event_timestamp",
      "strata_version",
      "strata_x",
    ]) {
      rejects(
        (r) => (r.views[0]!.features = { rate: "float64", [name]: "int64" }),
        "STRATA_E_BAD_REGISTRY",
        name,
      );
    }
    assert.ok(new FeatureRegistry({ ...base() }).views().length === 1);
  });
});
