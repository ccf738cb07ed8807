import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { Redis } from "ioredis";
import { loadServeConfig } from "../../../functions/serve/config.js";
import { generateApiKey } from "../../../functions/serve/auth.js";
import { DEFAULT_LIMITS } from "../../../functions/serve/config.js";
import { parsePushRequest } from "../../../functions/serve/push-request.js";
import { isStrataError, type ErrorCode } from "../../../shared/errors.js";
import { checkPeers, planReplication, type PeerRegion } from "../../../shared/regions/index.js";
import { compareStored } from "../../../shared/regions/replication-wait.js";
import { FeatureRegistry } from "../../../shared/registry/index.js";
import { compareVersions, encodeVersion, type Version } from "../../../shared/versions/index.js";
import { testRepo } from "../../support/store.js";

// Never connected: planning looks at names only.
const client = new Redis({ lazyConnect: true });
const peers: PeerRegion[] = ["b", "c", "d"].map((name) => ({ name, client }));
const limits = { timeoutMs: 5_000, maxTimeoutMs: 30_000 };

const refused = (code: ErrorCode, named?: string) => (e: unknown) =>
  isStrataError(e, code) && (named === undefined || e.message.includes(named));

describe('planning a wait: "replicated"', () => {
  it("waits for every peer by default, all of them, with the writer's deadline", () => {
    const plan = planReplication(peers, undefined, limits);
    assert.deepEqual(
      plan.peers.map((p) => p.name),
      ["b", "c", "d"],
    );
    assert.equal(plan.quorum, 3);
    assert.equal(plan.timeoutMs, 5_000);
  });

  it("takes a list of peers, a quorum of them, and a shorter or longer deadline up to the cap", () => {
    const plan = planReplication(
      peers,
      { regions: ["d", "b"], quorum: 1, timeoutMs: 30_000 },
      limits,
    );
    assert.deepEqual(
      plan.peers.map((p) => p.name),
      ["d", "b"],
    );
    assert.equal(plan.quorum, 1);
    assert.equal(plan.timeoutMs, 30_000);
    assert.equal(planReplication(peers, { quorum: 2 }, limits).peers.length, 3);
  });

  it("refuses a writer without peers with STRATA_E_NO_PEERS (400), not a silent 'applied'", () => {
    assert.throws(() => planReplication([], undefined, limits), refused("STRATA_E_NO_PEERS"));
    assert.throws(
      () => planReplication([], { quorum: 1 }, limits),
      (e: unknown) => isStrataError(e, "STRATA_E_NO_PEERS") && e.status === 400,
    );
  });

  it("refuses bad options, naming the bad value and what is accepted", () => {
    const bad: [unknown, string][] = [
      [{ regions: ["x"] }, '"x"'],
      [{ regions: ["b", "b"] }, "b twice"],
      [{ regions: [] }, "non-empty"],
      [{ regions: "b" }, "non-empty"],
      [{ quorum: 0 }, "from 1 to 3"],
      [{ quorum: 4 }, "from 1 to 3"],
      [{ quorum: 1.5 }, "from 1 to 3"],
      [{ regions: ["c"], quorum: 2 }, "from 1 to 1"],
      [{ quorum: "2" }, "from 1 to 3"],
      [{ timeoutMs: 30_001 }, "from 1 to 30000"],
      [{ timeoutMs: 0 }, "from 1 to 30000"],
      [{ regoins: ["b"] }, "regoins"],
      ["all", "must be an object"],
    ];
    for (const [options, named] of bad) {
      assert.throws(
        () => planReplication(peers, options as never, limits),
        refused("STRATA_E_BAD_REQUEST", named),
        JSON.stringify(options),
      );
    }
  });

  it("refuses a peer list with a bad or repeated name, or this region's own", () => {
    assert.doesNotThrow(() => checkPeers(peers, "a"));
    for (const [list, own] of [
      [[...peers, { name: "b", client }], "a"],
      [[{ name: "B", client }], "a"],
      [peers, "c"],
    ] as const) {
      assert.throws(() => checkPeers(list, own), refused("STRATA_E_BAD_CONFIG"));
    }
  });
});

