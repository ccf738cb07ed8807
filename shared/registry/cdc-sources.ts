import { show, StrataError } from "../errors.js";
import type { CdcSourceDefinition, FeatureViewDefinition } from "./definitions.js";
import type { ResolvedView } from "./feature-registry.js";

/** A view major written by the CDC mapper: which column feeds each join key and feature. */
export interface CdcViewMapping {
  view: ResolvedView;
  /** Column of each join key, in `view.joinKeys` order. */
  keyColumns: string[];
  /** Column of each feature, in `view.features` order. */
  columns: string[];
  /** The version's event time: the commit time, or this column's value. */
  eventTime: "commit" | { column: string };
}

/** A cdc source with every view major it writes. */
export interface ResolvedCdcSource {
  name: string;
  database: string;
  /** `<schema>.<table>`. */
  table: string;
  schema: string;
  tableName: string;
  views: CdcViewMapping[];
}

const SOURCE_NAME = /^[a-z0-9_]{1,128}$/;
const DATABASE_NAME = /^[A-Za-z0-9_-]{1,63}$/;
/** A PostgreSQL identifier as Debezium names it in topics and events (unquoted form). */
const PG_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;

function badSource(message: string, details: Record<string, unknown>): StrataError {
  return new StrataError("STRATA_E_BAD_CDC_SOURCE", message, details);
}

function checkColumn(value: unknown, where: string, details: Record<string, unknown>): string {
  if (typeof value !== "string" || !PG_IDENTIFIER.test(value)) {
    throw badSource(`${where}: column ${show(value)} is not a PostgreSQL identifier`, details);
  }
  return value;
}

function checkSource(def: CdcSourceDefinition): Omit<ResolvedCdcSource, "views"> {
  if (typeof def?.name !== "string" || !SOURCE_NAME.test(def.name)) {
    throw new StrataError(
      "STRATA_E_INVALID_NAME",
      `cdc source name ${show(def?.name)} is not [a-z0-9_]+`,
      { name: def?.name },
    );
  }
  const { name } = def;
  if (typeof def.database !== "string" || !DATABASE_NAME.test(def.database)) {
    throw badSource(
      `cdc source ${name}: database ${show(def.database)} is not a name of STRATA_CDC_DATABASES ([A-Za-z0-9_-]+)`,
      { source: name },
    );
  }
  const parts = typeof def.table === "string" ? def.table.split(".") : [];
  if (parts.length !== 2 || !parts.every((part) => PG_IDENTIFIER.test(part))) {
    throw badSource(`cdc source ${name}: table ${show(def.table)} is not "<schema>.<table>"`, {
      source: name,
      table: def.table,
    });
  }
  return {
    name,
    database: def.database,
    table: def.table,
    schema: parts[0]!,
    tableName: parts[1]!,
  };
}

function mapView(
  view: ResolvedView,
  source: NonNullable<FeatureViewDefinition["source"]>,
): CdcViewMapping {
  const details = { view: view.key, source: source.cdc };
  const where = `feature view ${view.key} (source ${source.cdc})`;
  const keyColumns = source.keyColumns;
  if (typeof keyColumns !== "object" || keyColumns === null || Array.isArray(keyColumns)) {
    throw badSource(`${where}: keyColumns must map each join key to a column`, details);
  }
  for (const joinKey of Object.keys(keyColumns)) {
    if (!view.joinKeys.some((key) => key.name === joinKey)) {
      throw badSource(`${where}: keyColumns names ${show(joinKey)}, not a join key of the view`, {
        ...details,
        joinKey,
      });
    }
  }
  const keys = view.joinKeys.map((key) => {
    if (!Object.hasOwn(keyColumns, key.name)) {
      throw badSource(`${where}: keyColumns has no column for join key ${key.name}`, {
        ...details,
        joinKey: key.name,
      });
    }
    return checkColumn(keyColumns[key.name], `${where}, join key ${key.name}`, details);
  });
  const columns = source.columns ?? {};
  if (typeof columns !== "object" || columns === null || Array.isArray(columns)) {
    throw badSource(`${where}: columns must map features to columns`, details);
  }
  for (const feature of Object.keys(columns)) {
    if (!view.featureIndex.has(feature)) {
      throw badSource(`${where}: columns names ${show(feature)}, not a feature of the view`, {
        ...details,
        feature,
      });
    }
  }
  const featureColumns = view.features.map((feature) =>
    checkColumn(
      columns[feature.name] ?? feature.name,
      `${where}, feature ${feature.name}`,
      details,
    ),
  );
  const eventTime = source.eventTime ?? "commit";
  if (eventTime !== "commit") {
    if (typeof eventTime !== "object" || eventTime === null) {
      throw badSource(
        `${where}: eventTime is "commit" or { column }, not ${show(eventTime)}`,
        details,
      );
    }
    checkColumn(eventTime.column, `${where}, eventTime`, details);
  }
  return {
    view,
    keyColumns: keys,
    columns: featureColumns,
    eventTime: eventTime === "commit" ? "commit" : { column: eventTime.column },
  };
}

/**
 * Validates a repo's cdc sources and the views that name one as their `source`, and resolves
 * each view's column mapping. `viewOf` finds the resolved major of a view definition.
 * Throws STRATA_E_INVALID_NAME, STRATA_E_DUPLICATE_CDC_SOURCE, STRATA_E_UNKNOWN_CDC_SOURCE or
 * STRATA_E_BAD_CDC_SOURCE naming the bad declaration.
 */
export function resolveCdcSources(
  sources: readonly CdcSourceDefinition[] | undefined,
  views: readonly FeatureViewDefinition[],
  viewOf: (def: FeatureViewDefinition) => ResolvedView,
): Map<string, ResolvedCdcSource> {
  if (sources !== undefined && !Array.isArray(sources)) {
    throw badSource("cdcSources must be a list of cdc sources", {});
  }
  const resolved = new Map<string, ResolvedCdcSource>();
  const list: readonly CdcSourceDefinition[] = sources ?? [];
  for (const def of list) {
    const source = checkSource(def);
    if (resolved.has(source.name)) {
      throw new StrataError(
        "STRATA_E_DUPLICATE_CDC_SOURCE",
        `cdc source ${source.name} is declared twice`,
        { source: source.name },
      );
    }
    resolved.set(source.name, { ...source, views: [] });
  }
  for (const def of views) {
    if (def.source === undefined) continue;
    const view = viewOf(def);
    const name = (def.source as { cdc?: unknown } | null)?.cdc;
    const source = typeof name === "string" ? resolved.get(name) : undefined;
    if (!source) {
      throw new StrataError(
        "STRATA_E_UNKNOWN_CDC_SOURCE",
        `feature view ${view.key} names cdc source ${show(name)}, which is not declared`,
        { view: view.key, source: name, known: [...resolved.keys()] },
      );
    }
    source.views.push(mapView(view, def.source));
  }
  return resolved;
}
