// Azure Functions app registration (v4 model): the backfill coordinator behind an HTTP trigger,
// one bounded coordinator call per request. @azure/functions is CommonJS: take its exports from
// the default import under ESM.
import azureFunctions from "@azure/functions";
import { createHttpHandler } from "./azure-http.js";
import { loadBackfillConfig } from "./config.js";
import { handleCommand } from "./core.js";

const { app } = azureFunctions;

app.http("backfill", {
  route: "backfill/{action}",
  methods: ["GET", "POST"],
  authLevel: "function",
  handler: createHttpHandler((input) => handleCommand(loadBackfillConfig(), input)),
});
