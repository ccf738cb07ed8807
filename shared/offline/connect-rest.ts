import { StrataError } from "../errors.js";

/** What ensureConnector did. */
export type ConnectorChange = "created" | "updated" | "unchanged";

/** The state Kafka Connect reports of a connector and its tasks (GET /connectors/<name>/status). */
export interface ConnectorStatus {
  connector: string;
  tasks: { id: number; state: string; trace?: string }[];
}

const REQUEST_TIMEOUT_MS = 30_000;

async function call(
  url: string,
  init: RequestInit & { what: string },
): Promise<{ status: number; body: unknown }> {
  let response: Response;
  try {
    response = await fetch(url, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  } catch (error) {
    throw new StrataError(
      "STRATA_E_OFFLINE_SINK",
      `Kafka Connect at ${url} did not answer ${init.what}: ${(error as Error).message}`,
      { url },
    );
  }
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text === "" ? undefined : JSON.parse(text);
  } catch {
    // Not JSON: keep the text for the message.
  }
  return { status: response.status, body };
}

function refused(what: string, status: number, body: unknown): StrataError {
  const message =
    typeof body === "object" && body !== null && "message" in body
      ? String(body.message)
      : JSON.stringify(body);
  return new StrataError(
    "STRATA_E_OFFLINE_SINK",
    `Kafka Connect refused ${what}: ${status} ${message}`,
    {
      status,
    },
  );
}

/**
 * Creates or updates a connector through Kafka Connect's REST API, idempotently: the config is
 * PUT (Connect creates or replaces it) only when the running one differs, so that many
 * processes starting at once do not restart its tasks for nothing.
 */
export async function ensureConnector(
  connectUrl: string,
  name: string,
  config: Record<string, string>,
): Promise<ConnectorChange> {
  const base = `${connectUrl.replace(/\/+$/, "")}/connectors/${encodeURIComponent(name)}`;
  const current = await call(`${base}/config`, { method: "GET", what: `the config of ${name}` });
  if (current.status === 200 && sameConfig(current.body, { ...config, name })) return "unchanged";
  if (current.status !== 200 && current.status !== 404) {
    throw refused(`reading connector ${name}`, current.status, current.body);
  }
  const put = await call(`${base}/config`, {
    method: "PUT",
    what: `the config of ${name}`,
    headers: { "content-type": "application/json" },
    body: JSON.stringify(config),
  });
  if (put.status !== 200 && put.status !== 201) {
    throw refused(`connector ${name}`, put.status, put.body);
  }
  return current.status === 404 ? "created" : "updated";
}

function sameConfig(running: unknown, wanted: Record<string, string>): boolean {
  if (typeof running !== "object" || running === null) return false;
  const entries = Object.entries(running as Record<string, unknown>);
  return (
    entries.length === Object.keys(wanted).length &&
    entries.every(([key, value]) => wanted[key] === value)
  );
}

/** The connector's and its tasks' states; undefined when Connect does not know it. */
export async function connectorStatus(
  connectUrl: string,
  name: string,
): Promise<ConnectorStatus | undefined> {
  const url = `${connectUrl.replace(/\/+$/, "")}/connectors/${encodeURIComponent(name)}/status`;
  const { status, body } = await call(url, { method: "GET", what: `the status of ${name}` });
  if (status === 404) return undefined;
  if (status !== 200) throw refused(`the status of ${name}`, status, body);
  const parsed = body as {
    connector: { state: string };
    tasks: { id: number; state: string; trace?: string }[];
  };
  return { connector: parsed.connector.state, tasks: parsed.tasks };
}
