// The writer when Kafka cannot take its writes: unreachable (every wait ends by its deadline) or
// refusing a record for good (the affected writes fail at once, the queue moves on).
import assert from "node:assert/strict";
import net from "node:net";
import { after, before, describe, it } from "node:test";
import kafkajs, { type ISocketFactory, type Kafka } from "kafkajs";
import { resolveEndpoints } from "../../dev/stack/endpoints.js";
import { createServeHandler } from "../../functions/serve/handler.js";
import { ServeMetrics } from "../../functions/serve/metrics.js";
import { DEFAULT_LIMITS } from "../../functions/serve/config.js";
import { ChangelogWriter } from "../../shared/changelog/index.js";
import { isStrataError, type ErrorCode, type StrataError } from "../../shared/errors.js";
import type { WriteRow } from "../../shared/online-store/index.js";
import { FeatureRegistry, LiveRegistry } from "../../shared/registry/index.js";
import { changelogFixture, type ChangelogFixture } from "../support/changelog.js";
import { openStore, testRepo, uniqueProject, type OpenedStore } from "../support/store.js";

const { Kafka: KafkaClient, logLevel, ConfigResourceTypes } = kafkajs;

const version = (counter: number) => ({
  eventTsMs: Date.now(),
  epoch: 0,
  hlc: { wallMs: Date.now(), counter },
  originRegion: "eu-west-1",
});
const standardRow = (driver: number, label = "x"): WriteRow => ({
  view: "stats@1",
  entity: { driver_id: driver },
  values: { rate: 0.5, trips: 1, label },
  version: version(driver),
});
const criticalRow = (rider: string, blob: Buffer | null = null): WriteRow => ({
  view: "rider_profile",
  entity: { rider_id: rider, city: "oslo" },
  values: { score: 1.5, vip: true, blob },
  version: version(1),
});

/** A port on loopback that nothing listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * A kafkajs client of the real broker whose connections can be cut: from then on every
 * connection it opens goes to a closed port on loopback. The shared broker is never touched.
 */
async function cuttableKafka(): Promise<{ kafka: Kafka; cut: () => void }> {
  const deadPort = await closedPort();
  const sockets = new Set<net.Socket>();
  let down = false;
  const socketFactory: ISocketFactory = ({ host, port, onConnect }) => {
    const socket = down
      ? net.connect({ host: "127.0.0.1", port: deadPort }, onConnect)
      : net.connect({ host, port }, onConnect);
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    return socket;
  };
  const kafka = new KafkaClient({
    clientId: "strata-test-cut",
    brokers: resolveEndpoints().kafka.address,
    socketFactory,
    logLevel: logLevel.NOTHING,
  });
  return {
    kafka,
    cut: () => {
      down = true;
      for (const socket of sockets) socket.destroy();
    },
  };
}

const failsWith =
  (code: ErrorCode, check: (e: StrataError) => boolean = () => true) =>
  (error: unknown) =>
    isStrataError(error, code) && check(error);

