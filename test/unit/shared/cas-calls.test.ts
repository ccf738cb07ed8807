import assert from "node:assert/strict";
import { describe, it } from "node:test";
import calculateSlot from "cluster-key-slot";
import fc from "fast-check";
import {
  appendCasCallArguments,
  groupCasCalls,
  ROWS_PER_CAS_CALL,
  type CasRow,
} from "../../../shared/online-store/cas-calls.js";
import { rowFields, type RowFields } from "../../../shared/online-store/redis-layout.js";

// Keys as the store makes them, from a small set of entities so that keys repeat.
const keys = fc.array(
  fc.integer({ min: 0, max: 300 }).map((id) => `fs:{p:driver:i${id}}`),
  { maxLength: 600 },
);

function assertPartition(calls: number[][], count: number): void {
  const seen = calls.flat().sort((a, b) => a - b);
  assert.deepEqual(
    seen,
    Array.from({ length: count }, (_, i) => i),
    "every row exactly once",
  );
  for (const call of calls) {
    assert.ok(call.length >= 1 && call.length <= ROWS_PER_CAS_CALL, `call of ${call.length}`);
    assert.deepEqual(
      call,
      [...call].sort((a, b) => a - b),
      "rows in their original order",
    );
  }
}

describe("CAS calls: rows grouped into script calls", () => {
  it("on a standalone server, consecutive rows, at most the call size each", () => {
    fc.assert(
      fc.property(keys, (all) => {
        const calls = groupCasCalls(all, false);
        assertPartition(calls, all.length);
        assert.equal(calls.length, Math.ceil(all.length / ROWS_PER_CAS_CALL));
      }),
    );
  });

  it("on a cluster, one hash slot per call, and rows of one key in their order", () => {
    fc.assert(
      fc.property(keys, (all) => {
        const calls = groupCasCalls(all, true);
        assertPartition(calls, all.length);
        for (const call of calls) {
          const slots = new Set(call.map((i) => calculateSlot(all[i]!)));
          assert.equal(slots.size, 1, "one slot per call");
        }
        // Rows of one key: the calls holding them come in the rows' order.
        const callOf = new Map<number, number>();
        calls.forEach((call, c) => call.forEach((i) => callOf.set(i, c)));
        const lastCall = new Map<string, number>();
        all.forEach((key, i) => {
          const c = callOf.get(i)!;
          assert.ok(c >= (lastCall.get(key) ?? -1), `row ${i} of ${key} after its predecessors`);
          lastCall.set(key, c);
        });
      }),
    );
  });
});

type TestRow = CasRow & { fields: RowFields };

/** The arguments the store appends after EVALSHA, the sha, the key count and the keys. */
function casCallArguments(rows: readonly TestRow[]): (string | number)[] {
  const argv: (string | number)[] = [];
  appendCasCallArguments(argv, rows, (row) => row.fields);
  return argv;
}

// The field sets of three view majors and generations, as the store caches them.
const SHAPES = [
  rowFields({ key: "stats@1", features: [{ name: "rate" }, { name: "trips" }] }, 0),
  rowFields({ key: "stats@2", features: [{ name: "rate" }, { name: "tags" }, { name: "x" }] }, 0),
  rowFields({ key: "stats@1", features: [{ name: "rate" }, { name: "trips" }] }, 7),
];

const casRows = fc.array(
  fc
    .record({ shape: fc.nat({ max: SHAPES.length - 1 }), text: fc.string(), n: fc.nat() })
    .map(({ shape, text, n }): TestRow => {
      const fields = SHAPES[shape]!;
      return {
        fields,
        encodedVersion: `v${n}`,
        encodedClock: `c${n}`,
        values: fields.features.map((_, f) => `${text}${f}`),
      };
    }),
  { minLength: 1, maxLength: ROWS_PER_CAS_CALL },
);

/** Reads ARGV back the way lua/cas-write.lua does: the shapes, then the rows. */
function readCasArguments(argv: readonly (string | number)[]) {
  let at = 0;
  const shapes: { version: string; clock: string; features: string[] }[] = [];
  const shapeCount = Number(argv[at++]);
  for (let k = 0; k < shapeCount; k++) {
    const m = Number(argv[at]);
    shapes.push({
      version: String(argv[at + 1]),
      clock: String(argv[at + 2]),
      features: argv.slice(at + 3, at + 3 + m).map(String),
    });
    at += 3 + m;
  }
  const rows = [];
  while (at < argv.length) {
    const shape = shapes[Number(argv[at]) - 1]!;
    const m = shape.features.length;
    rows.push({
      ...shape,
      encodedVersion: String(argv[at + 1]),
      encodedClock: String(argv[at + 2]),
      values: argv.slice(at + 3, at + 3 + m).map(String),
    });
    at += 3 + m;
  }
  return { shapes, rows };
}

