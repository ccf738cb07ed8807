import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import azureFunctions from "@azure/functions";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import repo from "../../examples/feature-repo.js";
import { createAzureHandler } from "../../functions/serve/azure-handler.js";
import { createLambdaHandler } from "../../functions/serve/lambda.js";
import { FeatureRegistry } from "../../shared/registry/index.js";
import { post, startTestServer, type TestServer } from "../support/serve.js";

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
