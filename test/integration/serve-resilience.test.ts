import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import net from "node:net";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { resolveEndpoints } from "../../dev/stack/endpoints.js";
import { repoRoot } from "../../dev/stack/paths.js";
import { generateApiKey } from "../../functions/serve/auth.js";
import { OnlineStore } from "../../shared/online-store/index.js";
import { FeatureRegistry } from "../../shared/registry/index.js";
import { HybridLogicalClock } from "../../shared/versions/index.js";
import { startStandalone } from "../support/redis-process.js";
import { openRequestInFlight } from "../support/serve-process.js";
import { post, startTestServer, type TestServer } from "../support/serve.js";
import { testRepo, uniqueProject, waitFor } from "../support/store.js";

describe("serving when Redis goes down", () => {
  const registry = new FeatureRegistry(testRepo(uniqueProject("down")));
  let redis: Awaited<ReturnType<typeof startStandalone>>;
  let server: TestServer;

  before(async () => {
    redis = await startStandalone();
    const client = new Redis(redis.url);
    const writer = await OnlineStore.open({ client, registry, hotCache: false });
    const clock = new HybridLogicalClock();
    await writer.write(
      [1, 2].map((driver_id) => ({
        view: "stats@1",
        entity: { driver_id },
        values: { rate: driver_id / 10, trips: driver_id, label: "x" },
        version: { eventTsMs: Date.now(), epoch: 0, hlc: clock.now(), originRegion: "us-east-1" },
      })),
    );
    await writer.close();
    client.disconnect();
    server = await startTestServer(registry, { redisUrl: redis.url });
  });
  after(async () => {
    await server.close();
    await redis.stop();
  });

  it("serves what the hot cache held, marked degraded, and 503 for the rest", async () => {
    const ask = (driver_id: number) =>
      post(
        server.url,
        { features: ["stats@1:rate"], entities: { driver_id: [driver_id] } },
        { key: server.key },
      );
    assert.equal((await ask(1)).status, 200); // now cached
    await redis.server.kill();
    await waitFor(() => !server.runtime.store.invalidationArmed, 5_000, "the store notices");

    const cached = await ask(1);
    assert.equal(cached.status, 200);
    assert.deepEqual((cached.json.results as { values: unknown[] }[])[1]!.values, [0.1]);
    const strata = cached.json.strata as { degraded: number[]; reason: string };
    assert.deepEqual(strata.degraded, [0]);
    assert.equal(strata.reason, "redis_unavailable");

    const uncached = await ask(2);
    assert.equal(uncached.status, 503);
    assert.equal((uncached.json.error as { code: string }).code, "STRATA_E_REDIS_UNAVAILABLE");
    assert.doesNotMatch(uncached.text, /ECONNREFUSED|Stream|\n\s+at /, "no internals");
    assert.equal((await fetch(`${server.adminUrl}/ready`)).status, 503);
    assert.ok(
      (await (await fetch(`${server.adminUrl}/metrics`)).text()).match(
        /strata_redis_errors_total [1-9]/,
      ),
    );
  });
});

describe("graceful shutdown of the serving process", () => {
  it("on SIGTERM stops accepting, finishes the request in flight, and exits 0", async () => {
    const { key, record } = generateApiKey("shutdown-test");
    const child = spawn(process.execPath, ["--import", "tsx", "functions/serve/main.ts"], {
      cwd: repoRoot,
      env: {
        ...process.env,
        STRATA_REPO: "examples/feature-repo.ts",
        REDIS_URL: resolveEndpoints().redis.address,
        STRATA_HOST: "127.0.0.1",
        STRATA_PORT: "0",
        STRATA_ADMIN_PORT: "0",
        STRATA_API_KEYS: JSON.stringify([record]),
        STRATA_SHUTDOWN_GRACE_MS: "5000",
      },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    await waitFor(() => output.includes('"serving"'), 30_000, "server start");
    const url = new URL(
      (JSON.parse(output.split("\n").find((l) => l.includes('"serving"'))!) as { url: string }).url,
    );

    // A request in flight: headers and half the body sent.
    const inFlight = await openRequestInFlight(url, key);

    child.kill("SIGTERM");
    await waitFor(() => output.includes('"shutting down"'), 5_000, "shutdown begins");
    // No new connections once it is shutting down.
    const refused = await new Promise<boolean>((resolve) => {
      const probe = net.connect(Number(url.port), url.hostname);
      probe.once("connect", () => {
        probe.destroy();
        resolve(false);
      });
      probe.once("error", () => resolve(true));
    });
    assert.ok(refused, "a new connection was accepted during shutdown");

    // The request in flight still completes.
    inFlight.finish();
    await waitFor(
      () => inFlight.response().includes("\r\n\r\n") && inFlight.response().includes("}"),
      5_000,
      "in-flight response",
    );
    assert.match(inFlight.response(), /^HTTP\/1\.1 200 /);
    assert.equal(await exited, 0);
    assert.ok(output.includes('"stopped"'));
    inFlight.close();
  });
});
