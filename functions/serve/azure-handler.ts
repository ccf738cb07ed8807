// Azure Functions (v4 programming model) handler for the non-latency-critical path: map the
// HttpRequest onto the serving core, map the response back. Registered in azure.ts.
import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import type { CoreRequest, CoreResponse } from "./handler.js";

type Handle = (request: CoreRequest) => Promise<CoreResponse>;

/** `routePrefix` is the host's (default "api"): the core sees Feast's paths without it. */
export function createAzureHandler(handle: () => Promise<Handle>, routePrefix = "/api") {
  return async (request: HttpRequest, _context: InvocationContext): Promise<HttpResponseInit> => {
    const headers: Record<string, string | undefined> = {};
    request.headers.forEach((value, name) => (headers[name.toLowerCase()] = value));
    const url = new URL(request.url);
    const path = url.pathname.startsWith(routePrefix)
      ? url.pathname.slice(routePrefix.length) || "/"
      : url.pathname;
    const body = request.body ? Buffer.from(await request.arrayBuffer()) : undefined;
    const response = await (await handle())({ method: request.method, path, headers, body });
    return { status: response.status, headers: response.headers, body: response.body };
  };
}
