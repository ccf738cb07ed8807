import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { FeatureRegistry } from "../../shared/registry/index.js";
import type { WriteRow } from "../../shared/online-store/index.js";
import { compareVersions, encodeVersion, type Version } from "../../shared/versions/index.js";
import { seededRandom } from "../support/seeded-random.js";
import { TOPOLOGIES } from "../support/servers.js";
import { openStore, testRepo, uniqueProject, type OpenedStore } from "../support/store.js";

const WRITERS = 4;
const ENTITIES = 40;
const VERSIONS_PER_ENTITY = 6;
const REGIONS = ["us-east-1", "eu-west-1", "onprem-dc1"];

function shuffle<T>(items: T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/**
 * Versioned writes with deliberate ties on the leading parts, so every part of the order
 * matters. Two different writes never share a whole version (a writer's HLC and region
 * make versions unique), so "the highest version" names one write.
 */
function makeWrites(random: () => number): WriteRow[] {
  const writes: WriteRow[] = [];
  for (let e = 0; e < ENTITIES; e++) {
    const used = new Set<string>();
    for (let n = 0; n < VERSIONS_PER_ENTITY; n++) {
      let version: Version;
      do {
        version = {
          eventTsMs: 1_700_000_000_000 + Math.floor(random() * 3),
          epoch: Math.floor(random() * 2),
          hlc: {
            wallMs: 1_700_000_000_000 + Math.floor(random() * 2),
            counter: Math.floor(random() * 3),
          },
          originRegion: REGIONS[Math.floor(random() * REGIONS.length)]!,
        };
      } while (used.has(encodeVersion(version)));
      used.add(encodeVersion(version));
      writes.push({
        view: "stats@1",
        entity: { driver_id: e },
        values: { rate: random(), trips: Math.floor(random() * 1000), label: `e${e}-w${n}` },
        version,
      });
    }
  }
  return writes;
}

for (const topology of TOPOLOGIES) {
  describe(`convergence under concurrent, duplicated, reordered writes (${topology})`, () => {
    let registry: FeatureRegistry;
    let writers: OpenedStore[];
    let checker: OpenedStore;

    before(async () => {
      registry = new FeatureRegistry(testRepo(uniqueProject("conv")));
      writers = await Promise.all(
        Array.from({ length: WRITERS }, () => openStore(topology, registry)),
      );
      checker = await openStore(topology, registry, { hotCache: false });
    });
    after(async () => {
      await Promise.all([...writers, checker].map((w) => w.close()));
    });

    for (const seed of [1, 2, 3]) {
      it(`ends, key by key, at the highest version whatever the order (seed ${seed})`, async () => {
        const random = seededRandom(seed);
        const writes = makeWrites(random);
        // Give each entity of this seed its own ids, so seeds do not see each other's rows.
        for (const w of writes)
          w.entity = { driver_id: seed * 1_000 + (w.entity.driver_id as number) };

        const expected = new Map<number, WriteRow>();
        for (const w of writes) {
          const id = w.entity.driver_id as number;
          const best = expected.get(id);
          if (!best || compareVersions(w.version, best.version) > 0) expected.set(id, w);
        }

        // Each writer: every write, plus a random third again (duplicates), in its own order,
        // in batches of random size; the writers run at the same time on their own connections.
        await Promise.all(
          writers.map(async (writer, i) => {
            const own = seededRandom(seed * 100 + i);
            const stream = shuffle([...writes, ...writes.filter(() => own() < 0.33)], own);
            while (stream.length > 0) {
              await writer.store.write(stream.splice(0, 1 + Math.floor(own() * 25)));
            }
          }),
        );

        const ids = [...expected.keys()];
        const read = await checker.store.read(
          ids.map((driver_id) => ({ driver_id })),
          ["stats@1:rate", "stats@1:trips", "stats@1:label"],
        );
        ids.forEach((id, r) => {
          const want = expected.get(id)!;
          assert.deepEqual(
            read.rows[r]!.values,
            [want.values.rate, want.values.trips, want.values.label],
            `entity ${id}`,
          );
          assert.equal(read.rows[r]!.eventTimestamps[0], want.version.eventTsMs);
        });
        // And the stored version is exactly the winner's, byte for byte.
        const stored = await Promise.all(
          ids.map((id) =>
            checker.client.hget(`fs:{${registry.project}:driver:i${id}}`, "stats@1#0:_v"),
          ),
        );
        assert.deepEqual(
          stored,
          ids.map((id) => encodeVersion(expected.get(id)!.version)),
        );

        // A full replay changes nothing: every write is now stale.
        const replay = await writers[0]!.store.write(writes);
        assert.equal(replay.applied, 0);
        assert.equal(replay.stale, writes.length);
      });
    }
  });
}
