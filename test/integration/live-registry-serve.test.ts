import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { StrataError } from "../../shared/errors.js";
import type { WriteRow } from "../../shared/online-store/index.js";
import {
  definitionHash,
  FeatureRegistry,
  LiveRegistry,
  type FeatureRepoDefinition,
  type FeatureViewDefinition,
  type ServedRegistry,
} from "../../shared/registry/index.js";
import { ControlledRegistrySource } from "../support/controlled-registry-source.js";
import { post, startTestServer, type TestServer } from "../support/serve.js";
import { openStore, sleep, uniqueProject, type OpenedStore } from "../support/store.js";

const DRIVERS = 40;
const CLIENTS = 6;
const MIN_REQUESTS = 3_000;

/** What every driver holds, whatever registry reads it. */
const value = {
  rate: (d: number) => d / 100,
  trips: (d: number) => d,
  label: (d: number) => `d${d}`,
  surge: (d: number) => d * 2 + 0.5,
  density: (d: number) => d * 3 + 0.25,
};

type StatsFeature = "rate" | "trips" | "label" | "surge";

function statsView(version: string, features: StatsFeature[]): FeatureViewDefinition {
  const types = { rate: "float64", trips: "int64", label: "string", surge: "float64" } as const;
  return {
    name: "stats",
    version,
    entities: ["driver"],
    features: features.map((name) => ({ name, type: types[name] })),
    maxAgeMs: 3_600_000,
  };
}

const zoneView: FeatureViewDefinition = {
  name: "zone_stats",
  version: "1.0.0",
  entities: ["driver"],
  features: { density: "float64" },
  maxAgeMs: 3_600_000,
};

/**
 * The registries published one after the other: a feature added (a new minor), a view added,
 * the view's features declared in another order, and the same content again. The feature
 * service `live` names a different list in each, so a response tells which registry it was
 * served by.
 */
function registries(project: string): FeatureRepoDefinition[] {
  const entities = [{ name: "driver", joinKeys: { driver_id: "int64" as const } }];
  const repo = (views: FeatureViewDefinition[], service: string[]): FeatureRepoDefinition => ({
    project,
    entities,
    views,
    services: [{ name: "live", features: service }],
  });
  return [
    repo([statsView("1.0.0", ["rate", "trips", "label"])], ["stats:rate"]),
    repo([statsView("1.1.0", ["rate", "trips", "label", "surge"])], ["stats:rate", "stats:surge"]),
    repo(
      [statsView("1.1.0", ["rate", "trips", "label", "surge"]), zoneView],
      ["stats:rate", "stats:surge", "zone_stats:density"],
    ),
    repo(
      [statsView("1.2.0", ["surge", "label", "trips", "rate"]), zoneView],
      ["zone_stats:density", "stats:trips", "stats:surge", "stats:rate"],
    ),
    repo(
      [statsView("1.2.0", ["surge", "label", "trips", "rate"]), zoneView],
      ["zone_stats:density", "stats:trips", "stats:surge", "stats:rate", "stats:label"],
    ),
  ];
}

/** Every row every registry reads, written through the last registry (which has every feature). */
function seedRows(): WriteRow[] {
  const version = (d: number) => ({
    eventTsMs: Date.now() - 1_000,
    epoch: 0,
    hlc: { wallMs: Date.now() - 1_000 + d, counter: 0 },
    originRegion: "test",
  });
  const rows: WriteRow[] = [];
  for (let d = 0; d < DRIVERS; d++) {
    rows.push({
      view: "stats@1",
      entity: { driver_id: d },
      values: {
        rate: value.rate(d),
        trips: BigInt(value.trips(d)),
        label: value.label(d),
        surge: value.surge(d),
      },
      version: version(d),
    });
    rows.push({
      view: "zone_stats@1",
      entity: { driver_id: d },
      values: { density: value.density(d) },
      version: version(d),
    });
  }
  return rows;
}

interface FeastResponse {
  metadata: { feature_names: string[] };
  results: { values: unknown[]; statuses: string[] }[];
}

function expectedValue(feature: string, driver: number): unknown {
  return value[feature as keyof typeof value](driver);
}

/**
 * Checks a response to `{"feature_service": "live"}` against the registries: its feature
 * names must be exactly one registry's service list, and every value the one stored. Returns
 * the index of that registry.
 */
function registryOf(
  response: FeastResponse,
  definitions: FeatureRepoDefinition[],
  driver: number,
): number {
  const names = response.metadata.feature_names.slice(1);
  const index = definitions.findIndex(
    (d) =>
      JSON.stringify(d.services![0]!.features.map((ref) => ref.split(":")[1])) ===
      JSON.stringify(names),
  );
  assert.ok(index >= 0, `feature names ${JSON.stringify(names)} are no registry's`);
  names.forEach((name, i) => {
    const column = response.results[i + 1]!;
    assert.equal(column.statuses[0], "PRESENT", `${name} of driver ${driver} under v${index + 1}`);
    assert.deepEqual(column.values[0], expectedValue(name, driver), `${name} of driver ${driver}`);
  });
  return index;
}

