import { ERROR_CODES, StrataError, type ErrorCode } from "../shared/errors.js";
import { UserError } from "./errors.js";

/** The Strata server `push` and `get` call: its base URL and the API key, if it needs one. */
export interface ServerTarget {
  url: string;
  apiKey?: string;
}

/** STRATA_URL's default: Feast's feature server port on this machine. */
export const DEFAULT_SERVER_URL = "http://127.0.0.1:6566";

export function serverTarget(
  env: NodeJS.ProcessEnv,
  flags: { url?: string; apiKey?: string },
): ServerTarget {
  const url = flags.url ?? (env.STRATA_URL || DEFAULT_SERVER_URL);
  if (!/^https?:\/\/[^/]+/.test(url)) {
    throw new UserError(
      `the server URL "${url}" is not http(s)://host:port`,
      "pass --url http://host:port, or set STRATA_URL",
    );
  }
  return {
    url: url.replace(/\/+$/, ""),
    apiKey: flags.apiKey ?? (env.STRATA_API_KEY || undefined),
  };
}

/**
 * POSTs a JSON body and returns the parsed answer. A Strata error answer becomes the same
 * StrataError (its code, message and details); no server at the URL becomes a user error.
 */
export async function postJson(
  target: ServerTarget,
  route: string,
  body: unknown,
): Promise<unknown> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (target.apiKey) headers.authorization = `Bearer ${target.apiKey}`;
  let response: Response;
  try {
    response = await fetch(`${target.url}${route}`, {
      method: "POST",
      headers,
      body: JSON.stringify(body),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new UserError(
      `no Strata server answered at ${target.url} (${cause?.code ?? cause?.message ?? (error as Error).message})`,
      "start one with strata serve, or pass --url (or set STRATA_URL, or url in strata.json)",
    );
  }
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UserError(
      `${target.url}${route} answered ${response.status} with a body that is not JSON: ${text.slice(0, 200)}`,
      "is STRATA_URL a Strata server?",
    );
  }
  if (response.ok) return parsed;
  throw errorFromAnswer(parsed, response.status, `${target.url}${route}`);
}

function errorFromAnswer(body: unknown, status: number, where: string): Error {
  const error = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } })
    .error;
  if (
    error &&
    typeof error.code === "string" &&
    error.code in ERROR_CODES &&
    typeof error.message === "string"
  ) {
    const details =
      typeof error.details === "object" && error.details !== null
        ? (error.details as Record<string, unknown>)
        : {};
    return new StrataError(error.code as ErrorCode, error.message, details);
  }
  return new UserError(
    `${where} answered ${status}: ${JSON.stringify(body).slice(0, 200)}`,
    "is STRATA_URL a Strata server?",
  );
}
