import type { HttpRequest, HttpResponseInit } from "@azure/functions";
import { isStrataError, StrataError } from "../../shared/errors.js";
import type { RunCommand } from "./lambda.js";

/**
 * The Azure Functions v4 HTTP handler: POST /api/backfill/{action} with a JSON body, or
 * GET /api/backfill/status?view=...; the same command as the Lambda's.
 */
export function createHttpHandler(run: RunCommand) {
  return async (
    request: Pick<HttpRequest, "params" | "query" | "text">,
  ): Promise<HttpResponseInit> => {
    try {
      const text = await request.text();
      let body: Record<string, unknown> = {};
      if (text) {
        try {
          body = JSON.parse(text) as Record<string, unknown>;
        } catch {
          throw new StrataError("STRATA_E_MALFORMED_JSON", "the body is not valid JSON", {});
        }
      }
      const result = await run({
        ...body,
        view: body.view ?? request.query.get("view") ?? undefined,
        action: request.params.action,
      });
      return { status: result.waiting ? 202 : 200, jsonBody: result };
    } catch (error) {
      if (!isStrataError(error)) throw error;
      return { status: error.status, jsonBody: { error: error.toJSON() } };
    }
  };
}
