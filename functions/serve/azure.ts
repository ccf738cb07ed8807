// Azure Functions app registration: the routes of the serving core as HTTP triggers.
// @azure/functions is CommonJS: take its exports from the default import under ESM.
import azureFunctions from "@azure/functions";
import { createAzureHandler } from "./azure-handler.js";
import { loadServeConfig } from "./config.js";
import { createServeRuntime } from "./runtime.js";
import { startOnDemand } from "./start-on-demand.js";

const { app } = azureFunctions;

const logError = (message: string, error: unknown) => console.error(message, error);

// One runtime per instance, started on the first call of either handler; a failed start is
// retried by the next call (start-on-demand.ts).
const runtime = startOnDemand(() => createServeRuntime(loadServeConfig(), logError), logError);
export const handler = createAzureHandler(runtime((r) => r.handle));
// The platform's health checks: the admin surface, of which only these two routes are registered.
const healthHandler = createAzureHandler(runtime((r) => r.handleAdmin));

app.http("getOnlineFeatures", {
  route: "get-online-features",
  methods: ["POST"],
  authLevel: "anonymous",
  handler,
});
app.http("health", {
  route: "health",
  methods: ["GET"],
  authLevel: "anonymous",
  handler: healthHandler,
});
app.http("ready", {
  route: "ready",
  methods: ["GET"],
  authLevel: "anonymous",
  handler: healthHandler,
});
