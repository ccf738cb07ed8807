// wait: "replicated" against the real Kafka and two real Redis: region a is the shared Redis,
// region b a private redis-server whose own ChangelogConsumer (its own group) applies the same
// changelog, which is what b's consumer does once MirrorMaker 2 delivered it there.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { isPortFree } from "../../dev/stack/processes.js";
import type { ChangelogConsumer, ChangelogWriter } from "../../shared/changelog/index.js";
import { ChangelogWriter as Writer } from "../../shared/changelog/index.js";
import { isStrataError, type StrataError } from "../../shared/errors.js";
import { entityRedisKey, encodeEntityKey } from "../../shared/key-codec.js";
import { OnlineStore, type RedisClient, type WriteRow } from "../../shared/online-store/index.js";
import { rowFields } from "../../shared/online-store/redis-layout.js";
import type { PeerRegion, ReplicationReport } from "../../shared/regions/index.js";
import { FeatureRegistry } from "../../shared/registry/index.js";
import { encodeVersion, type Version } from "../../shared/versions/index.js";
import { changelogFixture, type ChangelogFixture } from "../support/changelog.js";
import { startStandalone } from "../support/redis-process.js";
import { startServeProcess, type ServeProcess } from "../support/serve-process.js";
import { openStore, testRepo, uniqueProject, waitFor, type OpenedStore } from "../support/store.js";

const registry = new FeatureRegistry(testRepo(uniqueProject("replicated")));
const view = registry.viewByRef("rider_profile");
let counter = 0;

function version(eventTsMs = Date.now()): Version {
  return {
    eventTsMs,
    epoch: 0,
    hlc: { wallMs: Date.now(), counter: counter++ },
    originRegion: "a",
  };
}

function row(rider: string, v: Version = version()): WriteRow {
  return {
    view: "rider_profile",
    entity: { rider_id: rider, city: "oslo" },
    values: { score: 1.5, vip: true, blob: null },
    version: v,
  };
}

/** The version a region's Redis stores for a rider (null: none), read as its readers see it. */
async function storedVersion(client: RedisClient, rider: string): Promise<string | null> {
  const key = entityRedisKey(
    registry.project,
    view.entitySet,
    encodeEntityKey(view.joinKeys, { rider_id: rider, city: "oslo" }),
  );
  return client.hget(key, rowFields(view, 0).version);
}

async function freePort(): Promise<number> {
  for (;;) {
    const port = 30_000 + Math.floor(Math.random() * 5_000);
    if (await isPortFree(port, "127.0.0.1")) return port;
  }
}

const notReplicated = (check: (error: StrataError) => void) => (error: unknown) => {
  if (!isStrataError(error, "STRATA_E_NOT_REPLICATED")) return false;
  check(error);
  return true;
};

