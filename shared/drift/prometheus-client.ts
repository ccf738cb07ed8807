import { StrataError, show } from "../errors.js";
import type { PrometheusRequestSigner } from "./prometheus-sigv4.js";

/** One series of an instant vector: its labels and value. */
export interface VectorSample {
  metric: Record<string, string>;
  value: number;
}

export interface PrometheusQueryOptions {
  /** Evaluation time, epoch ms (Prometheus' `time` parameter). */
  timeMs: number;
  timeoutMs?: number;
  /** Bearer token or headers an endpoint needs (e.g. a gateway in front of a managed Prometheus). */
  headers?: Record<string, string>;
  /** Signs each request (Amazon Managed Prometheus: SigV4, prometheus-sigv4.ts). */
  sign?: PrometheusRequestSigner;
}

const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * An instant query through Prometheus' HTTP API (`POST /api/v1/query`, form-encoded, so long
 * selectors never hit URL limits). A connection failure or timeout is
 * STRATA_E_PROMETHEUS_UNAVAILABLE; an error answer or a result that is not a vector is
 * STRATA_E_PROMETHEUS_QUERY. Either way the caller decides nothing from a partial answer.
 */
export async function queryVector(
  baseUrl: string,
  query: string,
  options: PrometheusQueryOptions,
): Promise<VectorSample[]> {
  const url = new URL("api/v1/query", baseUrl.endsWith("/") ? baseUrl : `${baseUrl}/`);
  const body = new URLSearchParams({ query, time: (options.timeMs / 1000).toFixed(3) }).toString();
  let headers: Record<string, string> = {
    "content-type": "application/x-www-form-urlencoded",
    ...options.headers,
  };
  if (options.sign) {
    try {
      headers = await options.sign({ url, method: "POST", headers, body });
    } catch (error) {
      throw new StrataError(
        "STRATA_E_PROMETHEUS_UNAVAILABLE",
        `the query to Prometheus at ${url.origin} could not be signed: ${causeText(error)}`,
        { prometheus: url.origin },
        { cause: error },
      );
    }
  }
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers,
      body,
      signal: AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    });
  } catch (error) {
    throw new StrataError(
      "STRATA_E_PROMETHEUS_UNAVAILABLE",
      `Prometheus at ${url.origin} did not answer: ${causeText(error)}`,
      { prometheus: url.origin },
      { cause: error },
    );
  }
  const text = await response.text().catch(() => "");
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const answer = json as
    | {
        status?: string;
        error?: string;
        errorType?: string;
        data?: { resultType?: string; result?: unknown };
      }
    | undefined;
  if (response.status >= 500 && answer?.status !== "error") {
    throw new StrataError(
      "STRATA_E_PROMETHEUS_UNAVAILABLE",
      `Prometheus at ${url.origin} answered HTTP ${response.status}`,
      { prometheus: url.origin, status: response.status, body: text.slice(0, 500) },
    );
  }
  if (!response.ok || answer?.status !== "success") {
    throw new StrataError(
      "STRATA_E_PROMETHEUS_QUERY",
      `Prometheus at ${url.origin} refused the query (HTTP ${response.status}): ${answer?.error ?? show(text)}`,
      { prometheus: url.origin, status: response.status, query, errorType: answer?.errorType },
    );
  }
  const data = answer.data;
  if (data?.resultType !== "vector" || !Array.isArray(data.result)) {
    throw new StrataError(
      "STRATA_E_PROMETHEUS_QUERY",
      `Prometheus at ${url.origin} answered a ${show(data?.resultType)}, not a vector`,
      { prometheus: url.origin, query },
    );
  }
  return data.result.map((series: unknown) => {
    const s = series as { metric?: Record<string, string>; value?: [number, string] };
    const value = Number(s.value?.[1]);
    if (!s.metric || Number.isNaN(value)) {
      throw new StrataError("STRATA_E_PROMETHEUS_QUERY", `a series has no value: ${show(series)}`, {
        prometheus: url.origin,
      });
    }
    return { metric: s.metric, value };
  });
}

/** PromQL string literal: label values from registries are identifiers, but quote them properly anyway. */
export function promString(value: string): string {
  return JSON.stringify(value);
}

function causeText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: unknown }).cause;
  if (error.name === "TimeoutError") return "timed out";
  return cause instanceof Error ? `${error.message} (${cause.message})` : error.message;
}
