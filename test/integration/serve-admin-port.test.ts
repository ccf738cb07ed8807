import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { resolveEndpoints } from "../../dev/stack/endpoints.js";
import { repoRoot } from "../../dev/stack/paths.js";
import exampleRepo from "../../examples/feature-repo.js";
import { generateApiKey } from "../../functions/serve/auth.js";
import { definitionHash } from "../../shared/registry/index.js";
import { openRequestInFlight } from "../support/serve-process.js";
import { post } from "../support/serve.js";
import { waitFor } from "../support/store.js";

const ADMIN_PATHS = ["/health", "/ready", "/metrics"];

describe("the serving process: feature API and admin endpoints on separate ports", () => {
  const { key, record } = generateApiKey("admin-port-test");
  let child: ChildProcess;
  let exited: Promise<number | null>;
  let output = "";
  let url: string;
  let adminUrl: string;

  before(async () => {
    child = spawn(process.execPath, ["--import", "tsx", "functions/serve/main.ts"], {
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
        KAFKA_BROKERS: "",
      },
      stdio: ["ignore", "pipe", "inherit"],
    });
    exited = new Promise((resolve) => child.once("exit", resolve));
    child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    await waitFor(() => output.includes('"serving"'), 30_000, "server start");
    const line = JSON.parse(output.split("\n").find((l) => l.includes('"serving"'))!) as {
      url: string;
      adminUrl: string;
    };
    url = line.url;
    adminUrl = line.adminUrl;
  });
  after(() => {
    if (child.exitCode === null) child.kill("SIGKILL");
  });

  it("serves the feature API on the public port and 404 for the admin paths there", async () => {
    assert.notEqual(new URL(url).port, new URL(adminUrl).port);
    const read = await post(
      url,
      { features: ["driver_hourly_stats:conv_rate"], entities: { driver_id: [1001] } },
      { key },
    );
    assert.equal(read.status, 200);
    for (const path of ADMIN_PATHS) {
      const response = await fetch(`${url}${path}`);
      assert.equal(response.status, 404, path);
      assert.equal(
        ((await response.json()) as { error: { code: string } }).error.code,
        "STRATA_E_ROUTE_NOT_FOUND",
      );
    }
  });

  it("serves health, readiness and metrics on the admin port, and no feature API", async () => {
    assert.deepEqual(await (await fetch(`${adminUrl}/health`)).json(), { status: "ok" });
    // The registry served: the STRATA_REPO file, version 0, named by its content hash.
    assert.deepEqual(await (await fetch(`${adminUrl}/ready`)).json(), {
      status: "ready",
      registry: {
        version: 0,
        hash: definitionHash(exampleRepo),
        origin: "file:examples/feature-repo.ts",
      },
    });
    const metrics = await (await fetch(`${adminUrl}/metrics`)).text();
    assert.match(
      metrics,
      new RegExp(`^strata_registry_version\\{project="${exampleRepo.project}"\\} 0$`, "m"),
    );
    assert.match(
      metrics,
      new RegExp(
        `^strata_registry_info\\{project="${exampleRepo.project}",version="0",hash="${definitionHash(exampleRepo)}"\\} 1$`,
        "m",
      ),
    );
    assert.match(
      metrics,
      /strata_http_request_duration_seconds_count\{route="\/get-online-features",method="POST",status="200"\} [1-9]/,
      "the public port's requests are counted in the admin port's metrics",
    );
    const read = await post(
      adminUrl,
      { features: ["driver_hourly_stats:conv_rate"], entities: { driver_id: [1001] } },
      { key },
    );
    assert.equal(read.status, 404);
    assert.equal((await post(adminUrl, {}, { key, path: "/push" })).status, 404);
  });

  it("on SIGTERM keeps the admin port answering /ready 503 while requests drain", async () => {
    // A request in flight: headers and part of the body sent.
    const inFlight = await openRequestInFlight(new URL(url), key);

    child.kill("SIGTERM");
    await waitFor(() => output.includes('"shutting down"'), 5_000, "shutdown begins");
    const ready = await fetch(`${adminUrl}/ready`);
    assert.equal(ready.status, 503);
    assert.equal(((await ready.json()) as { status: string }).status, "shutting down");

    inFlight.finish();
    await waitFor(() => /\r\n\r\n.*\}/s.test(inFlight.response()), 5_000, "in-flight response");
    assert.match(inFlight.response(), /^HTTP\/1\.1 200 /);
    inFlight.close();
    assert.equal(await exited, 0);
  });
});
