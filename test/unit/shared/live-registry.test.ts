import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { Registry } from "prom-client";
import repo from "../../../examples/feature-repo.js";
import { RegistryCatchUp } from "../../../shared/changelog/registry-catch-up.js";
import { EnvReader } from "../../../shared/config/env.js";
import { rowFields } from "../../../shared/online-store/redis-layout.js";
import { isStrataError, StrataError } from "../../../shared/errors.js";
import {
  definitionHash,
  FeatureRegistry,
  FileRegistrySource,
  LiveRegistry,
  openRegistrySource,
  RegistryObserver,
  type FeatureRepoDefinition,
  type LiveRegistryListener,
  type ServedRegistry,
} from "../../../shared/registry/index.js";
import { ControlledRegistrySource } from "../../support/controlled-registry-source.js";

function definition(project: string, features: string[] = ["rate"]): FeatureRepoDefinition {
  return {
    project,
    entities: [{ name: "driver", joinKeys: { driver_id: "int64" } }],
    views: [
      {
        name: "stats",
        version: `1.${features.length}.0`,
        entities: ["driver"],
        features: Object.fromEntries(features.map((f) => [f, "float64"])),
        maxAgeMs: 60_000,
      },
    ],
  };
}

function recorder(): LiveRegistryListener & {
  swaps: [number, number][];
  refusals: [string, number][];
} {
  const swaps: [number, number][] = [];
  const refusals: [string, number][] = [];
  return {
    swaps,
    refusals,
    swapped: (next, previous) => swaps.push([previous.version, next.version]),
    refused: (refusal, served) => refusals.push([refusal.error.code, served.version]),
  };
}

function served(project: string, version: number, hash = `h${version}`): ServedRegistry {
  return {
    registry: new FeatureRegistry(definition(project)),
    version,
    hash,
    origin: `test:${version}`,
  };
}