describe("the changelog writer while Kafka is unreachable", () => {
  const registry = new FeatureRegistry(testRepo(uniqueProject("unreachable")));
  const DEADLINE_MS = 1_500;
  let changelog: ChangelogFixture;
  let opened: OpenedStore;
  let writer: ChangelogWriter;

  before(async () => {
    changelog = await changelogFixture(registry);
    opened = await openStore("standalone", registry, { hotCache: false });
    const { kafka, cut } = await cuttableKafka();
    writer = await ChangelogWriter.open({
      kafka,
      registry,
      store: opened.store,
      ackTimeoutMs: DEADLINE_MS,
      queue: { lingerMs: 5 },
    });
    await writer.write([standardRow(1)], { wait: "acked" }); // connected and working
    cut();
  });
  after(async () => {
    await writer.close(200);
    await opened.close();
    await changelog.cleanup();
  });

  /** The call's outcome and how long it took; fails the test if it takes far past the deadline. */
  async function timed(call: Promise<unknown>): Promise<{ error: unknown; ms: number }> {
    const started = performance.now();
    let guard: NodeJS.Timeout | undefined;
    const error = await Promise.race([
      call.then(
        () => new Error("the write succeeded"),
        (e: unknown) => e,
      ),
      new Promise((resolve) => {
        guard = setTimeout(() => resolve(new Error("still waiting 10 s later")), 10_000);
      }),
    ]);
    clearTimeout(guard);
    return { error, ms: performance.now() - started };
  }

  const mayStillBeWritten = (e: StrataError) =>
    e.status === 503 && e.details.mayStillBeWritten === true && e.details.timeoutMs === DEADLINE_MS;

  for (const [what, rows, wait] of [
    ["a standard write waiting for acked", [standardRow(2)], "acked"],
    ["a standard write waiting for applied", [standardRow(3)], "applied"],
    ["a critical write", [criticalRow("r1")], "enqueued"],
    ["a critical write waiting for applied", [criticalRow("r2")], "applied"],
  ] as const) {
    it(`answers ${what} with STRATA_E_CHANGELOG_UNAVAILABLE by its deadline`, async () => {
      const { error, ms } = await timed(writer.write([...rows], { wait }));
      assert.ok(
        failsWith("STRATA_E_CHANGELOG_UNAVAILABLE", mayStillBeWritten)(error),
        String(error),
      );
      assert.ok(ms >= DEADLINE_MS - 50 && ms < DEADLINE_MS + 1_500, `answered after ${ms} ms`);
    });
  }

  it("answers POST /push with wait acked 503 by the deadline, saying the write may still be written", async () => {
    const handle = createServeHandler({
      store: opened.store,
      registry: LiveRegistry.fixed(registry),
      verifier: null,
      limits: DEFAULT_LIMITS,
      metrics: new ServeMetrics(() => opened.store.stats()),
      isReady: () => Promise.resolve(true),
      isShuttingDown: () => false,
      push: { writer, region: "test", hlc: () => ({ wallMs: Date.now(), counter: 0 }) },
      logError: () => undefined,
    });
    const started = performance.now();
    const response = await handle({
      method: "POST",
      path: "/push",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        push_source_name: "driver_stats_push",
        df: {
          driver_id: [7],
          rate: [0.1],
          trips: [1],
          label: ["a"],
          tags: [["t"]],
          event_timestamp: [Date.now()],
        },
        wait: "acked",
      }),
    });
    const ms = performance.now() - started;
    assert.equal(response.status, 503, response.body);
    const { error } = JSON.parse(response.body) as {
      error: { code: string; message: string; details: Record<string, unknown> };
    };
    assert.equal(error.code, "STRATA_E_CHANGELOG_UNAVAILABLE");
    assert.equal(error.details.mayStillBeWritten, true);
    assert.match(error.message, /may still be written/);
    assert.ok(ms < DEADLINE_MS + 1_500, `answered after ${ms} ms`);
  });
});

describe("the changelog writer when Kafka refuses a record as too large, on the real Kafka", () => {
  const registry = new FeatureRegistry(testRepo(uniqueProject("toolarge")));
  let changelog: ChangelogFixture;
  let writer: ChangelogWriter;

  before(async () => {
    changelog = await changelogFixture(registry);
    // Records of these rows are about 300 bytes; a batch of them stays far below 4 KB.
    await changelog.admin.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: ConfigResourceTypes.TOPIC,
          name: changelog.topic,
          configEntries: [{ name: "max.message.bytes", value: "4096" }],
        },
      ],
    });
    writer = await ChangelogWriter.open({
      kafka: changelog.kafka,
      registry,
      ackTimeoutMs: 20_000,
      queue: { lingerMs: 5 },
    });
  });
  after(async () => {
    await writer.close(1_000);
    await changelog.cleanup();
  });

  const produced = async (before: Map<number, number>) =>
    [...(await changelog.endOffsets())].reduce((n, [p, end]) => n + end - before.get(p)!, 0);

  it("fails a standard write with a record over max.message.bytes at once, and writes the rest of its batch", async () => {
    const before = await changelog.endOffsets();
    const started = performance.now();
    await assert.rejects(
      writer.write([standardRow(1), standardRow(2, "x".repeat(10_000)), standardRow(3)], {
        wait: "acked",
      }),
      failsWith("STRATA_E_RECORD_TOO_LARGE", (e) => e.status === 413),
    );
    assert.ok(performance.now() - started < 5_000, "refused at once, not at the deadline");
    await writer.flush();
    assert.equal(await produced(before), 2, "the two rows of normal size were written");
    assert.equal(writer.stats().recordsRefused, 1);
  });

  it("keeps the queue moving: the next standard write is acknowledged", async () => {
    const before = await changelog.endOffsets();
    const result = await writer.write([standardRow(4)], { wait: "acked" });
    assert.equal(result.reached, "acked");
    assert.equal(await produced(before), 1);
  });

  it("fails a critical write with a record too large at once, and only that one", async () => {
    const before = await changelog.endOffsets();
    const started = performance.now();
    const [big, small] = await Promise.allSettled([
      writer.write([criticalRow("big", Buffer.alloc(10_000, 1))]),
      writer.write([criticalRow("small")]),
    ]);
    assert.ok(performance.now() - started < 5_000, "refused at once, not at the deadline");
    assert.equal(big.status, "rejected");
    assert.ok(failsWith("STRATA_E_RECORD_TOO_LARGE")(big.reason));
    assert.equal(small.status, "fulfilled");
    assert.equal(await produced(before), 1);
  });
});
