import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { decodeEntityKey } from "../../../shared/key-codec.js";
import { projectRecord, ROUTE_FIELD } from "../../../shared/offline/connect-record.js";
import { prepareWrites } from "../../../shared/online-store/write-path.js";
import { FeatureRegistry } from "../../../shared/registry/index.js";
import { offlineTestRepo } from "../../support/offline-repo.js";

const registry = new FeatureRegistry(offlineTestRepo("proj_x"));
const version = {
  eventTsMs: 1_700_000_000_123,
  epoch: 0,
  hlc: { wallMs: 1_700_000_000_456, counter: 3 },
  originRegion: "eu",
};

const NULLS = {
  i32: null,
  i64: null,
  f32: null,
  f64: null,
  s: null,
  b: null,
  ok: null,
  ts: null,
  tags: null,
  nums: null,
  flags: null,
  blobs: null,
};

function project(
  values: Record<string, unknown>,
  entity: Record<string, unknown> = { driver_id: 1 },
) {
  const [write] = prepareWrites(registry, [{ view: "driver_all@1", entity, values, version }]);
  return projectRecord("proj_x", write!, decodeEntityKey(write!.encodedKey));
}

/** The JSON text's payload member `name`, as written (not through a JavaScript number). */
function payloadText(json: string, name: string): string {
  const payload = json.slice(json.indexOf('"payload":'));
  const match = new RegExp(`"${name}":(\\[[^\\]]*\\]|"(?:[^"\\\\]|\\\\.)*"|[^,}]+)`).exec(payload);
  assert.ok(match, `${name} in ${payload}`);
  return match[1]!;
}

describe("projectRecord (changelog record -> Kafka Connect JSON with schema)", () => {
  it("declares every column with its Connect type, join keys and bookkeeping required", () => {
    const parsed = JSON.parse(project(NULLS)) as {
      schema: { type: string; fields: Record<string, unknown>[] };
    };
    assert.equal(parsed.schema.type, "struct");
    const byName: Record<string, unknown> = Object.fromEntries(
      parsed.schema.fields.map((f) => [f.field as string, f]),
    );
    const ts = { type: "int64", name: "org.apache.kafka.connect.data.Timestamp", version: 1 };
    assert.deepEqual(byName.driver_id, { type: "int64", optional: false, field: "driver_id" });
    assert.deepEqual(byName.i32, { type: "int32", optional: true, field: "i32" });
    assert.deepEqual(byName.f32, { type: "float", optional: true, field: "f32" });
    assert.deepEqual(byName.f64, { type: "double", optional: true, field: "f64" });
    assert.deepEqual(byName.b, { type: "bytes", optional: true, field: "b" });
    assert.deepEqual(byName.ok, { type: "boolean", optional: true, field: "ok" });
    assert.deepEqual(byName.ts, { ...ts, optional: true, field: "ts" });
    assert.deepEqual(byName.nums, {
      type: "array",
      optional: true,
      items: { type: "int64", optional: false },
      field: "nums",
    });
    assert.deepEqual(byName.event_timestamp, { ...ts, optional: false, field: "event_timestamp" });
    assert.deepEqual(byName.strata_written_at, {
      ...ts,
      optional: false,
      field: "strata_written_at",
    });
    assert.deepEqual(byName.strata_version, {
      type: "string",
      optional: false,
      field: "strata_version",
    });
    assert.deepEqual(byName[ROUTE_FIELD], { type: "string", optional: false, field: ROUTE_FIELD });
    assert.deepEqual(
      parsed.schema.fields.map((f) => f.field),
      [
        "driver_id",
        ...Object.keys(NULLS),
        "event_timestamp",
        "strata_version",
        "strata_written_at",
        ROUTE_FIELD,
      ],
    );
  });

  it("writes values in the payload: nulls, base64 bytes, strings, booleans, lists, times in ms", () => {
    const parsed = JSON.parse(
      project({
        ...NULLS,
        s: 'a "q"',
        b: Buffer.from([0, 1, 255]),
        ok: false,
        ts: 42,
        tags: ["x", "y,z"],
        flags: [true],
        blobs: [Buffer.from("hi")],
      }),
    ) as { payload: Record<string, unknown> };
    assert.deepEqual(parsed.payload, {
      [ROUTE_FIELD]: "strata_proj_x.driver_all_v1",
      driver_id: 1,
      ...NULLS,
      s: 'a "q"',
      b: "AAH/",
      ok: false,
      ts: 42,
      tags: ["x", "y,z"],
      flags: [true],
      blobs: ["aGk="],
      event_timestamp: version.eventTsMs,
      strata_version: parsed.payload.strata_version,
      strata_written_at: version.hlc.wallMs,
    });
    assert.equal(typeof parsed.payload.strata_version, "string");
  });

  it("writes NaN and the infinities, which JsonConverter cannot read, as null", () => {
    for (const value of [NaN, Infinity, -Infinity]) {
      const parsed = JSON.parse(project({ ...NULLS, f64: value, f32: value })) as {
        payload: Record<string, unknown>;
      };
      assert.equal(parsed.payload.f64, null);
      assert.equal(parsed.payload.f32, null);
    }
    const finite = JSON.parse(project({ ...NULLS, f64: -1.5e-7 })) as {
      payload: Record<string, unknown>;
    };
    assert.equal(finite.payload.f64, -1.5e-7);
  });

  it("keeps every int64 exact, in values, lists and join keys (property)", () => {
    const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
    fc.assert(
      fc.property(int64, int64, fc.array(int64, { maxLength: 4 }), (key, value, list) => {
        const text = project({ ...NULLS, i64: value, nums: list }, { driver_id: key });
        assert.equal(payloadText(text, "driver_id"), String(key));
        assert.equal(payloadText(text, "i64"), String(value));
        assert.equal(payloadText(text, "nums"), `[${list.join(",")}]`);
      }),
    );
  });

  it("names a composite key's columns and the table of a view name with '-' or '.' in _ form", () => {
    const [write] = prepareWrites(registry, [
      {
        view: "zone_load@2",
        entity: { city: "oslo", zone_id: -3 },
        values: { load: 0.5 },
        version,
      },
    ]);
    const parsed = JSON.parse(
      projectRecord("a.b-c", write!, decodeEntityKey(write!.encodedKey)),
    ) as {
      payload: Record<string, unknown>;
    };
    assert.equal(parsed.payload.city, "oslo");
    assert.equal(parsed.payload.zone_id, -3);
    assert.equal(parsed.payload.load, 0.5);
    assert.equal(parsed.payload[ROUTE_FIELD], "strata_a_b_c.zone_load_v2");
  });
});

describe("projectRecord of a delete", () => {
  it("is a row of nulls at the delete's version", () => {
    const [write] = prepareWrites(registry, [
      { view: "driver_all@1", entity: { driver_id: 5 }, values: {}, version, deleted: true },
    ]);
    const parsed = JSON.parse(
      projectRecord("proj_x", write!, decodeEntityKey(write!.encodedKey)),
    ) as { payload: Record<string, unknown> };
    for (const feature of Object.keys(NULLS)) assert.equal(parsed.payload[feature], null, feature);
    assert.equal(parsed.payload.driver_id, 5);
    assert.equal(parsed.payload.event_timestamp, version.eventTsMs);
    assert.equal(parsed.payload.strata_version, write!.encodedVersion);
  });
});
