import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { aggregatePlan, foldAggregates } from "../../../shared/online-store/aggregate-read.js";
import { FeatureRegistry, type ResolvedView } from "../../../shared/registry/index.js";

const MINUTE = 60_000;
const NOW = 1_765_000_000_000 + 37_123;

/** An event as the apply script sees it, with its origin (last_n orders ties by it). */
interface Event {
  ts: number;
  amount: number | null;
  units: number | null;
  offset: number;
}

const registry = new FeatureRegistry({
  project: "unit",
  entities: [{ name: "card", joinKeys: { card_id: "string" } }],
  views: [],
  aggregationViews: [
    {
      name: "txn",
      version: "1.0.0",
      entities: ["card"],
      inputs: { amount: "float64", units: "int64" },
      source: { push: true },
      aggregations: [
        { name: "n_10m", function: "count", windowMs: 10 * MINUTE, tileMs: MINUTE },
        {
          name: "amount_1h",
          function: "sum",
          column: "amount",
          windowMs: 60 * MINUTE,
          tileMs: 5 * MINUTE,
        },
        {
          name: "units_1h",
          function: "sum",
          column: "units",
          windowMs: 60 * MINUTE,
          tileMs: 5 * MINUTE,
        },
        {
          name: "mean_10m",
          function: "mean",
          column: "amount",
          windowMs: 10 * MINUTE,
          tileMs: MINUTE,
        },
        {
          name: "max_1h",
          function: "max",
          column: "amount",
          windowMs: 60 * MINUTE,
          tileMs: MINUTE,
        },
        {
          name: "min_units",
          function: "min",
          column: "units",
          windowMs: 10 * MINUTE,
          tileMs: MINUTE,
        },
        {
          name: "last3",
          function: "last_n",
          column: "amount",
          n: 3,
          windowMs: 60 * MINUTE,
          tileMs: 10 * MINUTE,
        },
      ],
      allowedLatenessMs: 120 * MINUTE,
    },
  ],
});
const view: ResolvedView = registry.aggregationView("txn");
const ALL = view.aggregation!.aggregations.map((_, i) => i);

/** The hash the apply script would hold after `events` (docs/aggregations.md, "Storage"). */
function tiles(events: readonly Event[]): Map<string, string> {
  const hash = new Map<string, string>();
  const p = `${view.key}#0:`;
  hash.set(`${p}_wm`, String(Math.max(...events.map((e) => e.ts))));
  const add = (field: string, by: number | bigint) => {
    const old = hash.get(field);
    hash.set(
      field,
      typeof by === "bigint" ? String(BigInt(old ?? "0") + by) : String(Number(old ?? "0") + by),
    );
  };
  for (const a of view.aggregation!.aggregations) {
    for (const e of events) {
      const k = Math.floor(e.ts / a.tileMs);
      const field = `${p}${a.name}:${k}`;
      const value = a.column?.name === "units" ? e.units : a.column ? e.amount : 0;
      if (a.function === "count") add(field, 1);
      if (value === null) continue;
      if (a.function === "sum") add(field, a.integerSum ? BigInt(value) : value);
      if (a.function === "mean") {
        add(`${field}:c`, 1);
        add(`${field}:s`, value);
      }
      if (a.function === "min" || a.function === "max") {
        const old = hash.get(field);
        const keep =
          old !== undefined && (a.function === "max" ? Number(old) >= value : Number(old) <= value);
        if (!keep) hash.set(field, String(value));
      }
      if (a.function === "last_n") {
        const list = JSON.parse(hash.get(field) ?? "[]") as [
          number,
          string,
          number,
          number,
          string,
        ][];
        list.push([e.ts, "t", 0, e.offset, String(value)]);
        list.sort((x, y) => y[0] - x[0] || y[3] - x[3]);
        hash.set(field, JSON.stringify(list.slice(0, a.n)));
      }
    }
  }
  return hash;
}

/** The window's answer computed from the events themselves. */
function bruteForce(events: readonly Event[], index: number): unknown {
  const a = view.aggregation!.aggregations[index]!;
  const last = Math.floor(NOW / a.tileMs);
  const from = (last - a.tiles + 1) * a.tileMs;
  const to = (last + 1) * a.tileMs;
  const inWindow = events.filter((e) => e.ts >= from && e.ts < to);
  const values = inWindow
    .map((e) => (a.column?.name === "units" ? e.units : e.amount))
    .filter((v): v is number => v !== null);
  switch (a.function) {
    case "count":
      return inWindow.length;
    case "sum":
      return values.reduce((s, v) => s + v, 0);
    case "mean":
      return values.length === 0 ? null : values.reduce((s, v) => s + v, 0) / values.length;
    case "max":
      return values.length === 0 ? null : Math.max(...values);
    case "min":
      return values.length === 0 ? null : Math.min(...values);
    case "last_n":
      return inWindow
        .filter((e) => e.amount !== null)
        .sort((x, y) => y.ts - x.ts || y.offset - x.offset)
        .slice(0, a.n)
        .map((e) => e.amount);
  }
}

