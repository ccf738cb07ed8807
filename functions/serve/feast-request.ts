import { show, StrataError } from "../../shared/errors.js";
import type { FeatureRegistry, ResolvedFeatureRef } from "../../shared/registry/index.js";
import type { ServeLimits } from "./config.js";

/** A `/get-online-features` request, validated against the registry and the limits. */
export interface OnlineFeaturesRequest {
  refs: readonly ResolvedFeatureRef[];
  featureService: string | undefined;
  /** The request's entity columns in its own order (Feast echoes them first). */
  entityColumns: { name: string; values: unknown[] }[];
  /** Row-major entity rows, as the store reads them. */
  entityRows: Record<string, unknown>[];
  fullFeatureNames: boolean;
}

/**
 * Parses Feast's request body: `{"features": [...]}` or `{"feature_service": "..."}`, plus
 * `"entities": {"<join key>": [v1, v2, ...]}` and optional `"full_feature_names"`. Throws
 * STRATA_E_* errors that name the bad part; never partially accepts a request.
 * `options.authorize` sees the feature service asked for (undefined: a list of features) once
 * its shape is checked and before any name is resolved against the registry.
 */
export function parseOnlineFeaturesRequest(
  body: unknown,
  registry: FeatureRegistry,
  limits: ServeLimits,
  options: { authorize?: (featureService: string | undefined) => void } = {},
): OnlineFeaturesRequest {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw badRequest(
      'the body must be a JSON object with "features" or "feature_service", and "entities"',
    );
  }
  const {
    features,
    feature_service: service,
    entities,
    full_feature_names: fullNames,
  } = body as Record<string, unknown>;

  let refs: readonly ResolvedFeatureRef[];
  let featureService: string | undefined;
  if (service !== undefined) {
    if (features !== undefined)
      throw badRequest('give either "features" or "feature_service", not both');
    if (typeof service !== "string")
      throw badRequest(`"feature_service" must be a name, not ${show(service)}`);
    featureService = service;
    options.authorize?.(service);
    refs = registry.service(service);
  } else {
    if (!Array.isArray(features) || features.length === 0) {
      throw badRequest(
        '"features" must be a non-empty list of "view:feature" references (or give "feature_service")',
      );
    }
    if (features.length > limits.maxFeatures) {
      throw new StrataError(
        "STRATA_E_TOO_MANY_FEATURES",
        `the request asks for ${features.length} features; the limit is ${limits.maxFeatures}`,
        { requested: features.length, limit: limits.maxFeatures },
      );
    }
    const bad: unknown = (features as unknown[]).find((f) => typeof f !== "string");
    if (bad !== undefined)
      throw badRequest(`every feature reference must be a string, not ${show(bad)}`);
    options.authorize?.(undefined);
    refs = registry.resolveRefs(features as string[]);
  }

  if (typeof entities !== "object" || entities === null || Array.isArray(entities)) {
    throw badRequest(
      '"entities" must be an object of join key columns, e.g. {"driver_id": [1001, 1002]}',
    );
  }
  const entityColumns = Object.entries(entities as Record<string, unknown>).map(
    ([name, values]) => {
      if (!Array.isArray(values))
        throw badRequest(`entity column ${show(name)} must be a list of values`);
      return { name, values: values as unknown[] };
    },
  );
  if (entityColumns.length === 0) throw badRequest('"entities" names no join key');
  const rowCount = entityColumns[0]!.values.length;
  const mismatch = entityColumns.find((c) => c.values.length !== rowCount);
  if (mismatch) {
    throw new StrataError(
      "STRATA_E_ENTITY_LENGTH_MISMATCH",
      `entity columns differ in length: ${entityColumns.map((c) => `${c.name} has ${c.values.length}`).join(", ")}`,
      { lengths: Object.fromEntries(entityColumns.map((c) => [c.name, c.values.length])) },
    );
  }
  if (rowCount === 0) throw badRequest("the entity columns are empty");
  if (rowCount > limits.maxEntities) {
    throw new StrataError(
      "STRATA_E_TOO_MANY_ENTITIES",
      `the request has ${rowCount} entity rows; the limit is ${limits.maxEntities}`,
      { requested: rowCount, limit: limits.maxEntities },
    );
  }
  const needed = joinKeysNeeded(refs);
  for (const key of needed) {
    if (!entityColumns.some((c) => c.name === key)) {
      throw new StrataError(
        "STRATA_E_MISSING_JOIN_KEY",
        `"entities" lacks join key ${show(key)}, which the requested features need`,
        {
          joinKey: key,
          needed,
        },
      );
    }
  }
  if (fullNames !== undefined && typeof fullNames !== "boolean") {
    throw badRequest(`"full_feature_names" must be true or false, not ${show(fullNames)}`);
  }

  const entityRows = new Array<Record<string, unknown>>(rowCount);
  for (let r = 0; r < rowCount; r++) {
    const row: Record<string, unknown> = {};
    for (const column of entityColumns) row[column.name] = column.values[r];
    entityRows[r] = row;
  }
  return { refs, featureService, entityColumns, entityRows, fullFeatureNames: fullNames === true };
}

function badRequest(message: string): StrataError {
  return new StrataError("STRATA_E_BAD_REQUEST", message, {});
}

const joinKeysCache = new WeakMap<readonly ResolvedFeatureRef[], string[]>();

/** The join keys the requested features need, in order, once per resolved list. */
export function joinKeysNeeded(refs: readonly ResolvedFeatureRef[]): string[] {
  let keys = joinKeysCache.get(refs);
  if (!keys)
    joinKeysCache.set(
      refs,
      (keys = [...new Set(refs.flatMap((ref) => ref.view.joinKeys.map((k) => k.name)))]),
    );
  return keys;
}
