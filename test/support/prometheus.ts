// The local stack's Prometheus, as tests reach it: its URL, instant queries, and waiting
// for a series to show what a test expects (scrapes come every second).
import { currentLayout } from "../../dev/stack/recorded-layout.js";
import { LOOPBACK } from "../../dev/stack/endpoints.js";

/** One series of an instant query: its labels and value. */
export interface PromSample {
  labels: Record<string, string>;
  value: number;
}

/** The stack's Prometheus (the recorded layout's port). */
export function stackPrometheusUrl(): string {
  return `http://${LOOPBACK}:${currentLayout().prometheusPort}`;
}

/** An instant query through the HTTP API (`/api/v1/query`); throws on any error status. */
export async function queryPrometheus(url: string, promql: string): Promise<PromSample[]> {
  const response = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`, {
    signal: AbortSignal.timeout(5_000),
  });
  const body = (await response.json()) as {
    status: string;
    error?: string;
    data?: {
      resultType: string;
      result: { metric: Record<string, string>; value: [number, string] }[];
    };
  };
  if (body.status !== "success" || body.data?.resultType !== "vector") {
    throw new Error(`query ${promql} failed: ${body.error ?? JSON.stringify(body)}`);
  }
  return body.data.result.map((r) => ({ labels: r.metric, value: Number(r.value[1]) }));
}

/** Polls a query until `done` holds for its result, or throws with the last result after `timeoutMs`. */
export async function waitForQuery(
  url: string,
  promql: string,
  done: (samples: PromSample[]) => boolean,
  timeoutMs = 15_000,
): Promise<PromSample[]> {
  const deadline = Date.now() + timeoutMs;
  let last: PromSample[] = [];
  while (Date.now() < deadline) {
    last = await queryPrometheus(url, promql);
    if (done(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(
    `${promql} did not reach the expected state in ${timeoutMs} ms: ${JSON.stringify(last)}`,
  );
}
