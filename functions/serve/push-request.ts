import type { WaitFor } from "../../shared/changelog/changelog-writer.js";
import type { ReplicationOptions } from "../../shared/regions/index.js";
import { show, StrataError } from "../../shared/errors.js";
import type { WriteRow } from "../../shared/online-store/index.js";
import { batchRejected, type RejectedRow } from "../../shared/online-store/write-path.js";
import type { FeatureRegistry, PushTarget } from "../../shared/registry/index.js";
import { checkEventTime } from "../../shared/versions/event-time.js";
import type { Hlc } from "../../shared/versions/hlc.js";
import type { ServeLimits } from "./config.js";
import { aggregationEvents, type PushedEvent } from "./push-events.js";
import { fromJson } from "./push-values.js";

/** A `/push` request, validated: one write row per (pushed row, target view). */
export interface PushRequest {
  target: PushTarget;
  /** Rows in the pushed table. */
  pushedRows: number;
  rows: WriteRow[];
  /** One event per (pushed row, target aggregation view), for `strata.<project>.events`. */
  events: PushedEvent[];
  wait: WaitFor | undefined;
  /** With wait "replicated": the peers, quorum and deadline asked for (the writer checks them). */
  replication: ReplicationOptions | undefined;
}

export interface PushContext {
  registry: FeatureRegistry;
  limits: ServeLimits;
  /** This region's name and clock: every pushed row is versioned here. */
  region: string;
  hlc: () => Hlc;
  /** The latest event time accepted (now plus the allowed skew), from the writer. */
  eventTime?: { latestMs: number; maxSkewMs: number };
}

/** Feast's optional created-timestamp column; accepted and not stored (versions order writes). */
const IGNORED_COLUMNS = new Set(["created", "created_timestamp"]);
/** The `wait` values a push may ask for. */
export const WAITS: ReadonlySet<string> = new Set(["enqueued", "acked", "applied", "replicated"]);

/**
 * Parses Feast's push body: `{"push_source_name": "...", "df": {"<column>": [values]},
 * "to": "online"}`, plus Strata's optional `"wait": "enqueued" | "acked" | "applied" |
 * "replicated"` and, with "replicated", `"replication": {"regions", "quorum", "timeoutMs"}`.
 * Columns are the target views' join keys and features and the event timestamp column.
 * Every bad row is named (STRATA_E_BATCH_REJECTED lists them), and nothing is written.
 */
export function parsePushRequest(body: unknown, context: PushContext): PushRequest {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw badRequest('the body must be a JSON object with "push_source_name" and "df"');
  }
  const { push_source_name: name, df, to, wait, replication } = body as Record<string, unknown>;
  if (typeof name !== "string") throw badRequest('"push_source_name" must be a string');
  if (to !== undefined && to !== "online") {
    throw new StrataError(
      "STRATA_E_PUSH_TARGET",
      `"to" is ${show(to)}; Strata writes the online store only ("online")`,
      { to },
    );
  }
  if (wait !== undefined && (typeof wait !== "string" || !WAITS.has(wait))) {
    throw badRequest(
      `"wait" is ${show(wait)}; it must be "enqueued", "acked", "applied" or "replicated"`,
    );
  }
  if (replication !== undefined && wait !== "replicated") {
    throw badRequest('"replication" goes with "wait": "replicated" only');
  }
  return pushRequestFor(
    context.registry.pushTarget(name),
    df,
    {
      wait: wait as WaitFor | undefined,
      // Its fields are checked by the writer, against its peers, before anything is written.
      replication: replication as ReplicationOptions | undefined,
    },
    context,
  );
}

/**
 * The write rows of a df pushed to `target`: columns checked, every row's event time read and
 * checked, values converted from JSON. Every bad row is named (STRATA_E_BATCH_REJECTED lists
 * them), and nothing is written. Shared by /push and Feast's /write-to-online-store.
 */
