import { show, StrataError } from "../errors.js";
import type { WriteRow } from "../online-store/write-path.js";
import type { CdcViewMapping, ResolvedCdcSource } from "../registry/cdc-sources.js";
import type { Version } from "../versions/version.js";
import { columnValue } from "./column-value.js";
import type { DebeziumChangeEvent, DebeziumRow } from "./debezium-event.js";

/**
 * The version of a change: its event time (the commit time, or the view's event-time column),
 * epoch 0, and the change's LSN as the HLC: {wallMs: lsn >> 16, counter: lsn & 0xffff}, 64
 * bits in the order LSNs have. Two changes of a row committed in the same millisecond are
 * then ordered by their position in the write-ahead log, so an older change never overtakes
 * a newer one, however Kafka delivers them.
 */
export function cdcVersion(eventTsMs: number, lsn: bigint, region: string): Version {
  return {
    eventTsMs,
    epoch: 0,
    hlc: { wallMs: Number(lsn >> 16n), counter: Number(lsn & 0xffffn) },
    originRegion: region,
  };
}

/** Debezium's placeholder for a TOASTed column an update did not change (unavailable.value.placeholder). */
const UNAVAILABLE = "__debezium_unavailable_value";

function unmappable(message: string, details: Record<string, unknown> = {}): StrataError {
  return new StrataError("STRATA_E_CDC_UNMAPPABLE", message, details);
}

function entityOf(
  mapping: CdcViewMapping,
  row: DebeziumRow,
  table: string,
): Record<string, unknown> {
  const entity: Record<string, unknown> = {};
  mapping.view.joinKeys.forEach((key, i) => {
    const column = mapping.keyColumns[i]!;
    const value = row[column];
    if (value === null || value === undefined) {
      throw unmappable(
        `${table}: key column ${column} (join key ${key.name} of ${mapping.view.key}) is missing or null in the change event`,
        { table, column, view: mapping.view.key },
      );
    }
    entity[key.name] = columnValue(value, key.type, `${table}.${column}`);
  });
  return entity;
}

/**
 * The event time of a change for one view: the commit time, or the event-time column of the
 * row. A delete's old row holds only the replica identity columns unless the table has
 * REPLICA IDENTITY FULL, so a delete without the column takes the commit time.
 */
function eventTimeOf(
  mapping: CdcViewMapping,
  event: DebeziumChangeEvent,
  row: DebeziumRow,
  table: string,
): number {
  if (mapping.eventTime === "commit") return event.source.tsMs;
  const { column } = mapping.eventTime;
  const raw = row[column];
  if ((raw === undefined || raw === null) && event.op === "d") return event.source.tsMs;
  const ms = columnValue(raw, "unix_timestamp", `${table}.${column}`);
  if (typeof ms !== "number" || !Number.isSafeInteger(ms) || ms < 0) {
    throw unmappable(
      `${table}: event-time column ${column} of ${mapping.view.key} holds ${show(raw)}, not a time`,
      { table, column, view: mapping.view.key },
    );
  }
  return ms;
}

/**
 * The writes one change event makes: one row per view major the table feeds. Inserts,
 * updates and snapshot reads write every feature from the new row, a feature whose column is
 * not in the row (dropped from the table) as null; a column the views do not map is ignored.
 * A delete is a delete row (`deleted: true`, no values). Truncates and logical messages write
 * nothing (none for a table Debezium is told to skip). Throws STRATA_E_CDC_UNMAPPABLE when a
 * key column is missing or a value cannot be read as its feature's type.
 */
export function mapChange(
  event: DebeziumChangeEvent,
  source: ResolvedCdcSource,
  region: string,
): WriteRow[] {
  if (event.op === "t" || event.op === "m") return [];
  const table = source.table;
  const deleted = event.op === "d";
  const row = (deleted ? event.before : event.after)!;
  return source.views.map((mapping) => {
    const entity = entityOf(mapping, row, table);
    const version = cdcVersion(eventTimeOf(mapping, event, row, table), event.source.lsn, region);
    const view = mapping.view.key;
    if (deleted) return { view, entity, values: {}, version, deleted: true };
    const values: Record<string, unknown> = {};
    mapping.view.features.forEach((feature, i) => {
      const column = mapping.columns[i]!;
      const value = row[column];
      if (value === UNAVAILABLE) {
        throw unmappable(
          `${table}: column ${column} is an unchanged TOASTed value Debezium did not receive; give the table REPLICA IDENTITY FULL`,
          { table, column, view },
        );
      }
      values[feature.name] = columnValue(value, feature.type, `${table}.${column}`);
    });
    return { view, entity, values, version };
  });
}