const eventArb = fc.record({
  // From well before the longest window to a little after the read (late tiles are not read).
  ts: fc.integer({ min: NOW - 90 * MINUTE, max: NOW + 2 * MINUTE }),
  // + 0: -0 is stored as "0" (String(-0)), and -0 and 0 are the same amount.
  amount: fc.option(
    fc.double({ min: -1e6, max: 1e6, noNaN: true }).map((v) => v + 0),
    { freq: 5 },
  ),
  units: fc.option(fc.integer({ min: -1e6, max: 1e6 }), { freq: 5 }),
});

describe("aggregates folded from tiles", () => {
  it("give what a brute-force computation over the events gives, for every function", () => {
    fc.assert(
      fc.property(fc.array(eventArb, { minLength: 1, maxLength: 60 }), (drawn) => {
        const events = drawn.map((e, offset) => ({ ...e, offset }));
        const hash = tiles(events);
        const plan = aggregatePlan(view, ALL, NOW);
        const reply = plan.fields.map((f) => hash.get(f) ?? null);
        const answers = foldAggregates(plan, reply, 0);
        ALL.forEach((index) => {
          const output = view.features[index]!;
          const got = output.codec.decode(answers[index]!.text!);
          const want = bruteForce(events, index);
          if (typeof want === "number" && typeof got === "number") {
            assert.ok(
              Math.abs(got - want) <= 1e-6 * Math.max(1, Math.abs(want)),
              `${output.name}: ${got} != ${want}`,
            );
          } else {
            assert.deepEqual(got, want, output.name);
          }
          assert.equal(answers[index]!.watermarkMs, Math.max(...events.map((e) => e.ts)));
        });
      }),
      { numRuns: 300 },
    );
  });

  it("answer NOT_FOUND (no text) for an entity without a watermark, and read its fields at an offset", () => {
    const plan = aggregatePlan(view, [0, 4], NOW);
    const reply = ["unrelated", ...plan.fields.map(() => null)];
    assert.deepEqual(
      foldAggregates(plan, reply, 1).map((a) => a.text),
      [undefined, undefined],
    );
  });

  it("reads count 0, null extremes and an empty last_n once the entity has state", () => {
    const plan = aggregatePlan(view, [0, 4, 6, 3], NOW);
    const reply = plan.fields.map((_, i) => (i === 0 ? String(NOW - 86_400_000) : null));
    assert.deepEqual(
      foldAggregates(plan, reply, 0).map((a) => a.text),
      ["0", "", "[]", ""],
    );
  });

  it("asks for the watermark and each window's tiles, and moves with the read's tile", () => {
    const plan = aggregatePlan(view, [0, 3], NOW);
    const last = Math.floor(NOW / MINUTE);
    assert.equal(plan.fields.length, 1 + 10 + 20);
    assert.equal(plan.fields[0], "txn@1#0:_wm");
    assert.equal(plan.fields[1], `txn@1#0:n_10m:${last - 9}`);
    assert.equal(plan.fields[10], `txn@1#0:n_10m:${last}`);
    assert.ok(plan.fields.includes(`txn@1#0:mean_10m:${last - 9}:c`));
    assert.ok(plan.fields.includes(`txn@1#0:mean_10m:${last}:s`));
    // The same list is planned once per tile: the same plan within it, the next tiles after it.
    const indexes = [0, 3];
    const first = aggregatePlan(view, indexes, NOW);
    assert.equal(aggregatePlan(view, indexes, NOW + 1), first);
    const later = aggregatePlan(view, indexes, NOW + MINUTE);
    assert.equal(later.fields[10], `txn@1#0:n_10m:${last + 1}`);
  });
});

describe("the fraud-velocity example (examples/fraud-velocity-repo.ts)", () => {
  it("registers, and a read of its feature service asks for the tiles docs/aggregations.md counts", async () => {
    const { default: repo } = await import("../../../examples/fraud-velocity-repo.js");
    const fraud = new FeatureRegistry(repo);
    const refs = fraud.service("fraud_model_v1");
    const card = fraud.aggregationView("card_txn");
    const indexes = refs.filter((r) => r.view === card).map((r) => r.index);
    // 10 + 12 + 24 tiles of the counts, the same of the sums, 12 of the maximum, 24 of the
    // last amounts, and the watermark.
    assert.equal(aggregatePlan(card, indexes, NOW).fields.length, 128 + 1);
    assert.ok(fraud.pushTarget("card_transactions").aggregationViews?.includes(card));
  });
});
