import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { entityColumns, featureTable } from "../../../cli/commands/get.js";
import { projectName } from "../../../cli/commands/init.js";
import { findConfig, layeredEnv } from "../../../cli/config.js";
import { describeFailure, EXIT, UserError } from "../../../cli/errors.js";
import { colourOn, painter } from "../../../cli/output.js";
import { progressLine } from "../../../cli/progress.js";
import { csvValue, fileFormat, toColumns } from "../../../cli/push-input.js";
import { renderTable } from "../../../cli/table.js";
import { StackError } from "../../../dev/stack/stack-error.js";
import { StrataError } from "../../../shared/errors.js";

const plain = painter(false);

describe("strata: table rendering", () => {
  it("pads every column to its widest cell and styles after padding", () => {
    const yellow = painter(true);
    const text = renderTable(
      ["id", "value"],
      [
        [{ text: "1001" }, { text: "0.5" }],
        [{ text: "7" }, { text: "NOT_FOUND", paint: (t) => yellow("yellow", t) }],
      ],
    );
    assert.equal(
      text,
      ["id    value", "----  ---------", "1001  0.5", "7     \x1b[33mNOT_FOUND\x1b[39m"].join("\n"),
    );
  });

  it("shows a Feast answer one row per entity, statuses other than PRESENT instead of or after the value", () => {
    const table = featureTable(
      {
        metadata: { feature_names: ["driver_id", "conv_rate", "trips", "ids"] },
        results: [
          { values: [1001, 2], statuses: ["PRESENT", "PRESENT"], event_timestamps: [] },
          { values: [0.5, null], statuses: ["PRESENT", "NOT_FOUND"], event_timestamps: [] },
          { values: [12, 3], statuses: ["OUTSIDE_MAX_AGE", "NULL_VALUE"], event_timestamps: [] },
          { values: [[1, 2], "x"], statuses: ["PRESENT", "PRESENT"], event_timestamps: [] },
        ],
      },
      { paint: plain },
    );
    assert.equal(
      table,
      [
        "driver_id  conv_rate  trips                 ids",
        "---------  ---------  --------------------  -----",
        "1001       0.5        12 (OUTSIDE_MAX_AGE)  [1,2]",
        "2          NOT_FOUND  3 (NULL_VALUE)        x",
      ].join("\n"),
    );
  });
});

describe("strata get: entities from flags", () => {
  it("turns --entity key=value,... into Feast's columns; integers as numbers, other values as strings", () => {
    assert.deepEqual(
      entityColumns({ entity: ["driver_id=1001,city=paris", "driver_id=-2,city=007x"] }),
      { driver_id: [1001, -2], city: ["paris", "007x"] },
    );
    assert.deepEqual(entityColumns({ entity: ["id=12345678901234567890"] }), {
      id: ["12345678901234567890"],
    });
  });

  it("takes --entities JSON as it is, and refuses malformed or mixed input", () => {
    assert.deepEqual(entityColumns({ entities: '{"customer_id": ["1001"]}' }), {
      customer_id: ["1001"],
    });
    assert.throws(() => entityColumns({ entities: "[1]" }), UserError);
    assert.throws(() => entityColumns({ entities: '{"a": 1}' }), UserError);
    assert.throws(() => entityColumns({ entity: ["a=1"], entities: '{"a": [1]}' }), UserError);
    assert.throws(() => entityColumns({ entity: ["a=1", "b=2"] }), /entity 2 has join keys b/);
    assert.throws(() => entityColumns({ entity: ["nokey"] }), /is not key=value/);
    assert.throws(() => entityColumns({}), /no entity given/);
  });
});

describe("strata push: reading rows", () => {
  it("types CSV cells by their column's type", () => {
    assert.equal(csvValue("int64", "42"), 42);
    assert.equal(csvValue("int64", "9223372036854775807"), "9223372036854775807");
    assert.equal(csvValue("float64", "0.25"), 0.25);
    assert.equal(csvValue("float32", "abc"), "abc", "left for the server to name");
    assert.equal(csvValue("bool", "TRUE"), true);
    assert.equal(csvValue("bool", "0"), false);
    assert.equal(csvValue("string", "007"), "007");
    assert.equal(csvValue("string", ""), "");
    assert.equal(csvValue("float64", ""), null);
    assert.deepEqual(csvValue("int64[]", "[1, 2]"), [1, 2]);
    assert.equal(csvValue(undefined, "2026-12-01 10:00:00"), "2026-12-01 10:00:00");
  });

  it("builds Feast's df from rows and refuses a row whose columns differ", () => {
    assert.deepEqual(
      toColumns(
        [
          { row: { a: 1, b: "x" }, line: 1 },
          { row: { b: "y", a: 2 }, line: 2 },
        ],
        "src",
      ),
      { a: [1, 2], b: ["x", "y"] },
    );
    assert.throws(
      () =>
        toColumns(
          [
            { row: { a: 1 }, line: 1 },
            { row: { a: 2, c: 3 }, line: 7 },
          ],
          "f.jsonl",
        ),
      /f\.jsonl row at line 7 has columns a,c; the rows before it have a/,
    );
  });

  it("tells the format by --format, else by extension", () => {
    assert.equal(fileFormat("rows.CSV"), "csv");
    assert.equal(fileFormat("rows.jsonl"), "jsonl");
    assert.equal(fileFormat("rows.txt", "csv"), "csv");
    assert.throws(() => fileFormat("rows.csv", "xml"), UserError);
  });
});

