import { StrataError, show } from "../errors.js";

/**
 * The two calls of the Argo Workflows server's REST API the retraining trigger makes, as its
 * published OpenAPI spec (api/openapi-spec/swagger.json) defines them:
 * - `POST /api/v1/workflows/{namespace}/submit` with a WorkflowSubmitRequest
 *   `{ namespace, resourceKind, resourceName, submitOptions: { parameters: ["name=value"], labels: "k=v,k=v" } }`
 * - `GET /api/v1/workflows/{namespace}?listOptions.labelSelector=k=v`, a WorkflowList
 * Authorization is `Bearer <token>` (the spec's BearerToken security definition).
 */
export interface ArgoTarget {
  /** The Argo server's base URL, e.g. https://argo.example.com:2746. */
  url: string;
  namespace: string;
  token: string;
  timeoutMs?: number;
}

export interface WorkflowSubmission {
  /** The WorkflowTemplate to instantiate. */
  template: string;
  parameters: Record<string, string>;
  labels: Record<string, string>;
}

const DEFAULT_TIMEOUT_MS = 15_000;
/** Kubernetes label values: at most 63 characters, alphanumeric at both ends. */
const LABEL_VALUE = /^(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

/** Submits a workflow from a WorkflowTemplate; returns the created workflow's name. */
export async function submitWorkflow(
  target: ArgoTarget,
  submission: WorkflowSubmission,
): Promise<string> {
  for (const [key, value] of Object.entries(submission.labels)) {
    if (!LABEL_VALUE.test(value) || /[=,]/.test(key)) {
      throw new StrataError(
        "STRATA_E_ARGO_REJECTED",
        `label ${key}=${show(value)} is not a valid Kubernetes label`,
      );
    }
  }
  const body = {
    namespace: target.namespace,
    resourceKind: "WorkflowTemplate",
    resourceName: submission.template,
    submitOptions: {
      parameters: Object.entries(submission.parameters).map(([name, value]) => `${name}=${value}`),
      labels: Object.entries(submission.labels)
        .map(([key, value]) => `${key}=${value}`)
        .join(","),
    },
  };
  const workflow = (await call(target, "POST", `${workflowsPath(target)}/submit`, body)) as {
    metadata?: { name?: unknown };
  };
  const name = workflow.metadata?.name;
  if (typeof name !== "string") {
    throw new StrataError(
      "STRATA_E_ARGO_UNAVAILABLE",
      "Argo answered the submission without a workflow name",
      {
        argo: target.url,
      },
    );
  }
  return name;
}

/** Names of the workflows carrying a label (`key=value`), in the namespace. */
export async function workflowsWithLabel(
  target: ArgoTarget,
  key: string,
  value: string,
): Promise<string[]> {
  const query = new URLSearchParams({ "listOptions.labelSelector": `${key}=${value}` });
  const list = (await call(target, "GET", `${workflowsPath(target)}?${query.toString()}`)) as {
    items?: { metadata?: { name?: string } }[] | null;
  };
  // An empty WorkflowList comes back with "items": null.
  return (list.items ?? []).flatMap((w) =>
    typeof w.metadata?.name === "string" ? [w.metadata.name] : [],
  );
}

function workflowsPath(target: ArgoTarget): string {
  return `/api/v1/workflows/${encodeURIComponent(target.namespace)}`;
}

async function call(
  target: ArgoTarget,
  method: "GET" | "POST",
  path: string,
  body?: unknown,
): Promise<unknown> {
  const url = new URL(path, target.url);
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: {
        authorization: `Bearer ${target.token}`,
        accept: "application/json",
        ...(body !== undefined && { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(target.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    });
  } catch (error) {
    throw new StrataError(
      "STRATA_E_ARGO_UNAVAILABLE",
      `the Argo server at ${url.origin} did not answer ${method} ${url.pathname}: ${(error as Error).message}`,
      { argo: url.origin },
      { cause: error },
    );
  }
  const text = await response.text().catch(() => "");
  if (response.status >= 500 || response.status === 429) {
    throw new StrataError(
      "STRATA_E_ARGO_UNAVAILABLE",
      `the Argo server answered HTTP ${response.status}`,
      {
        argo: url.origin,
        status: response.status,
        body: text.slice(0, 1_000),
      },
    );
  }
  if (!response.ok) {
    throw new StrataError(
      "STRATA_E_ARGO_REJECTED",
      `the Argo server refused ${method} ${url.pathname} (HTTP ${response.status}): ${text.slice(0, 300)}`,
      { argo: url.origin, status: response.status, body: text.slice(0, 1_000) },
    );
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new StrataError(
      "STRATA_E_ARGO_UNAVAILABLE",
      `the Argo server answered non-JSON: ${show(text)}`,
      {
        argo: url.origin,
      },
    );
  }
}
