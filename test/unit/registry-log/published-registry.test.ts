// The published registry record: every field checked on decode, each refusal named, and the
// fold that picks the served registry (first of a version wins in a log, a total order across
// logs) giving the same winner whatever order the logs are read in.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { isStrataError } from "../../../shared/errors.js";
import { definitionHash, type FeatureRepoDefinition } from "../../../shared/registry/index.js";
import {
  compareRegistries,
  decodePublishedRegistry,
  encodePublishedRegistry,
  registryRecordKey,
  registryTopic,
  RegistryLogs,
  replicatedRegistryTopic,
  type PublishedRegistry,
} from "../../../shared/registry-log/index.js";
import { testRepo } from "../../support/store.js";

function record(overrides: Partial<PublishedRegistry> = {}): PublishedRegistry {
  const definition = overrides.definition ?? testRepo("proj");
  return {
    format: 1,
    project: "proj",
    version: 1,
    hash: definitionHash(definition),
    previousHash: null,
    definition,
    appliedBy: "ana@laptop",
    appliedAt: "2026-12-06T09:00:00.000Z",
    region: "a",
    strataVersion: "0.1.0",
    breaking: { allowed: false, changes: [] },
    ...overrides,
  };
}

function refusal(value: Buffer | string | null, pattern: RegExp): void {
  assert.throws(
    () => decodePublishedRegistry(value, "proj"),
    (error: unknown) =>
      isStrataError(error, "STRATA_E_REGISTRY_INVALID") && pattern.test(error.message),
  );
}

const json = (value: unknown) => Buffer.from(JSON.stringify(value));

describe("published registry record", () => {
  it("names its topic and a peer's replicated copy", () => {
    assert.equal(registryTopic("proj"), "strata.proj.registry");
    assert.equal(replicatedRegistryTopic("proj", "b"), "b.strata.proj.registry");
    assert.equal(registryRecordKey(record()), `1:a:${record().hash}`);
  });

  it("round-trips, and builds the registry it carries", () => {
    const { record: decoded, registry } = decodePublishedRegistry(
      encodePublishedRegistry(record()),
      "proj",
    );
    assert.deepEqual(decoded, record());
    assert.equal(registry.view("stats").key, "stats@2");
  });

  it("refuses what is not JSON, not an object, or a tombstone", () => {
    refusal("{not json", /not JSON/);
    refusal(json([1]), /not a JSON object/);
    refusal(null, /tombstone/);
  });

  it("refuses a record whose hash is not its definition's", () => {
    const other = definitionHash({ ...testRepo("proj"), services: [] });
    refusal(json(record({ hash: other })), /is not the hash of its definition/);
  });

  it("refuses a record of another project, or whose definition is another project's", () => {
    refusal(json(record({ project: "other" })), /for project "other"/);
    const definition = testRepo("other");
    refusal(
      json(record({ definition, hash: definitionHash(definition) })),
      /definition is for project "other"/,
    );
  });

  it("refuses a definition that does not build a registry, quoting its error", () => {
    const definition: FeatureRepoDefinition = {
      ...testRepo("proj"),
      services: [{ name: "m", features: ["nope:x"] }],
    };
    assert.throws(
      () =>
        decodePublishedRegistry(
          json(record({ definition, hash: definitionHash(definition) })),
          "proj",
        ),
      (error: unknown) =>
        isStrataError(error, "STRATA_E_REGISTRY_INVALID") &&
        /does not validate: feature service m/.test(error.message) &&
        (error.details.cause as { code: string }).code === "STRATA_E_UNKNOWN_VIEW",
    );
  });

  it("refuses each malformed field by name", () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ format: 2 }, /format 2; this build reads format 1/],
      [{ version: 0 }, /version is 0/],
      [{ version: 1.5 }, /version is 1\.5/],
      [{ hash: "ABC" }, /hash is "ABC"/],
      [{ previousHash: 7 }, /previousHash is 7/],
      [{ definition: { project: "proj", views: [] } }, /definition is/],
      [{ appliedBy: "" }, /appliedBy is ""/],
      [{ appliedAt: "2026-12-06 09:00" }, /appliedAt is/],
      [{ region: "Not A Region" }, /region is/],
      [{ strataVersion: 1 }, /strataVersion is 1/],
      [{ breaking: { allowed: "yes", changes: [] } }, /breaking is/],
      [{ surprise: true }, /unknown fields \["surprise"\]/],
    ];
    for (const [fields, pattern] of cases) refusal(json({ ...record(), ...fields }), pattern);
  });
});

