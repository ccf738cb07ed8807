// A feature repo for drift recording tests: one view with a feature of each kind a baseline
// describes (float, int64, string, bool) and a list, a monitored service and another one.
import { defineRepo, type FeatureRepoDefinition } from "../../shared/registry/index.js";
import type { DriftBaseline } from "../../shared/drift/baseline.js";

export const DRIFT_SERVICE = "fraud_features";
export const DRIFT_MODEL = "fraud_model";
export const OTHER_SERVICE = "eta_features";

export function driftRepo(project: string): FeatureRepoDefinition {
  return defineRepo({
    project,
    entities: [{ name: "driver", joinKeys: { driver_id: "int64" } }],
    views: [
      {
        name: "drift_stats",
        version: "1.0.0",
        entities: ["driver"],
        features: {
          rate: "float64",
          trips: "int64",
          city: "string",
          active: "bool",
          tags: "string[]",
        },
        maxAgeMs: 86_400_000,
      },
    ],
    services: [
      {
        name: DRIFT_SERVICE,
        features: [
          "drift_stats:rate",
          "drift_stats:trips",
          "drift_stats:city",
          "drift_stats:active",
          "drift_stats:tags",
        ],
      },
      { name: OTHER_SERVICE, features: ["drift_stats:rate"] },
    ],
  });
}

/**
 * A baseline of DRIFT_SERVICE: rate edges 0.25/0.5/0.75 (5 buckets with null), trips edges
 * 10/100 (4), city top-2 (4), active true/false (4), tags (a list: never recorded).
 */
export function driftBaseline(project: string, version = "b1"): DriftBaseline {
  return {
    format: 1,
    project,
    model: DRIFT_MODEL,
    modelVersion: "3",
    featureService: DRIFT_SERVICE,
    baselineVersion: version,
    createdAt: "2026-12-01T00:00:00Z",
    source: "test",
    rows: 100,
    features: [
      {
        name: "drift_stats@1:rate",
        kind: "numeric",
        edges: [0.25, 0.5, 0.75],
        expected: [0.25, 0.25, 0.25, 0.25, 0],
      },
      {
        name: "drift_stats@1:trips",
        kind: "numeric",
        edges: [10, 100],
        expected: [0.5, 0.3, 0.2, 0],
      },
      {
        name: "drift_stats@1:city",
        kind: "categorical",
        categories: ["paris", "rome"],
        expected: [0.5, 0.4, 0.1, 0],
      },
      {
        name: "drift_stats@1:active",
        kind: "categorical",
        categories: ["true", "false"],
        expected: [0.7, 0.3, 0, 0],
      },
      { name: "drift_stats@1:tags", kind: "categorical", categories: ["a"], expected: [1, 0, 0] },
    ],
  };
}
