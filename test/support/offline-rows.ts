// The offline store test's rows: pushed as JSON text (int64 values past 2^53 stay exact) and
// expected back from PyIceberg in its plain form (test/offline/read_iceberg.py).
import assert from "node:assert/strict";

export const DAY_MS = 86_400_000;

// Two past event days, so the table gets two day partitions.
export const day0 = Math.floor(Date.now() / DAY_MS) * DAY_MS - 2 * DAY_MS;
export const dayTimes = [day0 + 3_600_123, day0 + DAY_MS + 7_200_456];

/**
 * Each driver row as pushed (JSON text: int64 values past 2^53 stay exact) and as the table
 * must hold it (PyIceberg's plain form: longs as decimal text, binary base64, timestamps in
 * microseconds, floats by repr).
 */
export const DRIVER_ROWS = [
  {
    push: `{"driver_id":9007199254740995,"i32":-2147483648,"i64":9007199254740993,"f32":0.1,"f64":1.5,"s":"h\\u00e9llo \\"q\\"","b":"AAEC/w==","ok":true,"ts":1700000000,"tags":["a","b,c"],"nums":[9223372036854775807,-1],"flags":[true,false],"blobs":["aGk=",""],"event_timestamp":${dayTimes[0]}}`,
    want: {
      driver_id: "9007199254740995",
      i32: "-2147483648",
      i64: "9007199254740993",
      f32: repr32(0.1),
      f64: "1.5",
      s: 'héllo "q"',
      b: "AAEC/w==",
      ok: true,
      ts: "1700000000000",
      tags: ["a", "b,c"],
      nums: ["9223372036854775807", "-1"],
      flags: [true, false],
      blobs: ["aGk=", ""],
      event_timestamp: String(dayTimes[0]! * 1000),
    },
  },
  {
    push: `{"driver_id":2,"i32":null,"i64":null,"f32":null,"f64":null,"s":null,"b":null,"ok":null,"ts":null,"tags":null,"nums":null,"flags":null,"blobs":null,"event_timestamp":${dayTimes[0]}}`,
    want: {
      driver_id: "2",
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
      event_timestamp: String(dayTimes[0]! * 1000),
    },
  },
  {
    push: `{"driver_id":-3,"i32":7,"i64":-9223372036854775808,"f32":-2.5,"f64":-0.000001,"s":"","b":"","ok":false,"ts":0,"tags":[],"nums":[],"flags":[],"blobs":[],"event_timestamp":${dayTimes[1]}}`,
    want: {
      driver_id: "-3",
      i32: "7",
      i64: "-9223372036854775808",
      f32: "-2.5",
      f64: "-1e-06",
      s: "",
      b: "",
      ok: false,
      ts: "0",
      tags: [],
      nums: [],
      flags: [],
      blobs: [],
      event_timestamp: String(dayTimes[1]! * 1000),
    },
  },
  // A later version of the first driver: the table keeps both (history, not latest).
  {
    push: `{"driver_id":9007199254740995,"i32":1,"i64":1,"f32":1,"f64":1,"s":"v2","b":"AQ==","ok":true,"ts":1,"tags":["z"],"nums":[1],"flags":[true],"blobs":["AQ=="],"event_timestamp":${dayTimes[1]}}`,
    want: {
      driver_id: "9007199254740995",
      i32: "1",
      i64: "1",
      f32: "1.0",
      f64: "1.0",
      s: "v2",
      b: "AQ==",
      ok: true,
      ts: "1000",
      tags: ["z"],
      nums: ["1"],
      flags: [true],
      blobs: ["AQ=="],
      event_timestamp: String(dayTimes[1]! * 1000),
    },
  },
];

/** Python's repr of a float32 value widened to a double (what the table holds for 0.1). */
function repr32(value: number): string {
  return String(Math.fround(value));
}

export const DRIVER_SCHEMA = {
  driver_id: { type: "long", required: true },
  i32: { type: "int", required: false },
  i64: { type: "long", required: false },
  f32: { type: "float", required: false },
  f64: { type: "double", required: false },
  s: { type: "string", required: false },
  b: { type: "binary", required: false },
  ok: { type: "boolean", required: false },
  ts: { type: "timestamptz", required: false },
  tags: { type: "list<string>", required: false },
  nums: { type: "list<long>", required: false },
  flags: { type: "list<boolean>", required: false },
  blobs: { type: "list<binary>", required: false },
  event_timestamp: { type: "timestamptz", required: true },
  strata_version: { type: "string", required: true },
  strata_written_at: { type: "timestamptz", required: true },
  strata_table: { type: "string", required: true },
};

export const ZONE_ROWS = [
  { city: "paris", zone_id: 7, load: 0.25 },
  { city: "oslo", zone_id: -3, load: null },
];

/** Rows as columns (the push df), from JSON objects written as text. */
export const columns = (rows: string[]): string => {
  const parsedKeys = Object.keys(JSON.parse(rows[0]!) as object);
  // Keep each value's text: split every row's object into its members' texts.
  const texts = rows.map((row) => memberTexts(row));
  return `{${parsedKeys.map((key) => `"${key}":[${texts.map((t) => t[key]).join(",")}]`).join(",")}}`;
};

/** The members of a flat JSON object written as text, each value's text as written. */
function memberTexts(objectText: string): Record<string, string> {
  const parsed = JSON.parse(objectText) as Record<string, unknown>;
  const out: Record<string, string> = {};
  let rest = objectText.slice(1, -1);
  for (const key of Object.keys(parsed)) {
    const head = `${JSON.stringify(key)}:`;
    assert.ok(rest.startsWith(head), `member ${key} of ${objectText}`);
    rest = rest.slice(head.length);
    // The value runs to the next top-level comma.
    let depth = 0;
    let inString = false;
    let i = 0;
    for (; i < rest.length; i++) {
      const c = rest[i]!;
      if (inString) {
        if (c === "\\") i++;
        else if (c === '"') inString = false;
      } else if (c === '"') inString = true;
      else if (c === "[" || c === "{") depth++;
      else if (c === "]" || c === "}") depth--;
      else if (c === "," && depth === 0) break;
    }
    out[key] = rest.slice(0, i);
    rest = rest.slice(i + 1);
  }
  return out;
}
