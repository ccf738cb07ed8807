import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import {
  AGGREGATE_SCRIPT,
  aggregationPrefix,
  applyCalls,
  isTileExpired,
  watermarkField,
  readAggregates,
  runApplyCalls,
  type AggregationEvent,
} from "../../shared/aggregations/index.js";
import { encodeEntityKey, entityRedisKey } from "../../shared/key-codec.js";
import { FeatureRegistry, type ResolvedAggregationView } from "../../shared/registry/index.js";
import {
  bruteForce,
  idealApply,
  type ModelEvent,
  type ModelValue,
} from "../support/aggregation-model.js";
import { aggregationTestRepo } from "../support/aggregation-repo.js";
import { connectRedis, TOPOLOGIES, uniqueName, type RedisClient } from "../support/servers.js";

// Window results read from the tiles equal a brute-force computation over the events, whatever
// the stream: out of order within the lateness, too late, redelivered in overlapping batches.
const BASE = 1_765_000_000_000;
const ENTITIES = ["a", "b:{x}", "c"];
const TOPIC = "strata.test.events";

const eventArb = fc.record({
  entity: fc.integer({ min: 0, max: ENTITIES.length - 1 }),
  // Mostly moving forward in time, some behind the watermark (late or nearly late).
  step: fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: 0, max: 180_000 }) },
    { weight: 2, arbitrary: fc.integer({ min: -200_000, max: 0 }) },
  ),
  amount: fc.option(fc.integer({ min: -100_000, max: 100_000 }), { freq: 6 }),
  // Small values, values a double sums exactly only up to a point, and values past 2^53.
  cents: fc.option(
    fc.oneof(
      fc.bigInt({ min: -1000n, max: 1000n }),
      fc.bigInt({ min: 2n ** 51n, max: 2n ** 53n - 1n }),
      fc.bigInt({ min: -(2n ** 55n), max: 2n ** 55n }),
    ),
    { freq: 6 },
  ),
  merchant: fc.option(fc.constantFrom("m1", "m2", 'a"b', "ü/é"), { freq: 6 }),
});

const scenarioArb = fc.record({
  events: fc.array(eventArb, { minLength: 1, maxLength: 60 }),
  deliveries: fc.array(fc.tuple(fc.integer({ min: 1, max: 9 }), fc.nat({ max: 8 })), {
    minLength: 60,
    maxLength: 60,
  }),
  reads: fc.array(fc.integer({ min: 0, max: 900_000 }), { minLength: 1, maxLength: 4 }),
});

type Scenario = typeof scenarioArb extends fc.Arbitrary<infer S> ? S : never;

function buildLog(scenario: Scenario): ModelEvent[] {
  let clock = BASE;
  const offsets = [0, 0];
  return scenario.events.map((e) => {
    clock += e.step;
    const partition = e.entity % 2; // one entity, one partition
    return {
      entity: ENTITIES[e.entity]!,
      eventTsMs: clock,
      sourceTopic: TOPIC,
      partition,
      offset: offsets[partition]!++,
      values: {
        amount: e.amount === null ? null : e.amount / 100,
        cents: e.cents === null ? null : e.cents.toString(),
        merchant: e.merchant,
      },
    };
  });
}

function toEvent(view: ResolvedAggregationView, e: ModelEvent): AggregationEvent {
  return {
    view,
    entity: encodeEntityKey(view.joinKeys, { card_id: e.entity }),
    eventTsMs: e.eventTsMs,
    sourceTopic: e.sourceTopic,
    partition: e.partition,
    offset: String(e.offset),
    texts: view.aggregation.inputs.map((input) => input.codec.encode(e.values[input.name] ?? null)),
  };
}

function same(actual: unknown, expected: ModelValue, what: string): void {
  if (typeof expected === "number" && typeof actual === "number") {
    assert.ok(
      Math.abs(actual - expected) <= 1e-9 * Math.max(1, Math.abs(expected)),
      `${what}: ${actual} vs ${expected}`,
    );
  } else if (typeof expected === "bigint") {
    assert.equal(BigInt(actual as number | bigint), expected, what);
  } else {
    assert.deepEqual(actual, expected, what);
  }
}