describe("serving follows its registry live", () => {
  const project = uniqueProject("live_serve");
  const definitions = registries(project);
  let source: ControlledRegistrySource;
  let live: LiveRegistry;
  let server: TestServer;
  let writer: OpenedStore;

  before(async () => {
    writer = await openStore("standalone", new FeatureRegistry(definitions.at(-1)!), {
      hotCache: false,
    });
    await writer.store.write(seedRows());
    source = new ControlledRegistrySource(definitions[0]!);
    live = await LiveRegistry.follow(source);
    server = await startTestServer(live);
  });
  after(async () => {
    await server.close();
    await live.stop();
    await writer.close();
  });

  const ready = async () =>
    (await (await fetch(`${server.adminUrl}/ready`)).json()) as {
      status: string;
      registry: { version: number; hash: string; origin: string };
    };

  it("reports the registry it serves on /ready", async () => {
    assert.deepEqual(await ready(), {
      status: "ready",
      registry: { version: 1, hash: definitionHash(definitions[0]!), origin: "test:1" },
    });
  });

  it("swaps under read load without a failed request, each response from one registry, a new view served at once", async () => {
    const seen = new Map<number, number>();
    let requests = 0;
    let swapsDone = false;
    const failures: string[] = [];
    const client = async (c: number) => {
      let i = c;
      while (!swapsDone || requests < MIN_REQUESTS) {
        const driver = i++ % DRIVERS;
        // Alternately the service (which changes with the registry) and a list every registry has.
        const body =
          i % 2 === 0
            ? { feature_service: "live", entities: { driver_id: [driver] } }
            : { features: ["stats:rate", "stats:trips"], entities: { driver_id: [driver] } };
        const response = await post(server.url, body, { key: server.key });
        requests++;
        if (response.status !== 200) {
          failures.push(`${response.status} ${response.text}`);
          continue;
        }
        try {
          const json = response.json as unknown as FeastResponse;
          if ("feature_service" in body) {
            const index = registryOf(json, definitions, driver);
            seen.set(index, (seen.get(index) ?? 0) + 1);
          } else {
            assert.deepEqual(json.results[1]!.values[0], value.rate(driver));
            assert.deepEqual(json.results[2]!.values[0], value.trips(driver));
          }
        } catch (error) {
          failures.push((error as Error).message);
        }
      }
    };
    const clients = Array.from({ length: CLIENTS }, (_, c) => client(c));
    const swaps: ServedRegistry[] = [];
    for (const definition of definitions.slice(1)) {
      await sleep(1_500);
      const next = source.publish(definition);
      swaps.push(next);
      assert.equal(live.snapshot(), next);
      if (definition.views.some((v) => v.name === "zone_stats") && swaps.length === 2) {
        // The first request after the swap that added the view is answered from it.
        const first = await post(
          server.url,
          { features: ["zone_stats:density"], entities: { driver_id: [7] } },
          { key: server.key },
        );
        assert.equal(first.status, 200, first.text);
        const json = first.json as unknown as FeastResponse;
        assert.deepEqual(json.results[1]!.values[0], value.density(7));
        assert.equal(json.results[1]!.statuses[0], "PRESENT");
      }
      const status = await ready();
      assert.deepEqual(status.registry, {
        version: next.version,
        hash: definitionHash(definition),
        origin: next.origin,
      });
    }
    await sleep(1_500); // the last registry under load too
    swapsDone = true;
    await Promise.all(clients);
    console.log(
      `${requests} requests from ${CLIENTS} clients across ${swaps.length} swaps; service responses by registry version: ${JSON.stringify(Object.fromEntries([...seen].sort().map(([i, n]) => [i + 1, n])))}`,
    );
    assert.deepEqual(failures.slice(0, 5), [], `${failures.length} of ${requests} requests failed`);
    assert.ok(requests >= MIN_REQUESTS, `${requests} requests`);
    // Each registry served its share of the load.
    assert.equal(
      seen.size,
      definitions.length,
      `responses by registry: ${JSON.stringify([...seen])}`,
    );
    assert.deepEqual(server.errors, []);
    const metrics = await (await fetch(`${server.adminUrl}/metrics`)).text();
    assert.match(
      metrics,
      new RegExp(`^strata_registry_swaps_total\\{project="${project}"\\} 4$`, "m"),
    );
    assert.match(metrics, new RegExp(`^strata_registry_version\\{project="${project}"\\} 5$`, "m"));
  });

  it("keeps serving the last good registry when one is refused, and counts the refusal", async () => {
    const before = live.snapshot();
    source.refuse(
      new StrataError("STRATA_E_UNKNOWN_TYPE", "feature stats:rate has type decimal", {}),
    );
    // A registry of another project is refused too: a process' project never changes.
    const other = { ...definitions.at(-1)!, project: `${project}_other` };
    live.offer({
      registry: new FeatureRegistry(other),
      version: before.version + 1,
      hash: definitionHash(other),
      origin: "test:other",
    });
    assert.equal(live.snapshot(), before);
    const read = await post(
      server.url,
      { feature_service: "live", entities: { driver_id: [3] } },
      { key: server.key },
    );
    assert.equal(read.status, 200);
    assert.equal(registryOf(read.json as unknown as FeastResponse, definitions, 3), 4);
    assert.equal((await ready()).registry.version, before.version);
    const metrics = await (await fetch(`${server.adminUrl}/metrics`)).text();
    assert.match(
      metrics,
      new RegExp(
        `^strata_registry_refused_total\\{project="${project}",code="STRATA_E_UNKNOWN_TYPE"\\} 1$`,
        "m",
      ),
    );
    assert.match(
      metrics,
      new RegExp(
        `^strata_registry_refused_total\\{project="${project}",code="STRATA_E_BAD_REGISTRY"\\} 1$`,
        "m",
      ),
    );
  });
});
