import type { WaitFor } from "../../shared/changelog/changelog-writer.js";
import { show, StrataError } from "../../shared/errors.js";
import { DEFAULT_TIMESTAMP_FIELD } from "../../shared/registry/index.js";
import { pushRequestFor, WAITS, type PushContext, type PushRequest } from "./push-request.js";

/**
 * What a write through Feast's endpoint waits for unless it says otherwise: applied to this
 * region's Redis. Feast's own server answers once its online store holds the rows, and the
 * SDK's callers read right after writing; anything less would let that read miss the write.
 */
export const FEAST_WRITE_DEFAULT_WAIT: WaitFor = "applied";

/**
 * Parses Feast's `/write-to-online-store` body, what Feast 0.67's SDK sends for
 * `FeatureStore.write_to_online_store` and for `push(..., to=PushMode.ONLINE)` through its
 * remote online store: `{"feature_view_name": "...", "df": {"<column>": [values]},
 * "allow_registry_cache": bool, "transform_on_write": bool}`, plus Strata's optional
 * `"wait"`. The df holds the view's join keys and features, `event_timestamp` (naive ISO
 * 8601, UTC) and `created` (ignored). Validated exactly as `/push` validates a push to the
 * view (pushRequestFor); nothing is written when any row is bad.
 *
 * Feast sends UnixTimestamp values as epoch seconds (its proto's unix_timestamp_val);
 * Strata's unix_timestamp is epoch milliseconds, so they are scaled here.
 */
export function parseFeastWriteRequest(body: unknown, context: PushContext): PushRequest {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw badRequest('the body must be a JSON object with "feature_view_name" and "df"');
  }
  const {
    feature_view_name: name,
    df,
    allow_registry_cache: cache,
    transform_on_write: transform,
    wait,
  } = body as Record<string, unknown>;
  if (typeof name !== "string") throw badRequest('"feature_view_name" must be a string');
  for (const [field, value] of [
    ["allow_registry_cache", cache],
    ["transform_on_write", transform],
  ] as const) {
    // Both are about Feast's own registry cache and on-demand views; Strata's registry is
    // loaded at start and has no on-demand views, so they change nothing here.
    if (value !== undefined && typeof value !== "boolean") {
      throw badRequest(`"${field}" must be true or false, not ${show(value)}`);
    }
  }
  if (
    wait !== undefined &&
    (typeof wait !== "string" || !WAITS.has(wait) || wait === "replicated")
  ) {
    throw badRequest(`"wait" is ${show(wait)}; it must be "enqueued", "acked" or "applied"`);
  }
  const view = context.registry.viewByRef(name);
  const target = { name, views: [view], timestampField: DEFAULT_TIMESTAMP_FIELD };
  return pushRequestFor(
    target,
    withMillisecondTimestamps(df, view.features),
    { wait: (wait as WaitFor | undefined) ?? FEAST_WRITE_DEFAULT_WAIT, replication: undefined },
    context,
  );
}

/** The df with its unix_timestamp columns (and lists of them) from epoch seconds to milliseconds. */
function withMillisecondTimestamps(
  df: unknown,
  features: readonly { name: string; type: string }[],
): unknown {
  if (typeof df !== "object" || df === null || Array.isArray(df)) return df;
  const columns = { ...(df as Record<string, unknown>) };
  for (const feature of features) {
    const column = columns[feature.name];
    if (!Array.isArray(column)) continue;
    const values = column as unknown[];
    if (feature.type === "unix_timestamp") columns[feature.name] = values.map(secondsToMs);
    else if (feature.type === "unix_timestamp[]") {
      columns[feature.name] = values.map((list) =>
        Array.isArray(list) ? (list as unknown[]).map(secondsToMs) : list,
      );
    }
  }
  return columns;
}

/** Whole seconds to milliseconds; anything else is left for validation to name. */
function secondsToMs(value: unknown): unknown {
  return typeof value === "number" && Number.isSafeInteger(value * 1000) ? value * 1000 : value;
}

function badRequest(message: string): StrataError {
  return new StrataError("STRATA_E_BAD_REQUEST", message, {});
}