for (const topology of TOPOLOGIES) {
  describe(`aggregation tiles vs brute force (${topology})`, () => {
    let redis: RedisClient;
    before(async () => {
      redis = connectRedis(topology);
      await AGGREGATE_SCRIPT.loadOn(redis);
    });
    after(() => redis.quit());

    it("gives the brute-force window results over random streams with late and redelivered events", async () => {
      await fc.assert(
        fc.asyncProperty(scenarioArb, async (scenario) => {
          const project = uniqueName("aggp").replace(/[^a-z0-9_]/g, "_");
          const registry = new FeatureRegistry(aggregationTestRepo(project));
          const view = registry.aggregationView("card_velocity");
          const log = buildLog(scenario);
          // Deliver the log in batches that overlap: each batch may start before the end of the
          // previous one, as a consumer restarted before its commit would see.
          const reportedLate = new Set<ModelEvent>();
          let position = 0;
          for (const [length, rewind] of scenario.deliveries) {
            if (position >= log.length) break;
            const batch = log.slice(position, position + length);
            const results = await runApplyCalls(
              redis,
              applyCalls(
                project,
                batch.map((e) => toEvent(view, e)),
              ),
            );
            for (const result of results) {
              for (const late of result.late) {
                reportedLate.add(
                  batch.find(
                    (e) => String(e.offset) === late.offset && e.partition === late.partition,
                  )!,
                );
              }
            }
            position += Math.max(1, batch.length - Math.min(rewind, batch.length - 1));
          }
          for (; position < log.length; position += 5) {
            const batch = log.slice(position, position + 5);
            const results = await runApplyCalls(
              redis,
              applyCalls(
                project,
                batch.map((e) => toEvent(view, e)),
              ),
            );
            for (const result of results) {
              for (const late of result.late) {
                reportedLate.add(
                  batch.find(
                    (e) => String(e.offset) === late.offset && e.partition === late.partition,
                  )!,
                );
              }
            }
          }
          const ideal = idealApply(view, log);
          for (const late of ideal.late)
            assert.ok(reportedLate.has(late), `late event ${late.offset} reported`);

          const keys = ENTITIES.map((card_id) => encodeEntityKey(view.joinKeys, { card_id }));
          for (const entity of ENTITIES) {
            const applied = ideal.applied.get(entity);
            if (!applied) continue;
            const wm = Math.max(...applied.map((e) => e.eventTsMs));
            for (const offset of scenario.reads) {
              // Reads from wm - lateness on are exact: older tiles may have been expired.
              const now = wm - view.aggregation.allowedLatenessMs + offset;
              const [row] = await readAggregates(
                redis,
                project,
                view,
                [keys[ENTITIES.indexOf(entity)]!],
                now,
              );
              assert.equal(row!.hasState, true);
              view.aggregation.aggregations.forEach((agg, i) => {
                const expected = bruteForce(agg, applied, now)!;
                same(
                  agg.output.codec.decode(row!.texts[i]!),
                  expected,
                  `${entity} ${agg.name} at wm${now - wm}`,
                );
              });
            }
          }
          // Storage stays bounded: no tile a window or an on-time event can no longer reach is kept.
          for (const [entity, applied] of ideal.applied) {
            const wm = Math.max(...applied.map((e) => e.eventTsMs));
            const key = entityRedisKey(project, view.entitySet, keys[ENTITIES.indexOf(entity)]!);
            const fields = Object.keys(await redis.hgetall(key));
            assert.ok(fields.includes(watermarkField(view.key)));
            for (const agg of view.aggregation.aggregations) {
              const prefix = `${aggregationPrefix(view.key)}${agg.name}:`;
              for (const field of fields.filter((f) => f.startsWith(prefix))) {
                const k = Number(field.slice(prefix.length).split(":")[0]);
                assert.ok(
                  !isTileExpired(
                    k,
                    agg.tileMs,
                    agg.windowMs,
                    wm,
                    view.aggregation.allowedLatenessMs,
                  ),
                  `${field} should have expired at watermark ${wm}`,
                );
              }
            }
          }
          for (const entity of ENTITIES.filter((e) => !ideal.applied.has(e))) {
            const [row] = await readAggregates(
              redis,
              project,
              view,
              [keys[ENTITIES.indexOf(entity)]!],
              BASE,
            );
            assert.equal(row!.hasState, false);
          }
        }),
        { numRuns: 200 },
      );
    });
  });
}