export function pushRequestFor(
  target: PushTarget,
  df: unknown,
  options: Pick<PushRequest, "wait" | "replication">,
  context: PushContext,
): PushRequest {
  const columns = checkColumns(df, target, context.limits);
  const pushedRows = columns.get(target.timestampField)!.length;

  const rejected: RejectedRow[] = [];
  const eventTimes = columns.get(target.timestampField)!.map((value, index) => {
    const ms = eventTimeMs(value);
    if (ms === undefined) {
      rejected.push({
        index,
        code: "STRATA_E_BAD_WRITE_VERSION",
        message: `${target.timestampField} ${show(value)} is not an ISO-8601 time or epoch milliseconds`,
      });
    } else if (context.eventTime) {
      try {
        checkEventTime(ms, context.eventTime.latestMs, context.eventTime.maxSkewMs);
      } catch (error) {
        const { code, message } = error as StrataError;
        rejected.push({ index, code, message: `${target.timestampField}: ${message}` });
      }
    }
    return ms ?? 0;
  });
  if (rejected.length > 0) throw batchRejected(rejected, pushedRows);
  // Checked before anything is written: a bad input rejects the whole push, plain views too.
  const events = aggregationEvents(target, columns, eventTimes, pushedRows);

  const rows: WriteRow[] = [];
  for (const view of target.views) {
    for (let i = 0; i < pushedRows; i++) {
      const entity: Record<string, unknown> = {};
      for (const key of view.joinKeys) entity[key.name] = columns.get(key.name)![i];
      const values: Record<string, unknown> = {};
      for (const feature of view.features) {
        values[feature.name] = fromJson(feature.type, columns.get(feature.name)![i]);
      }
      rows.push({
        view: view.key,
        entity,
        values,
        version: {
          eventTsMs: eventTimes[i]!,
          epoch: 0,
          hlc: context.hlc(),
          originRegion: context.region,
        },
      });
    }
  }
  return { target, pushedRows, rows, events, ...options };
}

/** The df as columns of one length, holding exactly what the target views need. */
function checkColumns(
  df: unknown,
  target: PushTarget,
  limits: ServeLimits,
): Map<string, unknown[]> {
  if (typeof df !== "object" || df === null || Array.isArray(df)) {
    throw badRequest('"df" must be an object of column name to a list of values');
  }
  const columns = new Map<string, unknown[]>();
  let length: number | undefined;
  for (const [column, values] of Object.entries(df as Record<string, unknown>)) {
    if (!Array.isArray(values)) throw badRequest(`df column ${show(column)} is not a list`);
    if (length !== undefined && values.length !== length) {
      throw badRequest(
        `df columns have different lengths (${show(column)} has ${values.length}, not ${length})`,
      );
    }
    length = values.length;
    columns.set(column, values);
  }
  if (length === undefined || length === 0) throw badRequest('"df" has no rows');
  if (length > limits.maxEntities) {
    throw new StrataError(
      "STRATA_E_TOO_MANY_ENTITIES",
      `the push has ${length} rows; at most ${limits.maxEntities} are allowed per request`,
      { rows: length, limit: limits.maxEntities },
    );
  }
  const needed = new Set([target.timestampField]);
  for (const view of target.aggregationViews ?? []) {
    for (const key of view.joinKeys) {
      needed.add(key.name);
      if (!columns.has(key.name)) {
        throw new StrataError(
          "STRATA_E_MISSING_JOIN_KEY",
          `df has no column ${show(key.name)}, a join key of aggregation view ${view.key}`,
          { joinKey: key.name, view: view.key },
        );
      }
    }
    for (const input of view.aggregation.inputs) {
      needed.add(input.name);
      if (!columns.has(input.name)) {
        throw new StrataError(
          "STRATA_E_MISSING_FEATURE_VALUE",
          `df has no column ${show(input.name)}, an input of aggregation view ${view.key} (push null where an event has no value)`,
          { feature: input.name, view: view.key },
        );
      }
    }
  }
  for (const view of target.views) {
    for (const key of view.joinKeys) {
      needed.add(key.name);
      if (!columns.has(key.name)) {
        throw new StrataError(
          "STRATA_E_MISSING_JOIN_KEY",
          `df has no column ${show(key.name)}, a join key of ${view.key}`,
          { joinKey: key.name, view: view.key },
        );
      }
    }
    for (const feature of view.features) {
      needed.add(feature.name);
      if (!columns.has(feature.name)) {
        throw new StrataError(
          "STRATA_E_MISSING_FEATURE_VALUE",
          `df has no column ${show(feature.name)}, a feature of ${view.key} (push null values to clear it)`,
          { feature: feature.name, view: view.key },
        );
      }
    }
  }
  if (!columns.has(target.timestampField)) {
    throw badRequest(`df has no ${show(target.timestampField)} column with each row's event time`);
  }
  for (const column of columns.keys()) {
    if (!needed.has(column) && !IGNORED_COLUMNS.has(column)) {
      throw new StrataError(
        "STRATA_E_UNKNOWN_FEATURE",
        `df column ${show(column)} is not a join key, feature, input or timestamp of push source ${target.name}`,
        { feature: column, push_source_name: target.name },
      );
    }
  }
  return columns;
}

/** ISO-8601 (a time without a zone is UTC, as Feast reads it) or integer epoch milliseconds. */
function eventTimeMs(value: unknown): number | undefined {
  if (typeof value === "number")
    return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  if (typeof value !== "string") return undefined;
  const text = /[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value.replace(" ", "T")}Z`;
  const ms = Date.parse(text);
  return Number.isNaN(ms) || ms < 0 ? undefined : ms;
}

function badRequest(message: string): StrataError {
  return new StrataError("STRATA_E_BAD_REQUEST", message, {});
}
