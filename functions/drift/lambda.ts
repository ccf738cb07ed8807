// AWS Lambda adapter: an EventBridge scheduled rule invokes `handler` with a "Scheduled Event";
// it runs one drift evaluation with the configuration from the environment (./config.ts), logs
// the report (CloudWatch keeps it) and returns its summary. A failed run (Prometheus, Redis,
// the claim place, Argo) fails the invocation, so the function's error metric says so.
import type { ScheduledEvent } from "aws-lambda";
import { loadDriftConfig } from "./config.js";
import { runDriftCheck, type DriftReport } from "./drift-run.js";
import { summarize } from "./job.js";

export function createLambdaHandler(run: () => Promise<DriftReport>) {
  return async (event: ScheduledEvent): Promise<ReturnType<typeof summarize>> => {
    if (event["detail-type"] !== "Scheduled Event") {
      throw new Error(
        `expected an EventBridge "Scheduled Event", got ${JSON.stringify(event["detail-type"])}`,
      );
    }
    const report = await run();
    console.log(JSON.stringify({ message: "drift", scheduledAt: event.time, report }));
    const summary = summarize(report);
    if (report.errors.length > 0) {
      throw new Error(
        `drift: ${report.errors.map((e) => `${e.model}: ${e.code} ${e.message}`).join("; ")}`,
      );
    }
    return summary;
  };
}

export const handler = createLambdaHandler(() => runDriftCheck(loadDriftConfig()));
