import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { connectRedis, TOPOLOGIES, uniqueName, type RedisClient } from "../support/servers.js";

// Sets a hash field only when the incoming version is strictly greater than the stored one:
// the smallest real compare-and-set, run server-side, so the test proves Lua executes there.
const SET_IF_NEWER = `
local stored = tonumber(redis.call('HGET', KEYS[1], '_v') or '-1')
local incoming = tonumber(ARGV[1])
if incoming <= stored then return {0, stored} end
redis.call('HSET', KEYS[1], '_v', ARGV[1], 'value', ARGV[2])
return {1, incoming}
`;

type SetIfNewer = (key: string, version: number, value: string) => Promise<[number, number]>;

function setIfNewer(client: RedisClient): SetIfNewer {
  client.defineCommand("setIfNewer", { numberOfKeys: 1, lua: SET_IF_NEWER });
  const command = (client as unknown as Record<string, SetIfNewer>).setIfNewer;
  assert.ok(command);
  return command.bind(client);
}

for (const topology of TOPOLOGIES) {
  describe(`Lua scripts on real Redis (${topology})`, () => {
    let client: RedisClient;
    let run: SetIfNewer;
    const prefix = uniqueName("lua");

    before(() => {
      client = connectRedis(topology);
      run = setIfNewer(client);
    });
    after(() => client.quit());

    it("applies a newer version and rejects an older or equal one, atomically on the server", async () => {
      const key = `{${prefix}}:entity`;
      assert.deepEqual(await run(key, 5, "five"), [1, 5]);
      assert.deepEqual(await run(key, 3, "three"), [0, 5]);
      assert.deepEqual(await run(key, 5, "again"), [0, 5]);
      assert.deepEqual(await run(key, 9, "nine"), [1, 9]);
      assert.deepEqual(await client.hgetall(key), { _v: "9", value: "nine" });
    });

    it("reports the server it ran on", async () => {
      const info = await (client instanceof Redis ? client : client.nodes("master")[0]!).info(
        "server",
      );
      assert.match(info, /redis_version:\d+\.\d+/);
    });
  });
}

describe("the Redis Cluster is a real 3-master cluster", () => {
  let cluster: RedisClient;
  before(() => {
    cluster = connectRedis("cluster");
  });
  after(() => cluster.quit());

  it("spreads keys over three masters and runs each script on the node that owns the key", async () => {
    assert.ok(!(cluster instanceof Redis));
    const run = setIfNewer(cluster);
    await cluster.ping();
    const masters = cluster.nodes("master");
    assert.equal(masters.length, 3);
    const prefix = uniqueName("slots");
    const keys = Array.from({ length: 60 }, (_, i) => `{${prefix}-${i}}:entity`);
    for (const [i, key] of keys.entries()) assert.deepEqual(await run(key, 1, `v${i}`), [1, 1]);

    // Each key must exist on exactly one master, and every master must hold some of them.
    const perMaster = await Promise.all(
      masters.map(async (node) => {
        const present = await Promise.all(keys.map((key) => node.exists(key).catch(() => 0)));
        return present.filter((n) => n === 1).length;
      }),
    );
    assert.equal(
      perMaster.reduce((a, b) => a + b, 0),
      keys.length,
    );
    for (const count of perMaster)
      assert.ok(count > 0, `a master holds none of 60 keys: ${perMaster.join(",")}`);
  });
});
