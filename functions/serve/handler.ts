import type { ServiceReadiness } from "../../shared/backfill/readiness.js";
import type { ChangelogWriter } from "../../shared/changelog/changelog-writer.js";
import { isStrataError, show, StrataError } from "../../shared/errors.js";
import type { OnlineStore } from "../../shared/online-store/index.js";
import { registryStatus, type LiveRegistry } from "../../shared/registry/index.js";
import type { Hlc } from "../../shared/versions/hlc.js";
import {
  authorizeProject,
  authorizePush,
  authorizeService,
  redactForScope,
  type ApiKeyVerifier,
  type Principal,
} from "./auth.js";
import type { ServeLimits } from "./config.js";
import { parseOnlineFeaturesRequest, type OnlineFeaturesRequest } from "./feast-request.js";
import { renderOnlineFeaturesResponse } from "./feast-response.js";
import { parseExactJson } from "../../shared/exact-json.js";
import type { ServeMetrics } from "./metrics.js";
import type { FeatureValueRecorder } from "../../shared/drift/value-recorder.js";
import { feastErrorResponse } from "./feast-errors.js";
import { parseFeastWriteRequest } from "./feast-write-request.js";
import { parsePushRequest } from "./push-request.js";
import { writePush, type PushedEventSink } from "./push-write.js";

/** A request as every platform can give it: the node:http server, Lambda and Azure Functions adapters map onto this. */
export interface CoreRequest {
  method: string;
  path: string;
  /** Header names in lower case. */
  headers: Record<string, string | undefined>;
  body: Buffer | string | undefined;
}

export interface CoreResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface ServeDeps {
  store: OnlineStore;
  /**
   * The registry served now, swapped live. A request takes one snapshot() when it starts and
   * uses only that: one in flight during a swap finishes on the registry it started with.
   */
  registry: LiveRegistry;
  /** null: auth explicitly off. */
  verifier: ApiKeyVerifier | null;
  limits: ServeLimits;
  metrics: ServeMetrics;
  /** Redis reachable (and the registry loaded, which it is once deps exist). */
  isReady: () => Promise<boolean>;
  /**
   * After SIGTERM, /ready answers 503 so load balancers stop sending traffic, while requests
   * already in flight still finish (the HTTP server refuses new ones itself).
   */
  isShuttingDown: () => boolean;
  /** The write side; absent when no changelog is configured (pushes get 503). */
  push?: {
    writer: ChangelogWriter;
    region: string;
    hlc: () => Hlc;
    /** Where pushed rows of aggregation views go: `strata.<project>.events`, acks=all. */
    events?: PushedEventSink;
  };
  /** Counts served values of monitored feature services (drift); absent when recording is off. */
  drift?: FeatureValueRecorder;
  /** Where unexpected errors are reported (they never reach the client). */
  logError: (message: string, error: unknown) => void;
  /** GET /ready/feature-services/<name> (admin port): views populated and the consumer caught up. */
  serviceReadiness?: (service: string) => Promise<ServiceReadiness>;
}

const JSON_HEADERS = { "content-type": "application/json" };
/** What Feast clients send: JSON, no content type, or (curl -d's default) a form type with a JSON body. */
const ACCEPTED_MEDIA_TYPES =
  /^(application\/json|application\/[\w.+-]+\+json|application\/x-www-form-urlencoded)\s*(;|$)/i;
/**
 * What /push takes: JSON declared as JSON. A web page can send a form or text body, or one
 * without a type, to any origin without a CORS preflight; with STRATA_AUTH=off that would let
 * any page a browser opens write features.
 */
const JSON_MEDIA_TYPES = /^(application\/json|application\/[\w.+-]+\+json)\s*(;|$)/i;

type Route = (request: CoreRequest, deps: ServeDeps) => Promise<CoreResponse>;

type Routes = Record<string, Partial<Record<string, Route>>>;

/** What clients reach: the feature API on the public port (STRATA_PORT). */
const FEATURE_ROUTES: Routes = {
  "/get-online-features": { POST: getOnlineFeatures },
  "/push": { POST: push },
  "/write-to-online-store": { POST: writeToOnlineStore },
};

