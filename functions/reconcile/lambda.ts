// AWS Lambda adapter: an EventBridge scheduled rule invokes `handler` with a "Scheduled Event";
// it runs one reconciliation with the configuration from the environment (./config.ts) and
// returns its summary. A run that leaves divergence unrepaired fails the invocation, so the
// function's error metric (and an alarm on it) says so.
import type { ScheduledEvent } from "aws-lambda";
import type { ReconcileReport } from "../../shared/reconcile/index.js";
import { loadReconcileConfig } from "./config.js";
import { runReconcileJob, summarize } from "./job.js";

export type RunReconcile = () => Promise<ReconcileReport>;

export function createLambdaHandler(run: RunReconcile) {
  return async (event: ScheduledEvent): Promise<ReturnType<typeof summarize>> => {
    if (event["detail-type"] !== "Scheduled Event") {
      throw new Error(
        `expected an EventBridge "Scheduled Event", got ${JSON.stringify(event["detail-type"])}`,
      );
    }
    const summary = summarize(await run());
    console.log(JSON.stringify({ message: "reconcile", scheduledAt: event.time, ...summary }));
    if (summary.outcome === "unrepaired") {
      throw new Error(`reconcile left ${summary.unrepaired} divergent keys unrepaired`);
    }
    return summary;
  };
}

export const handler = createLambdaHandler(() =>
  runReconcileJob(loadReconcileConfig(), {
    log: (level, message) => console.error(level, message),
  }),
);
