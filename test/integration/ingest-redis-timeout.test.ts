// The consumer's Redis client against a half-open connection: a TCP proxy in front of the
// shared Redis stops forwarding on the connections it has (as a peer gone without a FIN
// would), while new connections go through. The chunk must fail, be retried, and be applied
// over a new connection, instead of waiting on the dead one until the group rebalances.
import assert from "node:assert/strict";
import net from "node:net";
import { after, before, describe, it } from "node:test";
import type { KafkaMessage } from "kafkajs";
import { Redis } from "ioredis";
import { resolveEndpoints } from "../../dev/stack/endpoints.js";
import { connectIngestRedis } from "../../functions/ingest/redis-client.js";
import { ChangelogApplier, encodeChangelogRecord } from "../../shared/changelog/index.js";
import { OnlineStore, type RedisClient } from "../../shared/online-store/index.js";
import { validateWrites } from "../../shared/online-store/write-path.js";
import { FeatureRegistry } from "../../shared/registry/index.js";
import { testRepo, uniqueProject } from "../support/store.js";

/** A TCP proxy to `target` whose existing connections can be frozen (nothing forwarded, nothing closed). */
async function freezableProxy(target: { host: string; port: number }) {
  const pairs: { client: net.Socket; upstream: net.Socket }[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(target);
    client.pipe(upstream);
    upstream.pipe(client);
    const closeBoth = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", closeBoth).on("close", closeBoth);
    upstream.on("error", closeBoth).on("close", closeBoth);
    pairs.push({ client, upstream });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `redis://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    /** The connections open now stop forwarding in both directions and stay open. */
    freeze: () => {
      for (const { client, upstream } of pairs.splice(0)) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
      }
    },
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

describe("the consumer's Redis client on a half-open connection", () => {
  const registry = new FeatureRegistry(testRepo(uniqueProject("halfopen")));
  const { hostname, port } = new URL(resolveEndpoints().redis.address);
  const connectionErrors: string[] = [];
  let proxy: Awaited<ReturnType<typeof freezableProxy>>;
  let client: RedisClient;
  let store: OnlineStore;

  before(async () => {
    proxy = await freezableProxy({ host: hostname, port: Number(port) });
    client = connectIngestRedis({ url: proxy.url }, 500, (error) =>
      connectionErrors.push(error.message),
    );
    store = await OnlineStore.open({ client, registry, hotCache: false });
  });
  after(async () => {
    client.disconnect();
    await proxy.close();
  });

  it("fails the stalled chunk, retries it, and applies it over a new connection", async () => {
    const write = validateWrites(registry, [
      {
        view: "stats@1",
        entity: { driver_id: 42 },
        values: { rate: 0.42, trips: 1, label: "x" },
        version: {
          eventTsMs: Date.now(),
          epoch: 0,
          hlc: { wallMs: Date.now(), counter: 0 },
          originRegion: "eu-west-1",
        },
      },
    ])[0]!;
    const record = encodeChangelogRecord(write);
    const message = {
      key: Buffer.from(record.key),
      value: Buffer.from(record.value),
      offset: "0",
      timestamp: String(Date.now()),
      attributes: 0,
      headers: {},
    } as KafkaMessage;
    const retries: string[] = [];
    const applier = new ChangelogApplier({
      store,
      reject: () => Promise.reject(new Error("nothing is rejected")),
      shouldContinue: () => true,
      onRetry: (_what, error) => retries.push((error as Error).message),
      backoffMs: { initial: 50, max: 200 },
    });
    await client.ping(); // the connection is up and goes through the proxy
    proxy.freeze();

    let guard: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      applier.apply([message], 0),
      new Promise<"stalled">((resolve) => {
        guard = setTimeout(() => resolve("stalled"), 15_000);
      }),
    ]);
    clearTimeout(guard);
    if (outcome === "stalled") assert.fail("the chunk was still waiting on the dead connection");
    assert.ok(retries.length >= 1, "the stalled attempt failed and was retried");
    assert.match(retries[0]!, /timed out|timeout/i);
    assert.equal(outcome.byView.get("stats@1")?.applied, 1);
    assert.ok(
      connectionErrors.some((m) => /timeout/i.test(m)),
      connectionErrors.join("; "),
    );

    // Read back without the proxy: the row is in the shared Redis.
    const direct = new Redis(resolveEndpoints().redis.address);
    try {
      const reader = await OnlineStore.open({ client: direct, registry, hotCache: false });
      const read = await reader.read([{ driver_id: 42 }], ["stats@1:rate"]);
      assert.equal(read.rows[0]!.values[0], 0.42);
      await reader.close();
    } finally {
      direct.disconnect();
    }
  });
});