/** What probes and Prometheus reach: the admin port (STRATA_ADMIN_PORT), never the public one. */
const ADMIN_ROUTES: Routes = {
  "/health": { GET: () => Promise.resolve(json(200, '{"status":"ok"}')) },
  "/ready": { GET: ready },
  "/metrics": { GET: metrics },
};

/** Which routes a handler serves: the feature API, or health, readiness and metrics. */
export type ServeSurface = "feature" | "admin";

/**
 * The serving core every platform shares: routing, auth, limits, the Feast endpoint and push
 * (the "feature" surface), health, readiness and metrics (the "admin" surface), and the error
 * contract (`{"error": {"code", "message", "details"}}` with the code's HTTP status;
 * unexpected errors become a bare STRATA_E_INTERNAL, details logged server-side only).
 */
export function createServeHandler(
  deps: ServeDeps,
  surface: ServeSurface = "feature",
): (request: CoreRequest) => Promise<CoreResponse> {
  const routes = surface === "admin" ? ADMIN_ROUTES : FEATURE_ROUTES;
  return async (request) => {
    const started = performance.now();
    const byMethod =
      surface === "admin" && request.path.startsWith(SERVICE_READY_PREFIX)
        ? SERVICE_READY_ROUTE
        : routes[request.path];
    // One label for every service's readiness: a label per name would grow without bound.
    const routeLabel = !byMethod
      ? "unmatched"
      : byMethod === SERVICE_READY_ROUTE
        ? `${SERVICE_READY_PREFIX}:name`
        : request.path;
    deps.metrics.inFlightChange(1);
    let response: CoreResponse;
    try {
      if (!byMethod) {
        throw new StrataError("STRATA_E_ROUTE_NOT_FOUND", `no endpoint ${request.path}`, {
          path: request.path,
        });
      }
      const route = byMethod[request.method];
      if (!route) {
        const allowed = Object.keys(byMethod).join(", ");
        throw new StrataError(
          "STRATA_E_METHOD_NOT_ALLOWED",
          `${request.path} takes ${allowed}, not ${request.method}`,
          {
            allowed,
          },
        );
      }
      response = await route(request, deps);
    } catch (error) {
      response =
        (isStrataError(error) && feastErrorResponse(error, request)) || errorResponse(error, deps);
    } finally {
      deps.metrics.inFlightChange(-1);
    }
    deps.metrics.observe(routeLabel, request.method, response.status, started);
    return response;
  };
}

async function getOnlineFeatures(request: CoreRequest, deps: ServeDeps): Promise<CoreResponse> {
  const registry = deps.registry.snapshot().registry;
  const principal = authenticate(request, deps);
  // Scope before anything is resolved: a key learns nothing of names outside its scope, and
  // gets the same 403 whether or not the name it asked for exists.
  authorizeProject(principal, registry.project);
  let parsed: OnlineFeaturesRequest;
  try {
    parsed = parseOnlineFeaturesRequest(readJsonBody(request, deps), registry, deps.limits, {
      authorize: (featureService) => authorizeService(principal, featureService),
    });
  } catch (error) {
    throw redactForScope(error, principal);
  }
  // No timer per request: Redis is the only thing a read waits on, and the serving client's
  // commandTimeout (= requestTimeoutMs) bounds it (see runtime.ts).
  const result = await deps.store.read(parsed.entityRows, parsed.refs, registry);
  if (result.degraded) deps.metrics.degradedRead(result.degraded.length);
  const body = renderOnlineFeaturesResponse(parsed, result);
  // After rendering: only values that are answered are counted.
  deps.drift?.record(parsed.featureService, parsed.refs, result.rows);
  return json(200, body);
}

/**
 * Feast's push: rows validated, then written through the changelog (docs/changelog.md), and
 * rows of aggregation views as events (docs/aggregations.md).
 */
