import { boundedCopy, previewText } from "./bounded-json.js";

/**
 * The one registry of Strata's errors. Every error a user can see has a stable code
 * (`STRATA_E_*`), an HTTP status, and a message that names the bad value. docs/errors.md
 * documents each code; a unit test keeps the two in step.
 */
export const ERROR_CODES = {
  // Registry definitions (feature repo files)
  STRATA_E_INVALID_NAME: { status: 400, title: "a name is not a valid identifier" },
  STRATA_E_BAD_VERSION: { status: 400, title: "a semantic version string is malformed" },
  STRATA_E_UNKNOWN_ENTITY: {
    status: 400,
    title: "a feature view names an entity that is not registered",
  },
  STRATA_E_DUPLICATE_ENTITY: { status: 400, title: "an entity is registered twice" },
  STRATA_E_DUPLICATE_FEATURE: { status: 400, title: "a feature view declares a feature twice" },
  STRATA_E_DUPLICATE_VIEW: { status: 400, title: "a view major is registered twice" },
  STRATA_E_DUPLICATE_SERVICE: { status: 400, title: "a feature service is registered twice" },
  STRATA_E_UNKNOWN_TYPE: { status: 400, title: "a feature or join key has an unknown type" },
  STRATA_E_BAD_REGISTRY: { status: 400, title: "a feature repo definition is inconsistent" },
  STRATA_E_DUPLICATE_CDC_SOURCE: { status: 400, title: "a cdc source is declared twice" },
  STRATA_E_UNKNOWN_CDC_SOURCE: {
    status: 400,
    title: "a feature view's source names a cdc source that is not declared",
  },
  STRATA_E_BAD_CDC_SOURCE: {
    status: 400,
    title: "a cdc source or a view's column mapping from it is malformed",
  },
  STRATA_E_BAD_AGGREGATION: {
    status: 400,
    title: "an aggregation view's inputs, source, windows or functions are invalid",
  },
  // Feature references and services
  STRATA_E_BAD_FEATURE_REF: {
    status: 400,
    title: "a feature reference is not `view:feature` or `view@major:feature`",
  },
  STRATA_E_UNKNOWN_VIEW: { status: 400, title: "a feature view (or view major) does not exist" },
  STRATA_E_UNKNOWN_FEATURE: { status: 400, title: "a feature does not exist in its view" },
  STRATA_E_UNKNOWN_FEATURE_SERVICE: { status: 404, title: "a feature service does not exist" },
  // Entity keys and values
  STRATA_E_MISSING_JOIN_KEY: {
    status: 400,
    title: "an entity row lacks a join key its view needs",
  },
  STRATA_E_ENTITY_KEY_TYPE: { status: 400, title: "a join key value has the wrong type" },
  STRATA_E_BAD_ENTITY_KEY: { status: 400, title: "an encoded entity key cannot be decoded" },
  STRATA_E_VALUE_TYPE: { status: 400, title: "a feature value does not match the feature's type" },
  STRATA_E_MISSING_FEATURE_VALUE: { status: 400, title: "a write omits a feature of its view" },
  STRATA_E_BAD_WRITE_VERSION: {
    status: 400,
    title: "a write's version is malformed or out of range",
  },
  STRATA_E_BAD_ROW: {
    status: 400,
    title: "a write row is not an object with view, entity, values and version",
  },
  STRATA_E_BATCH_REJECTED: {
    status: 400,
    title: "a batch had invalid rows, so none of it was written",
  },
  STRATA_E_EVENT_TIME_IN_FUTURE: {
    status: 400,
    title: "an event time is later than now plus the allowed skew",
  },
  // HTTP requests
  STRATA_E_EMPTY_BODY: { status: 400, title: "the request has no body" },
  STRATA_E_MALFORMED_JSON: { status: 400, title: "the request body is not valid JSON" },
  STRATA_E_BAD_REQUEST: {
    status: 400,
    title: "the request body does not have the documented shape",
  },
  STRATA_E_ENTITY_LENGTH_MISMATCH: {
    status: 400,
    title: "the entity join key columns have different lengths",
  },
  STRATA_E_TOO_MANY_ENTITIES: {
    status: 400,
    title: "the request asks for more entity rows than allowed",
  },
  STRATA_E_TOO_MANY_FEATURES: {
    status: 400,
    title: "the request asks for more features than allowed",
  },
  STRATA_E_FEATURE_NAME_COLLISION: {
    status: 400,
    title: "two requested features share a name; ask with full_feature_names",
  },
  STRATA_E_UNAUTHENTICATED: { status: 401, title: "no valid API key was presented" },
  STRATA_E_FORBIDDEN: {
    status: 403,
    title: "the API key may not read (or push to) this project or feature service",
  },
  STRATA_E_ROUTE_NOT_FOUND: { status: 404, title: "no such endpoint" },
  STRATA_E_METHOD_NOT_ALLOWED: {
    status: 405,
    title: "the endpoint does not take this HTTP method",
  },
  STRATA_E_BODY_TOO_LARGE: { status: 413, title: "the request body is larger than allowed" },
  STRATA_E_UNSUPPORTED_MEDIA_TYPE: { status: 415, title: "the request body is not JSON" },
  STRATA_E_SHUTTING_DOWN: { status: 503, title: "the server is shutting down" },
  STRATA_E_TIMEOUT: {
    status: 504,
    title: "the request did not finish within the server's time limit",
  },
  STRATA_E_BAD_CONFIG: { status: 500, title: "the server's configuration is invalid" },
  STRATA_E_BAD_HTTP: {
    status: 400,
    title: "the request is not valid HTTP/1.1 (framing, method or header syntax)",
  },
  STRATA_E_HEADERS_TOO_LARGE: {
    status: 431,
    title: "the request's headers are larger than the server accepts",
  },
  STRATA_E_REQUEST_TIMEOUT: {
    status: 408,
    title: "the request did not arrive in full within the server's time limit",
  },
  STRATA_E_NOT_READY: {
    status: 503,
    title: "the function could not start (Redis, Kafka or the feature repo); the next call retries",
  },
  // Servers
  STRATA_E_REDIS_UNAVAILABLE: {
    status: 503,
    title: "Redis did not answer and the value is not cached",
  },
  STRATA_E_SCRIPT_FAILED: { status: 500, title: "a Redis script failed" },
  STRATA_E_STORED_STATE_CORRUPT: {
    status: 500,
    title: "a row's stored version or clock vector in Redis is corrupt, so it was not written",
  },
  STRATA_E_INTERNAL: { status: 500, title: "an unexpected internal error" },
  // Changelog and ingestion
  STRATA_E_UNKNOWN_PUSH_SOURCE: {
    status: 404,
    title: "a push source (or feature view) does not exist",
  },
  STRATA_E_PUSH_TARGET: {
    status: 400,
    title: 'a push asks for a store this server does not write (only "online")',
  },
  STRATA_E_BACKPRESSURE: {
    status: 429,
    title: "the write queue is full; nothing was accepted, retry after a pause",
  },
  STRATA_E_CHANGELOG_UNAVAILABLE: {
    status: 503,
    title: "Kafka did not acknowledge the write, so it was not accepted",
  },
  STRATA_E_NOT_YET_APPLIED: {
    status: 503,
    title: "the write is in the changelog, but this region's Redis has not applied it yet",
  },
  STRATA_E_PUSH_DISABLED: {
    status: 503,
    title: "this server has no changelog configured, so it takes no writes",
  },
  STRATA_E_BAD_RECORD: {
    status: 400,
    title: "a changelog record cannot be decoded or does not match the registry",
  },
  STRATA_E_UNSUPPORTED_SCHEMA: {
    status: 400,
    title: "a changelog record has a schema version this build does not read",
  },
  STRATA_E_BAD_TOPIC_CONFIG: {
    status: 500,
    title: "a changelog topic exists with settings that would lose data",
  },
  STRATA_E_RECORD_TOO_LARGE: {
    status: 413,
    title: "Kafka refused a record as larger than the topic allows; it was not written",
  },
  STRATA_E_CHANGELOG_REFUSED: {
    status: 500,
    title: "Kafka refused a write for a reason retrying cannot fix (e.g. authorization)",
  },
  STRATA_E_OFFLINE_SINK: {
    status: 502,
    title: "the Kafka Connect worker refused or could not run the offline store's Iceberg sink",
  },
  // Reconciliation between regions
  STRATA_E_UNREPAIRABLE_ROW: {
    status: 500,
    title: "reconciliation found a divergent row whose winner cannot be re-published",
  },
  // Waiting for other regions (wait: "replicated")
  STRATA_E_NO_PEERS: {
    status: 400,
    title: 'wait "replicated" was asked of a writer that has no peer regions configured',
  },
  STRATA_E_NOT_REPLICATED: {
    status: 503,
    title:
      "the write is in this region's changelog and applied here, but not yet in enough peer regions",
  },
  // The published registry (strata plan / apply, processes following it)
  STRATA_E_REGISTRY_INVALID: {
    status: 500,
    title:
      "a published registry record is not valid (JSON, shape, hash, project or definitions); it is ignored",
  },
  STRATA_E_NO_REGISTRY: {
    status: 404,
    title: "no valid registry has been published for the project",
  },
  STRATA_E_REGISTRY_UNAVAILABLE: {
    status: 503,
    title: "Kafka did not let the registry be read or published within the time limit",
  },
  STRATA_E_BREAKING_CHANGE: {
    status: 409,
    title: "the apply has incompatible changes and breaking changes were not allowed",
  },
  STRATA_E_REGISTRY_CONFLICT: {
    status: 409,
    title: "another apply published the same or a newer registry version first",
  },
  // Backfills
  STRATA_E_BACKFILL_SOURCE: {
    status: 400,
    title: "a backfill's source cannot be read (file, format or SQL)",
  },
  STRATA_E_BACKFILL_SCHEMA: {
    status: 400,
    title: "a backfill source's columns do not match its view's join keys, features and types",
  },
  STRATA_E_BACKFILL_EMPTY: { status: 400, title: "a backfill source has no rows" },
  STRATA_E_BACKFILL_LEASE_HELD: {
    status: 409,
    title: "another coordinator holds the backfill lease of this view",
  },
  STRATA_E_BACKFILL_STAGE: {
    status: 409,
    title: "the backfill is not in a stage that allows this command",
  },
  STRATA_E_BACKFILL_NOT_FOUND: { status: 404, title: "no backfill of this view major" },
  STRATA_E_BACKFILL_VERIFY_FAILED: {
    status: 409,
    title: "the new generation does not match the backfill's manifest",
  },
  // Offline store
  STRATA_E_OFFLINE_ENGINE_MISSING: {
    status: 500,
    title: "the embedded DuckDB lacks the extensions the offline store needs",
  },
  STRATA_E_OFFLINE_TABLE_MISSING: {
    status: 404,
    title: "a view major's offline table does not exist (or cannot be read)",
  },
  STRATA_E_OFFLINE_TABLE_SCHEMA: {
    status: 409,
    title: "a view major's offline history lacks a column its view declares",
  },
  // Training sets (entity dataframes)
  STRATA_E_BAD_ENTITY_FILE: {
    status: 400,
    title: "the entity file is missing or is neither Parquet nor CSV with a header",
  },
  STRATA_E_EMPTY_ENTITY_FILE: { status: 400, title: "the entity file has no rows" },
  STRATA_E_NO_TIMESTAMP_COLUMN: {
    status: 400,
    title: "the entity file has no column of the timestamp column's name",
  },
  STRATA_E_BAD_TIMESTAMP_COLUMN: {
    status: 400,
    title: "the entity file's timestamp column is not a timestamp, or a row has none",
  },
  // Drift detection and retraining triggers
  STRATA_E_BAD_BASELINE: {
    status: 400,
    title: "a drift baseline is malformed, or its training data cannot give one",
  },
  STRATA_E_NO_BASELINE: {
    status: 404,
    title: "no drift baseline is stored for the feature service or model",
  },
  STRATA_E_PROMETHEUS_UNAVAILABLE: {
    status: 503,
    title: "Prometheus did not answer the drift query; nothing was decided or submitted",
  },
  STRATA_E_PROMETHEUS_QUERY: {
    status: 502,
    title: "Prometheus answered a drift query with an error or an unexpected shape",
  },
  STRATA_E_DRIFT_CLAIM_UNAVAILABLE: {
    status: 503,
    title: "the designated claim Redis did not answer, so no retraining was submitted",
  },
  STRATA_E_ARGO_UNAVAILABLE: {
    status: 503,
    title: "the Argo Workflows server did not answer or failed; the claim is retried next run",
  },
  STRATA_E_ARGO_REJECTED: {
    status: 502,
    title: "the Argo Workflows server refused the retraining submission",
  },
  // CDC sources (Debezium change events)
  STRATA_E_CDC_CONFIG: {
    status: 500,
    title: "STRATA_CDC_DATABASES is missing, malformed, or lacks a database a cdc source names",
  },
  STRATA_E_CDC_BAD_EVENT: {
    status: 400,
    title: "a Debezium change event cannot be parsed",
  },
  STRATA_E_CDC_UNMAPPABLE: {
    status: 400,
    title: "a change event cannot be turned into a changelog record of its view",
  },
  STRATA_E_CDC_CONNECTOR: {
    status: 502,
    title: "Kafka Connect refused or could not run a Debezium connector",
  },
  // Rolling window aggregations
  STRATA_E_AGGREGATION_VIEW_UNSUPPORTED: {
    status: 400,
    title: "the operation needs a feature view, and this is an aggregation view (write, backfill)",
  },
  STRATA_E_AGGREGATION_TOO_LATE: {
    status: 422,
    title: "an event is older than its entity's watermark minus the allowed lateness; not applied",
  },
  STRATA_E_BAD_AGGREGATION_EVENT: {
    status: 400,
    title: "an aggregation event cannot be decoded (JSON, view, entity, event time or a value)",
  },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Base class of every error Strata reports to users. */
export class StrataError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "StrataError";
    this.status = ERROR_CODES[code].status;
  }

  /**
   * The JSON body clients receive: code, message and details, never a stack. Details often
   * hold what the client sent, so they are copied within DETAIL_BOUNDS (bounded-json.ts):
   * rendering an error never overflows the stack or echoes a huge input back.
   */
  toJSON(): { code: ErrorCode; message: string; details: Record<string, unknown> } {
    return {
      code: this.code,
      message: this.message,
      details: boundedCopy(this.details) as Record<string, unknown>,
    };
  }
}

export function isStrataError(error: unknown, code?: ErrorCode): error is StrataError {
  return error instanceof StrataError && (code === undefined || error.code === code);
}

/**
 * Quotes a user-supplied value for an error message as JSON-like text of at most 80
 * characters. The work is bounded too, whatever the value: deep nesting, huge strings, cycles
 * and getters that throw (see previewText).
 */
export function show(value: unknown): string {
  return previewText(value, SHOWN_CHARS);
}

const SHOWN_CHARS = 80;
