// Azure Functions (v4 model) timer handler: runs one drift evaluation and logs its report; a
// failed run throws, so the invocation is recorded as failed. Registered in azure.ts.
import type { InvocationContext, Timer } from "@azure/functions";
import type { DriftReport } from "./drift-run.js";
import { summarize } from "./job.js";

export function createTimerHandler(run: () => Promise<DriftReport>) {
  return async (timer: Timer, context: InvocationContext): Promise<void> => {
    if (timer.isPastDue) context.warn("drift: the timer is past due; running now");
    const report = await run();
    context.log(JSON.stringify({ message: "drift", ...summarize(report) }));
    if (report.errors.length > 0) {
      throw new Error(
        `drift: ${report.errors.map((e) => `${e.model}: ${e.code} ${e.message}`).join("; ")}`,
      );
    }
  };
}