describe("strata: configuration", () => {
  it("layers strata.json under the environment under the flags; empty variables count as unset", () => {
    const config = {
      path: "/x/strata.json",
      env: { REDIS_URL: "redis://file:1", STRATA_REGION: "file", KAFKA_BROKERS: "file:9" },
    };
    const env = layeredEnv(
      { REDIS_URL: "redis://env:2", KAFKA_BROKERS: "", STRATA_REGION: "env" },
      config,
      { STRATA_REGION: "flag", STRATA_PORT: undefined },
    );
    assert.equal(env.REDIS_URL, "redis://env:2");
    assert.equal(env.KAFKA_BROKERS, "file:9");
    assert.equal(env.STRATA_REGION, "flag");
    assert.equal("STRATA_PORT" in env, false);
  });

  it("finds the nearest strata.json upwards and makes its paths absolute", () => {
    const root = mkdtempSync(path.join(os.tmpdir(), "strata-config-"));
    mkdirSync(path.join(root, "a", "b"), { recursive: true });
    writeFileSync(
      path.join(root, "strata.json"),
      JSON.stringify({ repo: "repo.mts", url: "http://h:1", env: { STRATA_PORT: 7000 } }),
    );
    const found = findConfig(path.join(root, "a", "b"), {});
    assert.deepEqual(found, {
      path: path.join(root, "strata.json"),
      env: {
        STRATA_PORT: "7000",
        STRATA_REPO: path.join(root, "repo.mts"),
        STRATA_URL: "http://h:1",
      },
    });
    assert.equal(
      findConfig(os.tmpdir(), { STRATA_CONFIG: path.join(root, "strata.json") })?.path,
      path.join(root, "strata.json"),
    );
  });

  it("refuses an unknown setting, a non-string value and a missing --config file", () => {
    const root = mkdtempSync(path.join(os.tmpdir(), "strata-config-"));
    const file = path.join(root, "strata.json");
    writeFileSync(file, JSON.stringify({ repoo: "x" }));
    assert.throws(() => findConfig(root, {}), /unknown setting "repoo"/);
    writeFileSync(file, JSON.stringify({ env: { A: true } }));
    assert.throws(() => findConfig(root, {}), /env.A must be a string or a number/);
    writeFileSync(file, "{");
    assert.throws(() => findConfig(root, {}), /is not valid JSON/);
    assert.throws(() => findConfig(root, {}, "missing.json"), /does not exist/);
  });

  it("names a project after its folder as an identifier", () => {
    assert.equal(projectName("driver-features"), "driver_features");
    assert.equal(projectName("2026 models"), "_2026_models");
    assert.equal(projectName("ok_name"), "ok_name");
  });
});

describe("strata: failures and their exit codes", () => {
  it("sorts user errors (1) from internal ones (2)", () => {
    assert.equal(describeFailure(new UserError("bad", "fix")).exitCode, EXIT.user);
    assert.equal(describeFailure(new StackError("down", "up it")).exitCode, EXIT.user);
    const strata = describeFailure(new StrataError("STRATA_E_UNKNOWN_VIEW", "no view x"));
    assert.deepEqual(
      [strata.exitCode, strata.message],
      [EXIT.user, "STRATA_E_UNKNOWN_VIEW: no view x"],
    );
    assert.ok(strata.hint);
    assert.equal(
      describeFailure(new StrataError("STRATA_E_INTERNAL", "boom")).exitCode,
      EXIT.internal,
    );
    const bug = describeFailure(new TypeError("x is undefined"));
    assert.equal(bug.exitCode, EXIT.internal);
    assert.match(bug.message, /^internal error: x is undefined/);
  });

  it("lists a rejected batch's rows, at most five", () => {
    const rejected = Array.from({ length: 7 }, (_, index) => ({
      index,
      code: "STRATA_E_VALUE_TYPE",
      message: "bad",
    }));
    const failure = describeFailure(
      new StrataError("STRATA_E_BATCH_REJECTED", "7 rows", { rejected }),
    );
    assert.equal(failure.details.length, 6);
    assert.equal(failure.details[0], "  row 0: STRATA_E_VALUE_TYPE: bad");
    assert.equal(failure.details[5], "  ... and 2 more");
  });
});

describe("strata: terminal detection", () => {
  it("colours only a TTY without NO_COLOR or TERM=dumb", () => {
    assert.equal(colourOn({ write: () => true, isTTY: true }, {}), true);
    assert.equal(colourOn({ write: () => true }, {}), false);
    assert.equal(colourOn({ write: () => true, isTTY: true }, { NO_COLOR: "1" }), false);
    assert.equal(colourOn({ write: () => true, isTTY: true }, { NO_COLOR: "" }), true);
    assert.equal(colourOn({ write: () => true, isTTY: true }, { TERM: "dumb" }), false);
  });

  it("draws progress on a terminal, and writes nothing elsewhere", () => {
    let written = "";
    const stream = { write: (t: string) => (written += t), isTTY: true };
    const on = progressLine(stream, true, "pushing");
    on.update(1500, 0.5);
    on.done();
    assert.equal(
      written,
      `\rpushing [${"#".repeat(12)}${"-".repeat(12)}] 50% 1,500 rows\x1b[K\r\x1b[K`,
    );
    written = "";
    const off = progressLine(stream, false, "pushing");
    off.update(10, 1);
    off.done();
    assert.equal(written, "");
  });
});