describe('wait: "replicated" on the real Kafka, with region b applying into a Redis of its own', () => {
  let changelog: ChangelogFixture;
  let a: OpenedStore;
  let b: Awaited<ReturnType<typeof startStandalone>>;
  let c: Awaited<ReturnType<typeof startStandalone>>;
  let clientB: Redis;
  let clientC: Redis;
  let unreachable: Redis;
  let storeB: OnlineStore;
  let consumerB: ChangelogConsumer | undefined;
  const writers: ChangelogWriter[] = [];

  const openWriter = async (peers: PeerRegion[], replicationTimeoutMs = 10_000) => {
    const writer = await Writer.open({
      kafka: changelog.kafka,
      registry,
      store: a.store,
      region: "a",
      peers,
      replicationTimeoutMs,
    });
    writers.push(writer);
    return writer;
  };
  const startB = async () => {
    consumerB = await changelog.startConsumer(storeB, "b");
  };
  const stopB = async () => {
    await consumerB?.stop();
    consumerB = undefined;
  };

  before(async () => {
    changelog = await changelogFixture(registry);
    a = await openStore("standalone", registry, { hotCache: false });
    [b, c] = await Promise.all([startStandalone(), startStandalone()]);
    clientB = new Redis(b.url);
    clientC = new Redis(c.url);
    // Nothing listens there: a peer region that is down.
    unreachable = new Redis(`redis://127.0.0.1:${await freePort()}`, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      lazyConnect: true,
    });
    unreachable.on("error", () => undefined);
    storeB = await OnlineStore.open({ client: clientB, registry, hotCache: false });
    await startB();
  });

  after(async () => {
    for (const writer of writers) await writer.close(2_000).catch(() => undefined);
    await stopB().catch(() => undefined);
    await changelog.cleanup();
    await storeB.close();
    for (const client of [clientB, clientC, unreachable]) client.disconnect();
    await a.close();
    await Promise.all([b.stop(), c.stop()]);
  });

  it("returns only once region b's consumer applied the write: b holds its version when the call returns", async () => {
    const writer = await openWriter([{ name: "b", client: clientB }]);
    for (let i = 0; i < 5; i++) {
      const written = row(`ok-${i}`);
      const result = await writer.write([written], { wait: "replicated" });
      // Read at once, before anything else runs: the consumer may not have been this fast.
      assert.equal(await storedVersion(clientB, `ok-${i}`), encodeVersion(written.version));
      assert.equal(result.reached, "replicated");
      assert.equal(result.applied?.applied, 1, "applied in region a first");
      const report = result.replication!;
      assert.equal(report.reached, true);
      assert.deepEqual(report.regions.b, { applied: true, rows: 1, superseded: 0 });
    }
  });

  it("reads a peer on Redis Cluster: rows spread over hash slots are all found once its consumer applied them", async () => {
    const e = await openStore("cluster", registry, { hotCache: false });
    let consumerE: ChangelogConsumer | undefined;
    try {
      consumerE = await changelog.startConsumer(e.store, "e");
      const writer = await openWriter([{ name: "e", client: e.client }]);
      const rows = Array.from({ length: 40 }, (_, i) => row(`cluster-${i}`));
      const result = await writer.write(rows, { wait: "replicated" });
      assert.deepEqual(result.replication!.regions.e, { applied: true, rows: 40, superseded: 0 });
      const stored = await Promise.all(
        rows.map((r) => storedVersion(e.client, r.entity.rider_id as string)),
      );
      assert.deepEqual(
        stored,
        rows.map((r) => encodeVersion(r.version)),
      );
    } finally {
      await consumerE?.stop();
      await e.close();
    }
  });

  it("refuses a writer without peers (STRATA_E_NO_PEERS) before anything is produced", async () => {
    const writer = await openWriter([]);
    const before = await changelog.endOffsets();
    await assert.rejects(
      writer.write([row("nopeers")], { wait: "replicated" }),
      (e: unknown) => isStrataError(e, "STRATA_E_NO_PEERS") && e.status === 400,
    );
    await assert.rejects(
      writer.write([row("nopeers")], { wait: "replicated", replication: { regions: ["x"] } }),
      (e: unknown) => isStrataError(e, "STRATA_E_NO_PEERS"),
    );
    assert.deepEqual(await changelog.endOffsets(), before);
  });

  it("waits for a quorum: b alone satisfies quorum 1 while c never gets it; all three fail naming c and d", async () => {
    const writer = await openWriter(
      [
        { name: "b", client: clientB },
        { name: "c", client: clientC },
        { name: "d", client: unreachable },
      ],
      1_500,
    );
    const quorum = await writer.write([row("quorum-1")], {
      wait: "replicated",
      replication: { quorum: 1 },
    });
    assert.equal(quorum.reached, "replicated");
    assert.equal(quorum.replication!.regions.b!.applied, true);
    assert.equal(quorum.replication!.regions.c!.applied, false);

    const started = performance.now();
    let report: ReplicationReport | undefined;
    await assert.rejects(
      writer.write([row("quorum-all")], { wait: "replicated" }),
      notReplicated((error) => {
        assert.equal(error.status, 503);
        assert.deepEqual(error.details.replicated, ["b"]);
        assert.deepEqual(error.details.missing, ["c", "d"]);
        assert.equal(error.details.acknowledged, true);
        assert.equal(error.details.mayStillArrive, true);
        assert.match(error.message, /may still arrive in c, d/);
        report = { regions: error.details.regions } as ReplicationReport;
      }),
    );
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 1_500 && elapsed < 5_000, `failed at the deadline, not ${elapsed} ms`);
    assert.ok(report!.regions.d!.error, "the unreachable peer says why");
    assert.equal(await storedVersion(clientC, "quorum-all"), null, "nothing wrote to a peer");
  });

  it("with b's consumer stopped, fails at the deadline naming b; the write is applied in a, and reaches b once its consumer runs again", async () => {
    const writer = await openWriter([{ name: "b", client: clientB }], 1_000);
    await stopB();
    const written = row("late");
    await assert.rejects(
      writer.write([written], { wait: "replicated" }),
      notReplicated((error) => {
        assert.deepEqual(error.details.missing, ["b"]);
        assert.deepEqual(error.details.replicated, []);
        assert.equal(error.details.appliedLocally, true);
        assert.equal(error.details.timeoutMs, 1_000);
      }),
    );
    assert.equal(
      await storedVersion(a.client, "late"),
      encodeVersion(written.version),
      "applied in region a",
    );
    assert.equal(await storedVersion(clientB, "late"), null, "not in b yet");

    // A newer version already in b counts as replicated: b has moved past this write.
    const newer = row("superseded", version(Date.now() + 1_000));
    await storeB.write([newer]);
    const older = row("superseded", version(Date.now() - 60_000));
    const result = await writer.write([older], { wait: "replicated" });
    assert.equal(result.reached, "replicated");
    assert.deepEqual(result.replication!.regions.b, { applied: true, rows: 1, superseded: 1 });
    assert.equal(await storedVersion(clientB, "superseded"), encodeVersion(newer.version));

    await startB();
    await waitFor(
      async () => (await storedVersion(clientB, "late")) === encodeVersion(written.version),
      30_000,
      "the write that did not replicate in time arrives in b",
    );
  });

  describe("POST /push on a serving process with STRATA_PEER_REDIS", () => {
    let serve: ServeProcess;
    const push = async (rider: string, extra: Record<string, unknown> = {}) => {
      const response = await fetch(`${serve.url}/push`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${serve.key}` },
        body: JSON.stringify({
          push_source_name: "rider_profile",
          df: {
            rider_id: [rider],
            city: ["oslo"],
            score: [0.5],
            vip: [false],
            blob: [null],
            event_timestamp: [Date.now()],
          },
          wait: "replicated",
          ...extra,
        }),
      });
      return {
        status: response.status,
        retryAfter: response.headers.get("retry-after"),
        json: (await response.json()) as Record<string, unknown>,
      };
    };

    before(async () => {
      serve = await startServeProcess({
        project: registry.project,
        topology: "standalone",
        region: "a",
        env: { STRATA_PEER_REDIS: `b=${b.url}`, STRATA_REPLICATION_TIMEOUT_MS: "1000" },
      });
    });
    after(() => serve?.stop());

    it("answers 200 with what each region reached once b applied the push", async () => {
      const answer = await push("http-ok");
      assert.equal(answer.status, 200, JSON.stringify(answer.json));
      console.log(`replicated push answered: ${JSON.stringify(answer.json)}`);
      assert.ok((await storedVersion(clientB, "http-ok")) !== null, "b holds it on return");
      assert.equal(answer.json.reached, "replicated");
      const replication = answer.json.replication as ReplicationReport;
      assert.equal(replication.quorum, 1);
      assert.deepEqual(replication.regions.b, { applied: true, rows: 1, superseded: 0 });
    });

    it("answers 503 STRATA_E_NOT_REPLICATED in the error shape, naming b, when b's consumer is stopped", async () => {
      await stopB();
      try {
        const answer = await push("http-late");
        assert.equal(answer.status, 503);
        assert.equal(answer.retryAfter, "1");
        const error = (answer.json as { error: { code: string; details: Record<string, unknown> } })
          .error;
        assert.equal(error.code, "STRATA_E_NOT_REPLICATED");
        assert.deepEqual(error.details.missing, ["b"]);
        assert.equal(error.details.mayStillArrive, true);
        assert.ok((await storedVersion(a.client, "http-late")) !== null, "applied in a");

        const unknown = await push("http-x", { replication: { regions: ["z"] } });
        assert.equal(unknown.status, 400);
        assert.equal(
          (unknown.json as { error: { code: string } }).error.code,
          "STRATA_E_BAD_REQUEST",
        );
        const tooLong = await push("http-x", { replication: { timeoutMs: 1_001 } });
        assert.equal(tooLong.status, 400, "a push may not wait longer than the server allows");
      } finally {
        await startB();
      }
      await waitFor(
        async () => (await storedVersion(clientB, "http-late")) !== null,
        30_000,
        "the push arrives in b once its consumer runs",
      );
    });
  });
});