describe("the registry logs' fold", () => {
  const hashOf = (n: number) => n.toString(16).padStart(64, "0");
  /** A record that passes the checks but whose content we choose: its hash is recomputed. */
  const published = (version: number, region: string, at: number, tag = 0): Buffer => {
    const definition = testRepo("proj");
    definition.views[0]!.maxAgeMs += tag;
    return encodePublishedRegistry(
      record({
        version,
        region,
        appliedAt: new Date(Date.UTC(2026, 11, 6) + at).toISOString(),
        definition,
        hash: definitionHash(definition),
        previousHash: hashOf(version),
      }),
    );
  };

  it("in one log the first record of a version wins; a later one of the same or a lower version is superseded", () => {
    const logs = new RegistryLogs("proj");
    assert.equal(logs.add("t", "0", published(1, "a", 0)).kind, "accepted");
    assert.equal(logs.add("t", "1", published(2, "a", 5, 1)).kind, "accepted");
    const lost = logs.add("t", "2", published(2, "a", 9, 2));
    assert.equal(lost.kind, "superseded");
    assert.equal(lost.kind === "superseded" && lost.by.offset, "1");
    assert.equal(logs.add("t", "3", published(1, "a", 10)).kind, "superseded");
    assert.equal(logs.add("t", "4", Buffer.from("garbage")).kind, "refused");
    assert.equal(logs.add("t", "5", null).kind, "tombstone");
    assert.equal(logs.winner()!.offset, "1");
  });

  it("across logs, version then appliedAt then region then hash decides", () => {
    const logs = new RegistryLogs("proj");
    logs.add("a", "0", published(3, "a", 100));
    logs.add("b.copy", "0", published(3, "b", 100));
    assert.equal(logs.winner()!.record.region, "b");
    logs.add("c.copy", "0", published(3, "c", 50));
    assert.equal(logs.winner()!.record.region, "b");
    logs.add("a", "1", published(4, "a", 0));
    assert.equal(logs.winner()!.record.version, 4);
  });

  it("every interleaving of the same logs picks the same winner (what makes regions agree)", () => {
    const recordArb = fc.record({
      version: fc.integer({ min: 1, max: 4 }),
      at: fc.integer({ min: 0, max: 3 }),
      tag: fc.integer({ min: 0, max: 2 }),
      corrupt: fc.boolean(),
    });
    const logsArb = fc.dictionary(
      fc.constantFrom("a", "b", "c"),
      fc.array(recordArb, { maxLength: 5 }),
      { minKeys: 1 },
    );
    fc.assert(
      fc.property(logsArb, fc.infiniteStream(fc.nat()), (logs, picks) => {
        const values = Object.entries(logs).map(([region, records]) => ({
          topic: region,
          messages: records.map((r) =>
            r.corrupt ? Buffer.from("{") : published(r.version, region, r.at, r.tag),
          ),
        }));
        const fold = (order: "sequential" | "interleaved") => {
          const folded = new RegistryLogs("proj");
          const cursors = values.map(() => 0);
          const pick = picks[Symbol.iterator]();
          for (;;) {
            const open = values
              .map((_, i) => i)
              .filter((i) => cursors[i]! < values[i]!.messages.length);
            if (open.length === 0) break;
            const i = order === "sequential" ? open[0]! : open[pick.next().value % open.length]!;
            folded.add(values[i]!.topic, String(cursors[i]), values[i]!.messages[cursors[i]!]!);
            cursors[i]!++;
          }
          const winner = folded.winner();
          return winner && `${winner.topic}@${winner.offset}`;
        };
        const sequential = fold("sequential");
        assert.equal(fold("interleaved"), sequential);
        const anyValid = Object.values(logs).some((records) => records.some((r) => !r.corrupt));
        assert.equal(sequential !== undefined, anyValid);
      }),
    );
  });

  it("the cross-region order is a total order: antisymmetric and transitive", () => {
    const arb = fc.record({
      version: fc.integer({ min: 1, max: 3 }),
      appliedAt: fc.constantFrom("2026-12-06T09:00:00.000Z", "2026-12-06T09:00:00.001Z"),
      region: fc.constantFrom("a", "b"),
      hash: fc.constantFrom(hashOf(1), hashOf(2)),
    });
    fc.assert(
      fc.property(arb, arb, arb, (x, y, z) => {
        assert.equal(Math.sign(compareRegistries(x, y)) + Math.sign(compareRegistries(y, x)), 0);
        if (compareRegistries(x, y) === 0) assert.deepEqual({ ...x }, { ...y });
        if (compareRegistries(x, y) <= 0 && compareRegistries(y, z) <= 0) {
          assert.ok(compareRegistries(x, z) <= 0);
        }
      }),
    );
  });
});
