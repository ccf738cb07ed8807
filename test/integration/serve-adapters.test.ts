import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { after, before, describe, it } from "node:test";
import azureFunctions from "@azure/functions";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import repo from "../../examples/feature-repo.js";
import { createAzureHandler } from "../../functions/serve/azure-handler.js";
import { createLambdaHandler } from "../../functions/serve/lambda.js";
import { repoRoot } from "../../dev/stack/paths.js";
import { isPortFree } from "../../dev/stack/processes.js";
import { generateApiKey } from "../../functions/serve/auth.js";
import { FeatureRegistry } from "../../shared/registry/index.js";
import { RedisProcess } from "../support/redis-process.js";
import { post, startTestServer, type TestServer } from "../support/serve.js";
import { uniqueProject } from "../support/store.js";

// @azure/functions is CommonJS: its classes come through the default import under ESM.
const { HttpRequest, InvocationContext } = azureFunctions;

/** An API Gateway HTTP API (payload 2.0) event, in the shape AWS documents. */
function apiGatewayEvent(body: string, key: string): APIGatewayProxyEventV2 {
  return {
    version: "2.0",
    routeKey: "POST /get-online-features",
    rawPath: "/get-online-features",
    rawQueryString: "",
    headers: {
      "content-type": "application/json",
      authorization: `Bearer ${key}`,
      host: "abc123.execute-api.us-east-1.amazonaws.com",
    },
    requestContext: {
      accountId: "123456789012",
      apiId: "abc123",
      domainName: "abc123.execute-api.us-east-1.amazonaws.com",
      domainPrefix: "abc123",
      http: {
        method: "POST",
        path: "/get-online-features",
        protocol: "HTTP/1.1",
        sourceIp: "192.0.2.1",
        userAgent: "curl/8.5.0",
      },
      requestId: "JKJaXmPLvHcESHA=",
      routeKey: "POST /get-online-features",
      stage: "$default",
      time: "26/Nov/2026:10:00:00 +0000",
      timeEpoch: 1795686000000,
    },
    body: Buffer.from(body).toString("base64"),
    isBase64Encoded: true,
  };
}

describe("function adapters call the same serving core", () => {
  const registry = new FeatureRegistry(repo);
  const body = JSON.stringify({
    features: ["driver_hourly_stats:conv_rate"],
    entities: { driver_id: [1001, 42] },
  });
  let server: TestServer;
  let expected: string;

  before(async () => {
    server = await startTestServer(registry);
    expected = (await post(server.url, null, { key: server.key, raw: body })).text;
  });
  after(() => server.close());

  it("AWS Lambda: an API Gateway v2 event gets the HTTP server's answer", async () => {
    const handler = createLambdaHandler(() => Promise.resolve(server.runtime.handle));
    const result = await handler(apiGatewayEvent(body, server.key));
    assert.equal(result.statusCode, 200);
    assert.equal(result.headers?.["content-type"], "application/json");
    assert.deepEqual(JSON.parse(result.body!), JSON.parse(expected));

    const unauthorised = await handler(apiGatewayEvent(body, "wrong"));
    assert.equal(unauthorised.statusCode, 401);
  });

  it("Azure Functions v4: an HttpRequest gets the HTTP server's answer", async () => {
    const handler = createAzureHandler(() => Promise.resolve(server.runtime.handle));
    const request = new HttpRequest({
      method: "POST",
      url: "http://localhost:7071/api/get-online-features",
      headers: { "content-type": "application/json", authorization: `Bearer ${server.key}` },
      body: { string: body },
    });
    const response = await handler(
      request,
      new InvocationContext({ functionName: "getOnlineFeatures" }),
    );
    assert.equal(response.status, 200);
    assert.deepEqual(JSON.parse(response.body as string), JSON.parse(expected));

    // The route prefix is stripped: the core routes the path (and answers a GET with 405).
    const wrongMethod = await handler(
      new HttpRequest({ method: "GET", url: "http://localhost:7071/api/get-online-features" }),
      new InvocationContext(),
    );
    assert.equal(wrongMethod.status, 405);
    // A function is public: it serves the feature API, never metrics or health.
    const metrics = await handler(
      new HttpRequest({ method: "GET", url: "http://localhost:7071/api/metrics" }),
      new InvocationContext(),
    );
    assert.equal(metrics.status, 404);
  });
});

describe("function adapters retry a failed start-up on the next call", () => {
  const { key, record } = generateApiKey("cold-start");
  const body = JSON.stringify({ features: ["stats:rate"], entities: { driver_id: [1] } });
  let port = 0;
  let dir = "";
  let redis: RedisProcess | undefined;

  before(async () => {
    for (let attempt = 0; attempt < 50 && port === 0; attempt++) {
      const candidate = 26_000 + Math.floor(Math.random() * 4_000);
      if (await isPortFree(candidate, "127.0.0.1")) port = candidate;
    }
    assert.ok(port > 0, "no free port");
    dir = mkdtempSync(path.join(tmpdir(), "strata-cold-start-"));
  });
  after(async () => {
    await redis?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The adapter's exported handler in a process of its own, configured as its platform would. */
  const startAdapter = (adapter: "lambda" | "azure") => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "test/support/adapter-process.ts", adapter],
      {
        cwd: repoRoot,
        env: {
          ...process.env,
          STRATA_REPO: "test/support/test-repo-module.ts",
          STRATA_TEST_PROJECT: uniqueProject(`cold_${adapter}`),
          REDIS_URL: `redis://127.0.0.1:${port}`,
          REDIS_CLUSTER_NODES: undefined,
          KAFKA_BROKERS: undefined,
          STRATA_AUTH: undefined,
          STRATA_API_KEYS_FILE: undefined,
          STRATA_API_KEYS: JSON.stringify([record]),
          STRATA_TEST_KEY: key,
        },
        stdio: ["pipe", "pipe", "ignore"],
      },
    );
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    return {
      call: async () => {
        child.stdin.write(`${body}\n`);
        const line = await lines.next();
        assert.ok(!line.done, `the ${adapter} adapter process exited`);
        return JSON.parse(line.value) as { status: number; body: string };
      },
      stop: async () => {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.stdin.write("exit\n");
        await exited;
      },
    };
  };

  it("AWS Lambda and Azure Functions: 503 while Redis is down at start-up, then served once it is up", async () => {
    const adapters = [startAdapter("lambda"), startAdapter("azure")];
    try {
      // Nothing listens on the port: the first start-up fails (after the store's connect wait).
      const first = await Promise.all(adapters.map((a) => a.call()));
      for (const answer of first) {
        assert.equal(answer.status, 503, answer.body);
        assert.equal(
          (JSON.parse(answer.body) as { error: { code: string } }).error.code,
          "STRATA_E_NOT_READY",
        );
        assert.doesNotMatch(answer.body, /ECONNREFUSED|127\.0\.0\.1/, "no internals");
      }
      redis = new RedisProcess(port, dir);
      await redis.start();
      const second = await Promise.all(adapters.map((a) => a.call()));
      for (const answer of second) {
        assert.equal(answer.status, 200, answer.body);
        assert.deepEqual(
          (JSON.parse(answer.body) as { metadata: { feature_names: string[] } }).metadata
            .feature_names,
          ["driver_id", "rate"],
        );
      }
    } finally {
      await Promise.all(adapters.map((a) => a.stop()));
    }
  });
});
