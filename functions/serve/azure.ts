// Azure Functions app registration: the routes of the serving core as HTTP triggers.
// @azure/functions is CommonJS: take its exports from the default import under ESM.
import azureFunctions from "@azure/functions";
import { createAzureHandler } from "./azure-handler.js";
import { loadServeConfig } from "./config.js";
import { createServeRuntime, type ServeRuntime } from "./runtime.js";

const { app } = azureFunctions;

let runtime: Promise<ServeRuntime> | undefined;
const serveRuntime = () =>
  (runtime ??= createServeRuntime(loadServeConfig(), (message, error) =>
    console.error(message, error),
  ));
const handler = createAzureHandler(() => serveRuntime().then((r) => r.handle));
// The platform's health checks: the admin surface, of which only these two routes are registered.
const healthHandler = createAzureHandler(() => serveRuntime().then((r) => r.handleAdmin));

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