async function push(request: CoreRequest, deps: ServeDeps): Promise<CoreResponse> {
  const { registry, writer, context, body } = writeRequest(request, deps, "pushes");
  const parsed = parsePushRequest(body, { registry, ...context });
  const result = await writePush(parsed, registry, writer, deps.push!.events);
  return json(
    200,
    JSON.stringify({
      status: "ok",
      push_source_name: parsed.target.name,
      rows: parsed.pushedRows,
      views: [
        ...parsed.target.views.map((v) => v.key),
        ...(parsed.target.aggregationViews ?? []).map((v) => v.key),
      ],
      reached: result.reached,
      ...(result.applied && { applied: result.applied }),
      ...(result.replication && { replication: result.replication }),
      ...(result.events !== undefined && { events: result.events }),
    }),
  );
}

/**
 * Feast's write endpoint (the SDK's write_to_online_store, and its push to an online push
 * source): the same checks and changelog path as /push, Feast's body and answer (`null`).
 */
async function writeToOnlineStore(request: CoreRequest, deps: ServeDeps): Promise<CoreResponse> {
  const { registry, writer, context, body } = writeRequest(request, deps, "writes");
  const parsed = parseFeastWriteRequest(body, { registry, ...context });
  await writer.write(parsed.rows, { registry, wait: parsed.wait });
  return json(200, "null");
}

/**
 * What every write endpoint does first: one registry snapshot for the whole request, the
 * caller allowed to push to its project, a changelog to write to, and the JSON body.
 */
function writeRequest(request: CoreRequest, deps: ServeDeps, what: string) {
  const registry = deps.registry.snapshot().registry;
  authorizePush(authenticate(request, deps), registry.project);
  const push = deps.push;
  if (!push) {
    throw new StrataError(
      "STRATA_E_PUSH_DISABLED",
      `this server has no changelog (KAFKA_BROKERS is not set), so it takes no ${what}`,
      {},
    );
  }
  // What the request parsers need besides the registry: limits and the version stamping.
  const context = {
    limits: deps.limits,
    region: push.region,
    hlc: push.hlc,
    eventTime: push.writer.eventTimeBound(),
  };
  return {
    registry,
    writer: push.writer,
    context,
    body: readJsonBody(request, deps, JSON_MEDIA_TYPES),
  };
}

function authenticate(request: CoreRequest, deps: ServeDeps): Principal | null {
  return deps.verifier ? deps.verifier.authenticate(request.headers.authorization) : null;
}

/**
 * The body as JSON, after the media type, size and emptiness checks every JSON endpoint
 * shares. `jsonOnly`: the media types the endpoint takes, a declared one required.
 */
function readJsonBody(request: CoreRequest, deps: ServeDeps, jsonOnly?: RegExp): unknown {
  const contentType = request.headers["content-type"];
  if (jsonOnly && !(contentType !== undefined && jsonOnly.test(contentType))) {
    throw new StrataError(
      "STRATA_E_UNSUPPORTED_MEDIA_TYPE",
      `${request.path} takes a JSON body declared as such (Content-Type: application/json), not ${contentType === undefined ? "a body without a Content-Type" : show(contentType)}`,
      { contentType: contentType ?? null },
    );
  }
  if (contentType !== undefined && !ACCEPTED_MEDIA_TYPES.test(contentType)) {
    throw new StrataError(
      "STRATA_E_UNSUPPORTED_MEDIA_TYPE",
      `the body must be JSON (Content-Type: application/json), not ${show(contentType)}`,
      { contentType },
    );
  }
  // The HTTP server stops reading at the limit; function adapters hand over whole bodies.
  const size =
    typeof request.body === "string"
      ? Buffer.byteLength(request.body)
      : (request.body?.length ?? 0);
  if (size > deps.limits.maxBodyBytes) {
    throw new StrataError(
      "STRATA_E_BODY_TOO_LARGE",
      `the body is larger than ${deps.limits.maxBodyBytes} bytes`,
      { limit: deps.limits.maxBodyBytes },
    );
  }
  const text =
    typeof request.body === "string" ? request.body : (request.body?.toString("utf8") ?? "");
  if (text.trim() === "") {
    throw new StrataError(
      "STRATA_E_EMPTY_BODY",
      "the request has no body; send the JSON request",
      {},
    );
  }
  try {
    return parseExactJson(text);
  } catch (error) {
    throw new StrataError(
      "STRATA_E_MALFORMED_JSON",
      `the body is not valid JSON: ${(error as Error).message}`,
      {},
    );
  }
}

