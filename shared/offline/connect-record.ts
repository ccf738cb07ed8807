import type { PreparedWrite } from "../online-store/write-path.js";
import type { ScalarType } from "../registry/feature-types.js";
import { elementType } from "../registry/feature-types.js";
import type { ResolvedView } from "../registry/feature-registry.js";
import {
  payloadWriter,
  scalarSchema,
  type ConnectSchema,
  type PayloadWriter,
} from "./connect-schema.js";
import { offlineTableId } from "./table-names.js";

/**
 * The column the Iceberg sink routes a record by (iceberg.tables.route-field): the table's
 * `<namespace>.<table>`. The sink reads the route from the record's value only, so it is a
 * field of the value, and the sink's auto-create makes it a column of the table too.
 */
export const ROUTE_FIELD = "strata_table";

/** The columns every offline table has after its join keys and features (CONTRACTS.md). */
export const OFFLINE_COLUMNS = {
  eventTimestamp: "event_timestamp",
  version: "strata_version",
  writtenAt: "strata_written_at",
} as const;

interface ViewProjection {
  /** `{"schema":<schema>,"payload":{"strata_table":"<ns.table>",` */
  head: string;
  /** `"<feature>":`, each with its leading comma. */
  featurePrefixes: string[];
  writers: PayloadWriter[];
}

const projections = new WeakMap<ResolvedView, Map<string, ViewProjection>>();

function projectionOf(project: string, view: ResolvedView): ViewProjection {
  let byProject = projections.get(view);
  if (!byProject) projections.set(view, (byProject = new Map<string, ViewProjection>()));
  let projection = byProject.get(project);
  if (projection) return projection;
  const { namespace, table } = offlineTableId(project, view.key);
  const fields: ConnectSchema[] = [
    ...view.joinKeys.map((key) => ({ ...scalarSchema(key.type, false), field: key.name })),
    ...view.features.map((feature) => {
      const element = elementType(feature.type);
      const schema =
        element === undefined
          ? scalarSchema(feature.type as ScalarType, true)
          : { type: "array", optional: true, items: scalarSchema(element, false) };
      return { ...schema, field: feature.name };
    }),
    { ...scalarSchema("unix_timestamp", false), field: OFFLINE_COLUMNS.eventTimestamp },
    { type: "string", optional: false, field: OFFLINE_COLUMNS.version },
    { ...scalarSchema("unix_timestamp", false), field: OFFLINE_COLUMNS.writtenAt },
    { type: "string", optional: false, field: ROUTE_FIELD },
  ];
  const schema: ConnectSchema = { type: "struct", optional: false, fields };
  projection = {
    head: `{"schema":${JSON.stringify(schema)},"payload":{${JSON.stringify(ROUTE_FIELD)}:${JSON.stringify(`${namespace}.${table}`)}`,
    featurePrefixes: view.features.map((f) => `,${JSON.stringify(f.name)}:`),
    writers: view.features.map((f) => payloadWriter(f.type)),
  };
  byProject.set(project, projection);
  return projection;
}

/**
 * One validated changelog record (decodeChangelogRecord) as the Kafka Connect JSON record
 * (`{"schema":..., "payload":...}`) the Iceberg sink writes to the view major's table: join
 * keys, features in their Iceberg types, event_timestamp, strata_version, strata_written_at,
 * and the route field. Written as text from the value-codec texts, never through JavaScript
 * numbers, so int64 values past 2^53 stay exact. A feature the record does not carry (a
 * record of another minor version) is null, and a delete is a row of nulls at its version:
 * history read as of a later time then finds no value, as the online store does.
 *
 * @param joinKeyValues the record's entity key decoded (decodeEntityKey), in join key order
 */
export function projectRecord(
  project: string,
  write: PreparedWrite,
  joinKeyValues: readonly (string | number | bigint)[],
): string {
  const { view, version } = write;
  const projection = projectionOf(project, view);
  let text = projection.head;
  view.joinKeys.forEach((key, i) => {
    const value = joinKeyValues[i]!;
    text += `,${JSON.stringify(key.name)}:${typeof value === "string" ? JSON.stringify(value) : String(value)}`;
  });
  const carried = write.features;
  for (let i = 0; i < view.features.length; i++) {
    let featureText = "";
    if (write.deleted) featureText = "";
    else if (carried === undefined) featureText = write.values[i]!;
    else {
      const at = carried.indexOf(i);
      if (at >= 0) featureText = write.values[at]!;
    }
    text += projection.featurePrefixes[i]! + projection.writers[i]!(featureText);
  }
  text +=
    `,"${OFFLINE_COLUMNS.eventTimestamp}":${version.eventTsMs}` +
    `,"${OFFLINE_COLUMNS.version}":${JSON.stringify(write.encodedVersion)}` +
    `,"${OFFLINE_COLUMNS.writtenAt}":${version.hlc.wallMs}}}`;
  return text;
}