describe("a stored version against the written one", () => {
  const region = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,8}$/);
  const version: fc.Arbitrary<Version> = fc.record({
    eventTsMs: fc.integer({ min: 0, max: 4 }),
    epoch: fc.integer({ min: 0, max: 2 }),
    hlc: fc.record({
      wallMs: fc.integer({ min: 0, max: 3 }),
      counter: fc.integer({ min: 0, max: 3 }),
    }),
    originRegion: fc.oneof(fc.constantFrom("a", "b", "ab"), region),
  });

  it("is applied when equal or newer in the total version order, and not when older", () => {
    fc.assert(
      fc.property(version, version, (stored, written) => {
        assert.equal(
          Math.sign(compareStored(encodeVersion(stored), written)),
          Math.sign(compareVersions(stored, written)),
        );
      }),
    );
  });

  it("is not applied when there is none, or when it is corrupt", () => {
    const written: Version = {
      eventTsMs: 1,
      epoch: 0,
      hlc: { wallMs: 1, counter: 0 },
      originRegion: "a",
    };
    assert.ok(compareStored(null, written) < 0);
    assert.ok(compareStored("garbage", written) < 0);
    assert.ok(compareStored("zz".repeat(18) + "a", written) < 0);
  });
});

describe("serving configuration of peer regions", () => {
  const base = {
    STRATA_REPO: "repo.js",
    REDIS_URL: "redis://127.0.0.1:6379",
    STRATA_API_KEYS: JSON.stringify([generateApiKey("k").record]),
    KAFKA_BROKERS: "127.0.0.1:9092",
    STRATA_REGION: "a",
  };

  it("reads STRATA_PEER_REDIS as STRATA_RECONCILE_REGIONS is read, and the replication deadline", () => {
    const config = loadServeConfig({
      ...base,
      STRATA_PEER_REDIS: "b=redis://10.0.0.2:6379; c=cluster://10.0.0.3:6379,10.0.0.4:6379",
      REDIS_PASSWORD: "pw",
      STRATA_REPLICATION_TIMEOUT_MS: "2500",
    }).changelog!;
    assert.deepEqual(config.peers, [
      { name: "b", address: { url: "redis://10.0.0.2:6379", password: "pw" } },
      {
        name: "c",
        address: {
          clusterNodes: [
            { host: "10.0.0.3", port: 6379 },
            { host: "10.0.0.4", port: 6379 },
          ],
          password: "pw",
        },
      },
    ]);
    assert.equal(config.replicationTimeoutMs, 2_500);
  });

  it("has no peers and a 5 s deadline by default", () => {
    const config = loadServeConfig(base).changelog!;
    assert.deepEqual(config.peers, []);
    assert.equal(config.replicationTimeoutMs, 5_000);
  });

  it("refuses a bad target, a repeated name, this region as a peer, and a bad deadline", () => {
    for (const env of [
      { STRATA_PEER_REDIS: "b=http://x" },
      { STRATA_PEER_REDIS: "b=redis://x:1 b=redis://y:1" },
      { STRATA_PEER_REDIS: "a=redis://x:1" },
      { STRATA_REPLICATION_TIMEOUT_MS: "soon" },
    ]) {
      assert.throws(
        () => loadServeConfig({ ...base, ...env }),
        (e: unknown) => isStrataError(e, "STRATA_E_BAD_CONFIG"),
        JSON.stringify(env),
      );
    }
  });
});

describe('a push with wait: "replicated"', () => {
  const context = {
    registry: new FeatureRegistry(testRepo("push_replicated")),
    limits: DEFAULT_LIMITS,
    region: "a",
    hlc: () => ({ wallMs: 1, counter: 0 }),
  };
  const body = (extra: Record<string, unknown>) => ({
    push_source_name: "rider_profile",
    df: {
      rider_id: ["r1"],
      city: ["oslo"],
      score: [0.5],
      vip: [true],
      blob: [null],
      event_timestamp: [1_700_000_000_000],
    },
    ...extra,
  });

  it("passes the wait and its replication options on to the writer", () => {
    const parsed = parsePushRequest(
      body({ wait: "replicated", replication: { regions: ["b"], quorum: 1 } }),
      context,
    );
    assert.equal(parsed.wait, "replicated");
    assert.deepEqual(parsed.replication, { regions: ["b"], quorum: 1 });
  });

  it("refuses replication options without wait replicated", () => {
    assert.throws(
      () => parsePushRequest(body({ wait: "applied", replication: { quorum: 1 } }), context),
      refused("STRATA_E_BAD_REQUEST", '"replication"'),
    );
  });
});