/** Readiness, with the registry served: `{"status", "registry": {"version", "hash", "origin"}}`. */
async function ready(_request: CoreRequest, deps: ServeDeps): Promise<CoreResponse> {
  const registry = registryStatus(deps.registry.snapshot());
  if (deps.isShuttingDown())
    return json(503, JSON.stringify({ status: "shutting down", registry }));
  const ok = await deps.isReady().catch(() => false);
  return ok
    ? json(200, JSON.stringify({ status: "ready", registry }))
    : json(503, JSON.stringify({ status: "not ready", reason: "redis unreachable", registry }));
}

const SERVICE_READY_PREFIX = "/ready/feature-services/";
const SERVICE_READY_ROUTE: Partial<Record<string, Route>> = { GET: readyService };

/**
 * Readiness of one feature service: 200 when every view major it reads is populated and the
 * region's consumer is caught up, else 503; the body names each view's reasons.
 */
async function readyService(request: CoreRequest, deps: ServeDeps): Promise<CoreResponse> {
  const name = decodeURIComponent(request.path.slice(SERVICE_READY_PREFIX.length));
  if (!deps.serviceReadiness) {
    return json(
      503,
      JSON.stringify({ status: "not ready", service: name, reason: "no readiness configured" }),
    );
  }
  if (deps.isShuttingDown())
    return json(503, JSON.stringify({ status: "shutting down", service: name }));
  const readiness = await deps.serviceReadiness(name);
  return json(
    readiness.ready ? 200 : 503,
    JSON.stringify({ status: readiness.ready ? "ready" : "not ready", ...readiness }),
  );
}

async function metrics(_request: CoreRequest, deps: ServeDeps): Promise<CoreResponse> {
  const { contentType, body } = await deps.metrics.render();
  return { status: 200, headers: { "content-type": contentType }, body };
}

/**
 * The error contract's response for any thrown value. Never throws: a failure to render is
 * itself logged and answered 500, and every 5xx is logged once with its cause.
 */
function errorResponse(error: unknown, deps: ServeDeps): CoreResponse {
  try {
    return renderError(error, deps);
  } catch (renderFailure) {
    deps.logError("could not render an error response", renderFailure);
    return INTERNAL_ERROR;
  }
}

function renderError(error: unknown, deps: ServeDeps): CoreResponse {
  if (!isStrataError(error)) {
    deps.logError("unexpected error while serving", error);
    return INTERNAL_ERROR;
  }
  let reported = error;
  if (error.code === "STRATA_E_REDIS_UNAVAILABLE") {
    // The cause (addresses, driver messages) stays in the server log; the client gets the code.
    deps.metrics.redisError();
    const timedOut = /timed out/i.test(String((error.cause as Error | undefined)?.message));
    reported = timedOut
      ? new StrataError(
          "STRATA_E_TIMEOUT",
          `Redis did not answer within ${deps.limits.requestTimeoutMs} ms`,
          {
            timeoutMs: deps.limits.requestTimeoutMs,
          },
        )
      : new StrataError(
          "STRATA_E_REDIS_UNAVAILABLE",
          "Redis did not answer and the values are not cached; retry",
          {},
        );
  }
  const headers: Record<string, string> = { ...JSON_HEADERS };
  if (reported.code === "STRATA_E_METHOD_NOT_ALLOWED")
    headers.allow = String(reported.details.allowed);
  if (reported.status === 401) headers["www-authenticate"] = 'Bearer realm="strata"';
  // A write that did not replicate in time is durable here; the hint paces a client that retries it.
  if (reported.status === 429 || reported.code === "STRATA_E_NOT_REPLICATED")
    headers["retry-after"] = "1";
  if (reported.status >= 500) deps.logError(error.message, error.cause ?? error);
  return { status: reported.status, headers, body: JSON.stringify({ error: reported.toJSON() }) };
}

const INTERNAL_ERROR: CoreResponse = {
  status: 500,
  headers: JSON_HEADERS,
  body: JSON.stringify({
    error: { code: "STRATA_E_INTERNAL", message: "internal error", details: {} },
  }),
};

function json(status: number, body: string): CoreResponse {
  return { status, headers: JSON_HEADERS, body };
}
