// STRATA_DRIFT_* as the serving tier reads them: off unless asked, defaults, and refusals
// that name the variable.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isStrataError } from "../../../shared/errors.js";
import {
  DEFAULT_DRIFT_REFRESH_MS,
  DEFAULT_DRIFT_SAMPLE_RATE,
  readDriftRecording,
} from "../../../functions/serve/drift-recording.js";

describe("drift recording configuration", () => {
  it("is off when STRATA_DRIFT_MONITOR is unset or empty", () => {
    assert.equal(readDriftRecording({}), undefined);
    assert.equal(readDriftRecording({ STRATA_DRIFT_MONITOR: "" }), undefined);
    assert.equal(readDriftRecording({ STRATA_DRIFT_SAMPLE_RATE: "1" }), undefined);
  });

  it("reads a list of names or all, with the defaults", () => {
    assert.deepEqual(readDriftRecording({ STRATA_DRIFT_MONITOR: " fraud_features, eta_model " }), {
      monitor: ["fraud_features", "eta_model"],
      sampleRate: DEFAULT_DRIFT_SAMPLE_RATE,
      refreshMs: DEFAULT_DRIFT_REFRESH_MS,
      region: "local",
    });
    assert.deepEqual(
      readDriftRecording({
        STRATA_DRIFT_MONITOR: "all",
        STRATA_DRIFT_SAMPLE_RATE: "1",
        STRATA_DRIFT_REFRESH_MS: "5000",
        STRATA_REGION: "eu-west-1",
      }),
      { monitor: "all", sampleRate: 1, refreshMs: 5000, region: "eu-west-1" },
    );
    assert.equal(
      readDriftRecording({ STRATA_DRIFT_MONITOR: "all", STRATA_DRIFT_SAMPLE_RATE: "0" })!
        .sampleRate,
      0,
    );
  });

  for (const [name, value] of [
    ["STRATA_DRIFT_SAMPLE_RATE", "1.5"],
    ["STRATA_DRIFT_SAMPLE_RATE", "-0.1"],
    ["STRATA_DRIFT_SAMPLE_RATE", "ten percent"],
    ["STRATA_DRIFT_SAMPLE_RATE", " "],
    ["STRATA_DRIFT_MONITOR", "a,,b"],
    ["STRATA_DRIFT_MONITOR", "a,all"],
    ["STRATA_DRIFT_MONITOR", "a b"],
    ["STRATA_DRIFT_REFRESH_MS", "10"],
  ] as const) {
    it(`refuses ${name}=${JSON.stringify(value)}, naming it`, () => {
      assert.throws(
        () => readDriftRecording({ STRATA_DRIFT_MONITOR: "x", [name]: value }),
        (error: unknown) =>
          isStrataError(error, "STRATA_E_BAD_CONFIG") && error.message.includes(name),
      );
    });
  }
});