describe("CAS calls: the script's arguments", () => {
  it("name each shape's fields once, and every row reads back with its own fields and values", () => {
    fc.assert(
      fc.property(casRows, (rows) => {
        const { shapes, rows: read } = readCasArguments(casCallArguments(rows));
        assert.equal(shapes.length, new Set(rows.map((r) => r.fields)).size);
        assert.deepEqual(
          read,
          rows.map((r) => ({
            version: r.fields.version,
            clock: r.fields.clock,
            features: r.fields.features,
            encodedVersion: r.encodedVersion,
            encodedClock: r.encodedClock,
            values: r.values,
          })),
        );
      }),
    );
  });

  it("number shapes from 1 in the order rows first use them", () => {
    const row = (fields: RowFields): TestRow => ({
      fields,
      encodedVersion: "v",
      encodedClock: "c",
      values: fields.features.map(() => "1"),
    });
    const argv = casCallArguments([row(SHAPES[1]!), row(SHAPES[0]!), row(SHAPES[1]!)]);
    assert.deepEqual(argv, [
      2,
      ...[3, "stats@2#0:_v", "stats@2#0:_cv", "stats@2#0:rate", "stats@2#0:tags", "stats@2#0:x"],
      ...[2, "stats@1#0:_v", "stats@1#0:_cv", "stats@1#0:rate", "stats@1#0:trips"],
      ...[1, "v", "c", "1", "1", "1"],
      ...[2, "v", "c", "1", "1"],
      ...[1, "v", "c", "1", "1", "1"],
    ]);
  });

  it("give a row that carries some features a shape of its own subset, once per subset", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            shape: fc.nat({ max: SHAPES.length - 1 }),
            keep: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
            n: fc.nat(),
          }),
          { minLength: 1, maxLength: ROWS_PER_CAS_CALL },
        ),
        (specs) => {
          const rows: TestRow[] = specs.map(({ shape, keep, n }) => {
            const fields = SHAPES[shape]!;
            const all = fields.features.map((_, i) => i);
            const features = all.filter((i) => keep[i]);
            const subset = features.length === all.length ? undefined : features;
            return {
              fields,
              encodedVersion: `v${n}`,
              encodedClock: `c${n}`,
              values: (subset ?? all).map((i) => `${n}-${i}`),
              ...(subset ? { features: subset } : {}),
            };
          });
          const { shapes, rows: read } = readCasArguments(casCallArguments(rows));
          const distinct = new Set(
            rows.map((r) => `${r.fields.prefix}|${(r.features ?? ["all"]).join(",")}`),
          );
          assert.equal(shapes.length, distinct.size);
          assert.deepEqual(
            read.map((r) => [r.version, r.features, r.values]),
            rows.map((r) => [
              r.fields.version,
              (r.features ?? r.fields.features.map((_, i) => i)).map((i) => r.fields.features[i]!),
              r.values,
            ]),
          );
        },
      ),
    );
  });
});

describe("CAS calls: deletes", () => {
  it("send a delete as its own shape with a negative count and rows without values", () => {
    const fields = SHAPES[0]!;
    const argv = casCallArguments([
      { fields, encodedVersion: "v1", encodedClock: "c1", values: ["1", "2"] },
      { fields, encodedVersion: "v2", encodedClock: "c2", values: [], deleted: true },
      { fields, encodedVersion: "v3", encodedClock: "c3", values: [], deleted: true },
    ]);
    assert.deepEqual(argv, [
      2,
      ...[2, "stats@1#0:_v", "stats@1#0:_cv", "stats@1#0:rate", "stats@1#0:trips"],
      ...[-2, "stats@1#0:_v", "stats@1#0:_cv", "stats@1#0:rate", "stats@1#0:trips"],
      ...[1, "v1", "c1", "1", "2"],
      ...[2, "v2", "c2"],
      ...[2, "v3", "c3"],
    ]);
  });
});
