// AWS Lambda adapter: invoked by API Gateway (HTTP API, payload 2.0) on
// POST /backfill/{action} with a JSON body {"view", "source"?, "flip"?, "force"?} (or
// GET /backfill/status?view=...). Each invocation is one bounded, stateless coordinator call;
// the state lives in Redis (docs/backfill.md).
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { isStrataError, StrataError } from "../../shared/errors.js";
import { loadBackfillConfig } from "./config.js";
import { handleCommand, type BackfillResult } from "./core.js";

export type RunCommand = (input: unknown) => Promise<BackfillResult>;

/** The command an API Gateway event asks for: the action from the path, the rest from the body. */
export function commandOfEvent(event: APIGatewayProxyEventV2): unknown {
  const action = event.pathParameters?.action ?? event.rawPath.split("/").pop();
  let body: Record<string, unknown> = {};
  if (event.body) {
    const text = event.isBase64Encoded
      ? Buffer.from(event.body, "base64").toString("utf8")
      : event.body;
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      throw new StrataError("STRATA_E_MALFORMED_JSON", "the body is not valid JSON", {});
    }
  }
  return { ...body, view: body.view ?? event.queryStringParameters?.view, action };
}

export function createLambdaHandler(run: RunCommand) {
  return async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    try {
      const result = await run(commandOfEvent(event));
      return {
        statusCode: result.waiting ? 202 : 200,
        headers: { "content-type": "application/json" },
        body: JSON.stringify(result),
      };
    } catch (error) {
      if (!isStrataError(error)) throw error;
      return {
        statusCode: error.status,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ error: error.toJSON() }),
      };
    }
  };
}

export const handler = createLambdaHandler((input) => handleCommand(loadBackfillConfig(), input));
