import type { ErrorCode, StrataError } from "../shared/errors.js";

const SERVER_DOWN = "is the stack up (strata stack status) and the process running?";

/** What to do about each error a user meets most from the command line. */
const HINTS: Partial<Record<ErrorCode, string>> = {
  STRATA_E_UNKNOWN_VIEW: "check the view names in the feature repo (STRATA_REPO, or strata.json)",
  STRATA_E_UNKNOWN_FEATURE:
    "check the feature names in the feature repo; references are view:feature or view@major:feature",
  STRATA_E_UNKNOWN_FEATURE_SERVICE: "check the feature service names in the feature repo",
  STRATA_E_UNKNOWN_PUSH_SOURCE:
    "name a push source of the feature repo, or a view (view or view@major)",
  STRATA_E_BAD_FEATURE_REF: "write features as view:feature or view@major:feature",
  STRATA_E_MISSING_JOIN_KEY: "give every join key of the view (--entity key=value, once per key)",
  STRATA_E_MISSING_FEATURE_VALUE: "give every feature of the target views (null clears one)",
  STRATA_E_ENTITY_KEY_TYPE:
    "numeric-looking values are sent as numbers; use --entities '<JSON>' to send a string",
  STRATA_E_BATCH_REJECTED:
    "fix the rows listed above and push again: nothing of that batch was written",
  STRATA_E_UNAUTHENTICATED: "pass --api-key or set STRATA_API_KEY",
  STRATA_E_FORBIDDEN: "use an API key allowed for this project (and, to push, one with push: true)",
  STRATA_E_PUSH_DISABLED:
    "start the server with KAFKA_BROKERS set (strata serve --kafka host:port)",
  STRATA_E_REDIS_UNAVAILABLE: SERVER_DOWN,
  STRATA_E_CHANGELOG_UNAVAILABLE: `${SERVER_DOWN} The rows may still be written; pushing them again is safe`,
  STRATA_E_NOT_YET_APPLIED: "the rows are in Kafka; is the consumer running (strata ingest)?",
  STRATA_E_BACKPRESSURE:
    "the server's write queue is full: push again after a pause, or with a smaller --batch",
  STRATA_E_TOO_MANY_ENTITIES: "push or ask for fewer rows per request (--batch)",
  STRATA_E_EVENT_TIME_IN_FUTURE:
    "event times may be at most STRATA_MAX_EVENT_TIME_SKEW_MS past now",
  STRATA_E_NOT_READY: SERVER_DOWN,
  STRATA_E_BREAKING_CHANGE:
    "strata plan lists each change and why; put the change in a new major (version 2.0.0), or apply with --allow-breaking",
  STRATA_E_REGISTRY_CONFLICT:
    "another apply published this version first: run strata plan to see the registry now, then apply again",
  STRATA_E_NO_REGISTRY: "publish the project's registry first: strata apply",
  STRATA_E_REGISTRY_UNAVAILABLE: SERVER_DOWN,
  STRATA_E_OFFLINE_TABLE_MISSING:
    "a view's table appears with the offline sink's first commit of its rows (STRATA_OFFLINE=on); check --warehouse or STRATA_OFFLINE_WAREHOUSE",
  STRATA_E_BAD_ENTITY_FILE: "the entity file is Parquet, or CSV with a header row",
  STRATA_E_EMPTY_ENTITY_FILE: "the entity file needs at least one row",
  STRATA_E_NO_TIMESTAMP_COLUMN: "name the entity file's timestamp column with --timestamp-column",
  STRATA_E_BAD_TIMESTAMP_COLUMN:
    "timestamps are Parquet timestamps or dates, or ISO 8601 text in a CSV (UTC unless it has an offset)",
};

/** Codes shared with `get` and `push` whose hint differs when an entity file is at fault. */
const ENTITY_FILE_HINTS: Partial<Record<ErrorCode, string>> = {
  STRATA_E_MISSING_JOIN_KEY:
    "the entity file needs a column for every join key of the requested views",
  STRATA_E_ENTITY_KEY_TYPE:
    "integer join keys need integer columns (CSV: integers), string join keys string columns",
};

/** The hint line for a StrataError: its code's, or one naming the setting at fault. */
export function hintFor(error: StrataError): string {
  if (error.code === "STRATA_E_BAD_CONFIG" && /ES Module|export/.test(error.message)) {
    // tsx reads a .ts file outside an ES-module package as CommonJS.
    return 'name the feature repo file .mts (an ES module anywhere), or add {"type": "module"} to its package.json';
  }
  if (error.code === "STRATA_E_BAD_CONFIG") {
    const variable = error.details.variable;
    if (typeof variable === "string" && /^[A-Z][A-Z0-9_]*$/.test(variable)) {
      return `set ${variable} (a flag, the environment, or "env" in strata.json; see docs/cli.md)`;
    }
    if (typeof variable === "string" && variable.startsWith("--")) {
      return `fix ${variable}; the command's --help describes it`;
    }
    return "the message says what is expected; configuration: docs/cli.md";
  }
  if (typeof error.details.file === "string" && ENTITY_FILE_HINTS[error.code]) {
    return ENTITY_FILE_HINTS[error.code]!;
  }
  return HINTS[error.code] ?? `see docs/errors.md for ${error.code}`;
}
