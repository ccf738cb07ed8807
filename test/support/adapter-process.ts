// A function adapter's exported handler (functions/serve/lambda.ts or azure.ts) loaded as its
// platform loads it, from the environment, in a process of its own, so that its module-level
// runtime lives and dies with that process. One request per stdin line (the body of a
// /get-online-features call, with the API key in STRATA_TEST_KEY), one answer per stdout line.
import { createInterface } from "node:readline";
import azureFunctions from "@azure/functions";
import type { APIGatewayProxyEventV2 } from "aws-lambda";

const { HttpRequest, InvocationContext } = azureFunctions;
const adapter = process.argv[2];
const key = process.env.STRATA_TEST_KEY ?? "";

async function call(body: string): Promise<{ status: number; body: string }> {
  if (adapter === "lambda") {
    const { handler } = await import("../../functions/serve/lambda.js");
    const event = {
      version: "2.0",
      routeKey: "POST /get-online-features",
      rawPath: "/get-online-features",
      rawQueryString: "",
      headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
      requestContext: { http: { method: "POST", path: "/get-online-features" } },
      body,
      isBase64Encoded: false,
    } as unknown as APIGatewayProxyEventV2;
    const result = await handler(event);
    return { status: result.statusCode ?? 0, body: result.body ?? "" };
  }
  const { handler } = await import("../../functions/serve/azure.js");
  const response = await handler(
    new HttpRequest({
      method: "POST",
      url: "http://localhost:7071/api/get-online-features",
      headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
      body: { string: body },
    }),
    new InvocationContext({ functionName: "getOnlineFeatures" }),
  );
  return { status: response.status ?? 0, body: response.body as string };
}

for await (const line of createInterface({ input: process.stdin })) {
  if (line === "exit") process.exit(0);
  const answer = await call(line).catch((error: unknown) => ({
    status: -1,
    body: `the adapter threw: ${String(error)}`,
  }));
  process.stdout.write(`${JSON.stringify(answer)}\n`);
}