describe("the live registry", () => {
  it("serves the source's first registry, swaps to a newer one and tells its listeners", async () => {
    const source = new ControlledRegistrySource(definition("p"));
    const events = recorder();
    const live = await LiveRegistry.follow(source, { listeners: [events] });
    const first = live.snapshot();
    assert.equal(first.version, 1);
    assert.equal(first.hash, definitionHash(definition("p")));
    assert.equal(live.project, "p");

    const next = source.publish(definition("p", ["rate", "trips"]));
    assert.equal(live.snapshot(), next);
    assert.deepEqual(events.swaps, [[1, 2]]);
    // A snapshot taken before the swap is the registry its holder started with, whole.
    assert.equal(first.registry.view("stats").features.length, 1);
    assert.equal(live.registry.view("stats").features.length, 2);
  });

  it("keeps the last good registry when the source refuses one, and says so", async () => {
    const source = new ControlledRegistrySource(definition("p"));
    const events = recorder();
    const live = await LiveRegistry.follow(source, { listeners: [events] });
    source.refuse(new StrataError("STRATA_E_BAD_REGISTRY", "corrupt record", {}));
    assert.equal(live.snapshot().version, 1);
    assert.deepEqual(events.refusals, [["STRATA_E_BAD_REGISTRY", 1]]);
    assert.deepEqual(events.swaps, []);
  });

  it("refuses a registry of another project, or one not newer; ignores the same one again", () => {
    const events = recorder();
    const live = LiveRegistry.fixed(served("p", 3), { listeners: [events] });
    assert.equal(live.offer(served("q", 4)), false);
    assert.equal(live.offer(served("p", 2)), false);
    assert.equal(live.offer(served("p", 3, "other")), false);
    assert.equal(live.offer(served("p", 3)), false);
    assert.equal(live.snapshot().version, 3);
    assert.deepEqual(events.refusals, [
      ["STRATA_E_BAD_REGISTRY", 3],
      ["STRATA_E_BAD_REGISTRY", 3],
      ["STRATA_E_BAD_REGISTRY", 3],
    ]);
    assert.equal(live.offer(served("p", 4)), true);
    assert.deepEqual(events.swaps, [[3, 4]]);
  });

  it("takes another registry of the version it serves from a following source: two regions applied that version at once", async () => {
    const source = new ControlledRegistrySource(definition("p"));
    const events = recorder();
    const live = await LiveRegistry.follow(source, { listeners: [events] });
    const winner = served("p", 1, "the-other-regions-hash");
    assert.equal(live.offer(winner), true);
    assert.equal(live.snapshot(), winner);
    assert.deepEqual(events.refusals, []);
  });

  it("applies what the source delivers while it starts, in order, after the first registry", async () => {
    const early = new ControlledRegistrySource(definition("p"));
    const start = early.start.bind(early);
    early.start = async (listener) => {
      const first = await start(listener);
      early.publish(definition("p", ["rate", "trips"]));
      early.refuse(new StrataError("STRATA_E_BAD_REGISTRY", "corrupt", {}));
      return first;
    };
    const events = recorder();
    const live = await LiveRegistry.follow(early, { listeners: [events] });
    assert.equal(live.snapshot().version, 2);
    assert.deepEqual(events.swaps, [[1, 2]]);
    assert.deepEqual(events.refusals, [["STRATA_E_BAD_REGISTRY", 2]]);
  });

  it("drops, without refusing, older registries delivered while the source caught up", async () => {
    const catchingUp = new ControlledRegistrySource(definition("p"));
    catchingUp.start = (listener) => {
      // A source reading the registry topic from its start: versions 1 and 2, then it resolves with 3.
      const versions = [1, 2, 3].map((version) => ({
        ...served("p", version),
        registry: new FeatureRegistry(definition("p", ["rate", `f${version}`])),
      }));
      listener.onRegistry(versions[0]!);
      listener.onRegistry(versions[1]!);
      return Promise.resolve(versions[2]!);
    };
    const events = recorder();
    const live = await LiveRegistry.follow(catchingUp, { listeners: [events] });
    assert.equal(live.snapshot().version, 3);
    assert.deepEqual(events.refusals, []);
    assert.deepEqual(events.swaps, []);
    // Once started, an older version is a refusal.
    live.offer(served("p", 2));
    assert.deepEqual(events.refusals, [["STRATA_E_BAD_REGISTRY", 3]]);
  });

  it("refuses to start on a registry of another project than STRATA_PROJECT's", async () => {
    const source = new ControlledRegistrySource(definition("q"));
    await assert.rejects(
      LiveRegistry.follow(source, { project: "p" }),
      (e: unknown) =>
        isStrataError(e, "STRATA_E_BAD_CONFIG") && e.details.variable === "STRATA_PROJECT",
    );
    assert.equal(source.stopped, true);
  });

  it("keeps swapping after a listener throws", async () => {
    const errors: unknown[] = [];
    const source = new ControlledRegistrySource(definition("p"));
    const events = recorder();
    const live = await LiveRegistry.follow(source, {
      listeners: [
        {
          swapped: () => {
            throw new Error("boom");
          },
        },
        events,
      ],
      onListenerError: (error) => errors.push(error),
    });
    source.publish(definition("p", ["rate", "trips"]));
    assert.equal(live.snapshot().version, 2);
    assert.equal(errors.length, 1);
    assert.deepEqual(events.swaps, [[1, 2]]);
  });

  it("serves the newest valid registry of its project whatever a source delivers, never going back", () => {
    const offer = fc.record({
      project: fc.constantFrom("p", "q"),
      version: fc.integer({ min: 0, max: 12 }),
      hash: fc.constantFrom("a", "b"),
      refused: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(offer, { maxLength: 40 }), (offers) => {
        const events = recorder();
        const live = LiveRegistry.fixed(served("p", 0, "a"), { listeners: [events] });
        let expected = live.snapshot();
        let refusals = 0;
        for (const o of offers) {
          const before = live.snapshot();
          if (o.refused) {
            live.refuse({ error: new StrataError("STRATA_E_BAD_REGISTRY", "x", {}), origin: "t" });
            refusals++;
          } else {
            const next = served(o.project, o.version, o.hash);
            const swapped = live.offer(next);
            const newer = o.project === "p" && o.version > before.version;
            assert.equal(swapped, newer);
            if (newer) expected = next;
            else if (!(o.project === "p" && o.version === before.version && o.hash === before.hash))
              refusals++;
          }
          assert.equal(live.snapshot(), expected);
          assert.ok(live.snapshot().version >= before.version);
          assert.equal(live.snapshot().registry.project, "p");
        }
        assert.equal(events.refusals.length, refusals);
        assert.equal(events.swaps.length, new Set(events.swaps.map(([, v]) => v)).size);
      }),
    );
  });
});

