// Azure Functions (v4 model) timer handler: runs one reconciliation and logs its summary; a run
// that leaves divergence unrepaired throws, so the invocation is recorded as failed.
// Registered in azure.ts.
import type { InvocationContext, Timer } from "@azure/functions";
import type { ReconcileReport } from "../../shared/reconcile/index.js";
import { summarize } from "./job.js";

export function createTimerHandler(run: () => Promise<ReconcileReport>) {
  return async (timer: Timer, context: InvocationContext): Promise<void> => {
    if (timer.isPastDue) context.warn("reconcile: the timer is past due; running now");
    const summary = summarize(await run());
    context.log(JSON.stringify({ message: "reconcile", ...summary }));
    if (summary.outcome === "unrepaired") {
      throw new Error(`reconcile left ${summary.unrepaired} divergent keys unrepaired`);
    }
  };
}
