import assert from "node:assert/strict";
import { test } from "node:test";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import azureFunctions from "@azure/functions";
import { createHttpHandler } from "../../../functions/backfill/azure-http.js";
import { parseCommand, type BackfillResult } from "../../../functions/backfill/core.js";
import { jobSource } from "../../../functions/backfill/job.js";
import { commandOfEvent, createLambdaHandler } from "../../../functions/backfill/lambda.js";
import { StrataError } from "../../../shared/errors.js";

// @azure/functions is CommonJS: its classes come from the default import under ESM.
const { HttpRequest } = azureFunctions;

/** An API Gateway HTTP API (payload 2.0) event as AWS delivers it. */
function apiEvent(action: string, body: unknown): APIGatewayProxyEventV2 {
  return {
    version: "2.0",
    routeKey: "POST /backfill/{action}",
    rawPath: `/backfill/${action}`,
    rawQueryString: "",
    headers: { "content-type": "application/json" },
    pathParameters: { action },
    requestContext: {
      accountId: "123456789012",
      apiId: "api",
      domainName: "api.example.com",
      domainPrefix: "api",
      http: {
        method: "POST",
        path: `/backfill/${action}`,
        protocol: "HTTP/1.1",
        sourceIp: "10.0.0.1",
        userAgent: "curl",
      },
      requestId: "id",
      routeKey: "POST /backfill/{action}",
      stage: "$default",
      time: "06/Dec/2026:12:00:00 +0000",
      timeEpoch: 1_796_558_400_000,
    },
    body: Buffer.from(JSON.stringify(body)).toString("base64"),
    isBase64Encoded: true,
  };
}

const flipped = { state: { stage: "flipped" } } as unknown as BackfillResult;

test("the Lambda adapter takes the action from the path and the rest from the (base64) body", async () => {
  let seen: unknown;
  const handler = createLambdaHandler((input) => {
    seen = input;
    return Promise.resolve(flipped);
  });
  const response = await handler(
    apiEvent("start", { view: "stats@1", source: { kind: "file", path: "/data/x.parquet" } }),
  );
  assert.equal(response.statusCode, 200);
  assert.deepEqual(JSON.parse(response.body!), flipped);
  assert.deepEqual(parseCommand(seen), {
    action: "start",
    view: "stats@1",
    source: { kind: "file", path: "/data/x.parquet" },
    flip: false,
    force: false,
    graceMs: undefined,
  });
  assert.deepEqual(
    commandOfEvent({
      ...apiEvent("status", {}),
      body: undefined,
      queryStringParameters: { view: "stats@2" },
    }),
    {
      view: "stats@2",
      action: "status",
    },
  );
});

test("the Lambda adapter answers 202 while waiting and maps Strata errors to their status", async () => {
  const waiting = createLambdaHandler(() =>
    Promise.resolve({ ...flipped, waiting: "the grace period" }),
  );
  assert.equal((await waiting(apiEvent("gc", { view: "stats@1" }))).statusCode, 202);
  const refused = createLambdaHandler(() =>
    Promise.reject(new StrataError("STRATA_E_BACKFILL_LEASE_HELD", "held", { holder: "x" })),
  );
  const response = await refused(apiEvent("advance", { view: "stats@1" }));
  assert.equal(response.statusCode, 409);
  const body = JSON.parse(response.body!) as { error: { code: string } };
  assert.equal(body.error.code, "STRATA_E_BACKFILL_LEASE_HELD");
  const bad = createLambdaHandler((input) => Promise.resolve(parseCommand(input) && flipped));
  assert.equal((await bad(apiEvent("explode", { view: "stats@1" }))).statusCode, 400);
  assert.equal(
    (await bad(apiEvent("start", { view: "stats@1" }))).statusCode,
    400,
    "start needs a source",
  );
});

test("the Azure Functions v4 HTTP handler reads the route's action, the body and the query", async () => {
  let seen: unknown;
  const handler = createHttpHandler((input) => {
    seen = input;
    return Promise.resolve(flipped);
  });
  const request = new HttpRequest({
    method: "POST",
    url: "https://app.azurewebsites.net/api/backfill/flip?view=stats@1",
    params: { action: "flip" },
    body: { string: "" },
  });
  const response = await handler(request);
  assert.equal(response.status, 200);
  assert.deepEqual(parseCommand(seen).action, "flip");
  assert.deepEqual(parseCommand(seen).view, "stats@1");
  const malformed = await handler(
    new HttpRequest({
      method: "POST",
      url: "https://app/api/backfill/start",
      params: { action: "start" },
      body: { string: "{" },
    }),
  );
  assert.equal(malformed.status, 400);
});

test("the Job takes exactly one source from the environment", () => {
  assert.deepEqual(jobSource({ STRATA_BACKFILL_FILE: "/x.csv" }), { kind: "file", path: "/x.csv" });
  assert.deepEqual(jobSource({ STRATA_BACKFILL_SQL: "SELECT 1" }), {
    kind: "sql",
    sql: "SELECT 1",
  });
  assert.deepEqual(jobSource({ STRATA_BACKFILL_REPLAY: "on" }), { kind: "replay" });
  assert.throws(() => jobSource({}), /STRATA_BACKFILL_FILE/);
  assert.throws(
    () => jobSource({ STRATA_BACKFILL_FILE: "/x", STRATA_BACKFILL_SQL: "y" }),
    /exactly one/,
  );
});