describe("waiting for a newer registry (newerThan)", () => {
  it("asks a source that can refresh for what was published since", async () => {
    const source = new ControlledRegistrySource(definition("p"));
    const live = await LiveRegistry.follow(source);
    source.stage(definition("p", ["rate", "trips"]));
    const started = performance.now();
    const newer = await live.newerThan(1, 10_000);
    assert.equal(newer?.version, 2);
    assert.equal(source.refreshes, 1);
    assert.ok(performance.now() - started < 1_000);
    // Nothing published since: the refresh answers at once, not after the timeout.
    assert.equal(await live.newerThan(2, 10_000), undefined);
  });

  it("for a peer region's records, waits past a refresh that found nothing: their registry replicates on its own", async () => {
    const source = new ControlledRegistrySource(definition("p"));
    const live = await LiveRegistry.follow(source);
    setTimeout(() => source.publish(definition("p", ["rate", "trips"])), 200);
    const started = performance.now();
    const newer = await live.newerThan(1, 5_000, { refreshDecides: false });
    assert.equal(newer?.version, 2);
    assert.ok(performance.now() - started >= 150, "answered before the registry arrived");
  });

  it("waits for a swap (within the timeout) on a source that cannot refresh", async () => {
    const source = new ControlledRegistrySource(definition("p"), { refresh: false });
    const live = await LiveRegistry.follow(source);
    source.stage(definition("p", ["rate", "trips"]));
    setTimeout(() => source.deliver(), 100);
    assert.equal((await live.newerThan(1, 5_000))?.version, 2);
    const started = performance.now();
    assert.equal(await live.newerThan(2, 150), undefined);
    assert.ok(performance.now() - started >= 140);
  });

  it("does not wait on a file or a fixed registry: they never change", async () => {
    const live = LiveRegistry.fixed(new FeatureRegistry(repo));
    assert.equal(live.follows, false);
    const started = performance.now();
    assert.equal(await live.newerThan(0, 5_000), undefined);
    assert.ok(performance.now() - started < 100);
    const file = await LiveRegistry.follow(new FileRegistrySource("examples/feature-repo.ts"));
    assert.equal(file.follows, false);
    assert.equal(await file.newerThan(0, 5_000), undefined);
  });

  it("checks once for records produced before a check that found nothing newer (a replay)", async () => {
    let now = 1_000_000;
    const source = new ControlledRegistrySource(definition("p"), { refresh: false });
    const live = await LiveRegistry.follow(source);
    const catchUp = new RegistryCatchUp(live, { timeoutMs: 50, clockSkewMs: 10, now: () => now });
    let started = performance.now();
    assert.equal(await catchUp.newer(1, now - 60_000), undefined);
    assert.ok(performance.now() - started >= 45, "the first check waits");
    started = performance.now();
    assert.equal(await catchUp.newer(1, now - 30_000), undefined);
    assert.ok(performance.now() - started < 20, "records produced before it are not checked again");
    // A record produced after the check may use a registry published since: checked again.
    now += 1_000;
    source.stage(definition("p", ["rate", "trips"]));
    setTimeout(() => source.deliver(), 10);
    assert.equal((await catchUp.newer(1, now - 5))?.version, 2);
  });
});

describe("the hot cache's key of a decoded row", () => {
  const feature = fc.record({
    name: fc.constantFrom("a", "b", "c", "d"),
    type: fc.constantFrom("float64", "int64", "string"),
  });
  it("is the same for two views exactly when their features have the same names, types and order", () => {
    fc.assert(
      fc.property(
        fc.array(feature, { minLength: 1, maxLength: 4 }),
        fc.array(feature, { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 0, max: 3 }),
        (left, right, generation) => {
          // Fresh objects: rowFields caches per view object, as each registry has its own.
          const a = rowFields(
            { key: "stats@1", features: left.map((f) => ({ ...f })) },
            generation,
          );
          const b = rowFields(
            { key: "stats@1", features: right.map((f) => ({ ...f })) },
            generation,
          );
          assert.equal(a.prefix, b.prefix);
          assert.equal(a.cacheKey === b.cacheKey, JSON.stringify(left) === JSON.stringify(right));
          assert.ok(a.cacheKey.startsWith(a.prefix));
        },
      ),
    );
  });
});

describe("the file registry source", () => {
  it("serves STRATA_REPO's definition as version 0 with its hash and path", async () => {
    const served = await new FileRegistrySource("examples/feature-repo.ts").start();
    assert.equal(served.version, 0);
    assert.equal(served.hash, definitionHash(repo));
    assert.equal(served.origin, "file:examples/feature-repo.ts");
    assert.equal(served.registry.project, repo.project);
  });
});

