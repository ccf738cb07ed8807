// Azure Functions app registration: reconciliation on a timer (NCRONTAB in
// STRATA_RECONCILE_SCHEDULE, every 15 minutes by default), over the same job as the CLI.
// @azure/functions is CommonJS: take its exports from the default import under ESM.
import azureFunctions from "@azure/functions";
import { createTimerHandler } from "./azure-timer.js";
import { loadReconcileConfig } from "./config.js";
import { runReconcileJob } from "./job.js";

const { app } = azureFunctions;

app.timer("reconcile", {
  schedule: process.env.STRATA_RECONCILE_SCHEDULE ?? "0 */15 * * * *",
  // A run missed while the host was down is not worth two back to back.
  runOnStartup: false,
  handler: createTimerHandler(() =>
    runReconcileJob(loadReconcileConfig(), {
      log: (level, message) => console.error(level, message),
    }),
  ),
});
