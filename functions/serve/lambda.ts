// AWS Lambda adapter (API Gateway HTTP API, payload format 2.0) for the non-latency-critical
// path: map the event onto the serving core, map the response back. No logic of its own.
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { loadServeConfig } from "./config.js";
import type { CoreRequest, CoreResponse } from "./handler.js";
import { createServeRuntime } from "./runtime.js";

type Handle = (request: CoreRequest) => Promise<CoreResponse>;

export function createLambdaHandler(handle: () => Promise<Handle>) {
  return async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    const headers: Record<string, string | undefined> = {};
    for (const [name, value] of Object.entries(event.headers ?? {}))
      headers[name.toLowerCase()] = value;
    const body =
      event.body === undefined
        ? undefined
        : event.isBase64Encoded
          ? Buffer.from(event.body, "base64")
          : event.body;
    const response = await (
      await handle()
    )({ method: event.requestContext.http.method, path: event.rawPath, headers, body });
    return {
      statusCode: response.status,
      headers: response.headers,
      body: response.body,
      isBase64Encoded: false,
    };
  };
}

// One runtime per Lambda container, created on the first invocation and reused while warm.
let runtime: Promise<Handle> | undefined;

export const handler = createLambdaHandler(() => {
  runtime ??= createServeRuntime(loadServeConfig(), (message, error) =>
    console.error(message, error),
  ).then((r) => r.handle);
  return runtime;
});
