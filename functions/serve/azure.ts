// Azure Functions app registration: the routes of the serving core as HTTP triggers.
// @azure/functions is CommonJS: take its exports from the default import under ESM.
import azureFunctions from "@azure/functions";
import { createAzureHandler } from "./azure-handler.js";
import { loadServeConfig } from "./config.js";
import type { CoreRequest, CoreResponse } from "./handler.js";
import { createServeRuntime } from "./runtime.js";

const { app } = azureFunctions;

let runtime: Promise<(request: CoreRequest) => Promise<CoreResponse>> | undefined;
const handler = createAzureHandler(() => {
  runtime ??= createServeRuntime(loadServeConfig(), (message, error) =>
    console.error(message, error),
  ).then((r) => r.handle);
  return runtime;
});

app.http("getOnlineFeatures", {
  route: "get-online-features",
  methods: ["POST"],
  authLevel: "anonymous",
  handler,
});
app.http("health", { route: "health", methods: ["GET"], authLevel: "anonymous", handler });
app.http("ready", { route: "ready", methods: ["GET"], authLevel: "anonymous", handler });
