// Azure Functions app registration: drift evaluation on a timer (NCRONTAB in
// STRATA_DRIFT_SCHEDULE, hourly by default), over the same run as the CLI.
// @azure/functions is CommonJS: take its exports from the default import under ESM.
import azureFunctions from "@azure/functions";
import { createTimerHandler } from "./azure-timer.js";
import { loadDriftConfig } from "./config.js";
import { runDriftCheck } from "./drift-run.js";

const { app } = azureFunctions;

app.timer("drift", {
  schedule: process.env.STRATA_DRIFT_SCHEDULE ?? "0 5 * * * *",
  runOnStartup: false,
  handler: createTimerHandler(() => runDriftCheck(loadDriftConfig())),
});
