// AWS Lambda adapter (API Gateway HTTP API, payload format 2.0) for the non-latency-critical
// path: map the event onto the serving core, map the response back. No logic of its own.
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { loadServeConfig } from "./config.js";
import { createServeRuntime } from "./runtime.js";
import { startOnDemand, type Handle } from "./start-on-demand.js";

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

const logError = (message: string, error: unknown) => console.error(message, error);

// One runtime per Lambda container, created on the first invocation and reused while warm; a
// failed start is retried by the next invocation (start-on-demand.ts).
export const handler = createLambdaHandler(
  startOnDemand(() => createServeRuntime(loadServeConfig(), logError), logError)((r) => r.handle),
);
