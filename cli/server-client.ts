import http from "node:http";
import https from "node:https";
import { ERROR_CODES, StrataError, type ErrorCode } from "../shared/errors.js";
import { parseExactJson, stringifyExactJson } from "../shared/exact-json.js";
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
  let answer: { status: number; text: string };
  try {
    answer = await post(`${target.url}${route}`, headers, stringifyExactJson(body));
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    throw new UserError(
      `no Strata server answered at ${target.url} (${code ?? message})`,
      "start one with strata serve, or pass --url (or set STRATA_URL, or url in strata.json)",
    );
  }
  let parsed: unknown;
  try {
    parsed = parseExactJson(answer.text);
  } catch {
    throw new UserError(
      `${target.url}${route} answered ${answer.status} with a body that is not JSON: ${answer.text.slice(0, 200)}`,
      "is STRATA_URL a Strata server?",
    );
  }
  if (answer.status >= 200 && answer.status < 300) return parsed;
  throw errorFromAnswer(parsed, answer.status, `${target.url}${route}`);
}

/**
 * One request with node:http(s). Not fetch: the Fetch standard blocks some ports outright,
 * 6566 (Feast's and Strata's default) among them.
 */
function post(
  url: string,
  headers: Record<string, string>,
  body: string,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const request = (url.startsWith("https:") ? https : http).request(
      url,
      { method: "POST", headers: { ...headers, "content-length": Buffer.byteLength(body) } },
      (response) => {
        let text = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => (text += chunk));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, text }));
        response.on("error", reject);
      },
    );
    request.on("error", reject);
    request.end(body);
  });
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
