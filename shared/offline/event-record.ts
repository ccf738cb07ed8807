import type { AggregationEvent } from "../aggregations/index.js";
import { decodeEntityKey } from "../key-codec.js";
import type { ResolvedView } from "../registry/feature-registry.js";
import { EVENT_COLUMNS } from "./aggregation-sql.js";
import { ROUTE_FIELD } from "./connect-record.js";
import {
  payloadWriter,
  scalarSchema,
  type ConnectSchema,
  type PayloadWriter,
} from "./connect-schema.js";
import { offlineTableId } from "./table-names.js";

interface EventProjection {
  head: string;
  inputPrefixes: string[];
  writers: PayloadWriter[];
}

const projections = new WeakMap<ResolvedView, Map<string, EventProjection>>();

function projectionOf(project: string, view: ResolvedView): EventProjection {
  let byProject = projections.get(view);
  if (!byProject) projections.set(view, (byProject = new Map<string, EventProjection>()));
  let projection = byProject.get(project);
  if (projection) return projection;
  const inputs = view.aggregation!.inputs;
  const { namespace, table } = offlineTableId(project, view.key);
  const fields: ConnectSchema[] = [
    ...view.joinKeys.map((key) => ({ ...scalarSchema(key.type, false), field: key.name })),
    ...inputs.map((input) => ({ ...scalarSchema(input.type, true), field: input.name })),
    { ...scalarSchema("unix_timestamp", false), field: EVENT_COLUMNS.eventTimestamp },
    { type: "string", optional: false, field: EVENT_COLUMNS.sourceTopic },
    { type: "int32", optional: false, field: EVENT_COLUMNS.partition },
    { type: "int64", optional: false, field: EVENT_COLUMNS.offset },
    { type: "string", optional: false, field: ROUTE_FIELD },
  ];
  const schema: ConnectSchema = { type: "struct", optional: false, fields };
  projection = {
    head: `{"schema":${JSON.stringify(schema)},"payload":{${JSON.stringify(ROUTE_FIELD)}:${JSON.stringify(`${namespace}.${table}`)}`,
    inputPrefixes: inputs.map((i) => `,${JSON.stringify(i.name)}:`),
    writers: inputs.map((i) => payloadWriter(i.type)),
  };
  byProject.set(project, projection);
  return projection;
}

/**
 * An aggregation view's event as the Kafka Connect JSON record of the view major's event
 * table (CONTRACTS.md "Aggregation offline"): join keys, every input column in its Iceberg
 * type, event_timestamp, the origin topic, partition and offset (what a training set dedupes
 * by and orders an entity's events by, as the online apply script does), and the route field.
 * Values are written from their value-codec text, so int64 inputs past 2^53 stay exact.
 */
export function projectEvent(project: string, event: AggregationEvent): string {
  const { view } = event;
  const projection = projectionOf(project, view);
  const joinKeyValues = decodeEntityKey(event.entity);
  let text = projection.head;
  view.joinKeys.forEach((key, i) => {
    const value = joinKeyValues[i]!;
    text += `,${JSON.stringify(key.name)}:${typeof value === "string" ? JSON.stringify(value) : String(value)}`;
  });
  for (let i = 0; i < projection.writers.length; i++) {
    text += projection.inputPrefixes[i]! + projection.writers[i]!(event.texts[i] ?? "");
  }
  text +=
    `,"${EVENT_COLUMNS.eventTimestamp}":${event.eventTsMs}` +
    `,"${EVENT_COLUMNS.sourceTopic}":${JSON.stringify(event.sourceTopic)}` +
    `,"${EVENT_COLUMNS.partition}":${event.partition}` +
    `,"${EVENT_COLUMNS.offset}":${event.offset}}}`;
  return text;
}