describe("where a process' registry comes from", () => {
  const bad = (variable: string) => (e: unknown) =>
    isStrataError(e, "STRATA_E_BAD_CONFIG") && e.details.variable === variable;

  it("is STRATA_REPO when set, else STRATA_PROJECT's published registry (through Kafka)", () => {
    const kafka = { brokers: ["k:9092"] };
    assert.deepEqual(new EnvReader({ STRATA_REPO: "r.ts" }).registrySource(kafka), {
      kind: "file",
      path: "r.ts",
    });
    assert.deepEqual(
      new EnvReader({ STRATA_REPO: "r.ts", STRATA_PROJECT: "p" }).registrySource(undefined),
      { kind: "file", path: "r.ts", project: "p" },
    );
    assert.deepEqual(new EnvReader({ STRATA_PROJECT: "p" }).registrySource(kafka), {
      kind: "published",
      project: "p",
      kafka,
    });
    assert.throws(() => new EnvReader({}).registrySource(kafka), bad("STRATA_REPO"));
    assert.throws(
      () => new EnvReader({ STRATA_PROJECT: "p" }).registrySource(undefined),
      bad("KAFKA_BROKERS"),
    );
    assert.throws(
      () => new EnvReader({ STRATA_PROJECT: "1p" }).registrySource(kafka),
      bad("STRATA_PROJECT"),
    );
  });

  it("follows the published registry through Kafka (nothing connects before start)", () => {
    const source = openRegistrySource(
      { kind: "published", project: "p", kafka: { brokers: ["k:1"] } },
      "c",
    );
    assert.equal(source.follows, true);
    assert.equal(typeof source.refresh, "function");
    assert.ok(
      openRegistrySource({ kind: "file", path: "r.ts" }, "c") instanceof FileRegistrySource,
    );
  });

  it("follows the peers' registry copies with STRATA_PEER_REGIONS", () => {
    const kafka = { brokers: ["k:9092"] };
    const env = { STRATA_PROJECT: "p", STRATA_REGION: "a", STRATA_PEER_REGIONS: "b,c" };
    assert.deepEqual(new EnvReader(env).registrySource(kafka), {
      kind: "published",
      project: "p",
      kafka,
      region: "a",
      peerRegions: ["b", "c"],
    });
    assert.throws(
      () => new EnvReader({ ...env, STRATA_PEER_REGIONS: "a" }).registrySource(kafka),
      bad("STRATA_PEER_REGIONS"),
    );
  });
});

describe("the registry's metrics and log lines", () => {
  it("export the version and hash served, and count swaps and refusals by code", async () => {
    const lines: [string, string, Record<string, unknown>][] = [];
    const observer = new RegistryObserver((level, message, fields) =>
      lines.push([level, message, fields]),
    );
    const source = new ControlledRegistrySource(definition("p"));
    const live = await LiveRegistry.follow(source, { listeners: [observer] });
    observer.observe(live);
    const next = source.publish(definition("p", ["rate", "trips"]));
    source.refuse(new StrataError("STRATA_E_UNKNOWN_TYPE", "bad type", {}));
    const text = await Registry.merge([observer.metrics]).metrics();
    assert.match(text, /^strata_registry_version\{project="p"\} 2$/m);
    assert.match(
      text,
      new RegExp(`^strata_registry_info\\{project="p",version="2",hash="${next.hash}"\\} 1$`, "m"),
    );
    assert.equal(text.match(/^strata_registry_info\{/gm)?.length, 1, "one series: the one served");
    assert.match(text, /^strata_registry_swaps_total\{project="p"\} 1$/m);
    assert.match(
      text,
      /^strata_registry_refused_total\{project="p",code="STRATA_E_UNKNOWN_TYPE"\} 1$/m,
    );
    assert.deepEqual(
      lines.map(([level, message]) => [level, message]),
      [
        ["info", "registry swapped"],
        ["warn", "registry refused"],
      ],
    );
    assert.deepEqual(
      { version: lines[0]![2].version, hash: lines[0]![2].hash, origin: lines[0]![2].origin },
      { version: 2, hash: next.hash, origin: "test:2" },
    );
    assert.equal(lines[1]![2].reason, "bad type");
  });
});
