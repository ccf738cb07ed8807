import { StrataError, show } from "../errors.js";
import { parseExactJson } from "../exact-json.js";

/** Debezium's operation codes: create, update, delete, read (snapshot), truncate, message. */
export type DebeziumOp = "c" | "u" | "d" | "r" | "t" | "m";

/** A row image: column name -> value as the JsonConverter wrote it (integers past 2^53 as bigints). */
export type DebeziumRow = Record<string, unknown>;

/** The fields of a change event's `source` block that Strata uses. */
export interface DebeziumSource {
  /** The transaction's commit time (ms since epoch); the snapshot's read time for `r` events. */
  tsMs: number;
  /** The change's position in the write-ahead log; events of one row come in LSN order. */
  lsn: bigint;
  /** True for rows read by the initial snapshot (`op` `r`), whatever marker Debezium gave. */
  snapshot: boolean;
  /** Debezium's raw marker: "true", "first", "last", "incremental", "false", ... */
  snapshotMarker: string;
  db: string;
  schema: string;
  table: string;
  txId?: number;
}

/** A parsed Debezium change event (JsonConverter, `schemas.enable=false`). */
export interface DebeziumChangeEvent {
  op: DebeziumOp;
  /** The row before the change: null for inserts and reads; the replica identity columns for deletes by default. */
  before: DebeziumRow | null;
  /** The row after the change: null for deletes. */
  after: DebeziumRow | null;
  source: DebeziumSource;
  /** When Debezium processed the event (ms since epoch). */
  tsMs?: number;
}

const OPS = new Set<string>(["c", "u", "d", "r", "t", "m"]);

function bad(message: string, value: unknown): StrataError {
  return new StrataError("STRATA_E_CDC_BAD_EVENT", `Debezium change event: ${message}`, {
    value: show(value),
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function row(value: unknown, field: string): DebeziumRow | null {
  if (value === null || value === undefined) return null;
  if (!isObject(value)) throw bad(`"${field}" is not an object or null`, value);
  return value;
}

function lsnOf(value: unknown): bigint {
  if (typeof value === "bigint" && value >= 0n) return value;
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  if (typeof value === "string" && /^\d+$/.test(value)) return BigInt(value);
  throw bad('"source.lsn" is not a non-negative integer', value);
}

function tsOf(value: unknown, field: string): number {
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return value;
  throw bad(`"${field}" is not a time in milliseconds`, value);
}

function textOf(value: unknown, field: string): string {
  if (typeof value === "string") return value;
  throw bad(`"${field}" is not a string`, value);
}

/**
 * Parses the value of a Debezium PostgreSQL change event as the JsonConverter writes it without
 * schemas. Integers beyond 2^53 (int8 columns, LSNs) stay exact as bigints. Throws a StrataError
 * `STRATA_E_CDC_BAD_EVENT` naming the bad field; a Kafka tombstone (null value) is not an event
 * and must be skipped by the caller.
 */
export function parseDebeziumEvent(value: Buffer | string): DebeziumChangeEvent {
  const text = typeof value === "string" ? value : value.toString("utf8");
  let parsed: unknown;
  try {
    parsed = parseExactJson(text);
  } catch (error) {
    throw bad(`not JSON (${(error as Error).message})`, text);
  }
  if (!isObject(parsed)) throw bad("not a JSON object", parsed);
  // A converter with schemas on wraps the event in {schema, payload}: accept that too.
  const event = isObject(parsed.payload) && "schema" in parsed ? parsed.payload : parsed;
  const op = event.op;
  if (typeof op !== "string" || !OPS.has(op)) throw bad('"op" is not one of c, u, d, r, t, m', op);
  const source = event.source;
  if (!isObject(source)) throw bad('"source" is missing', event);
  const marker =
    source.snapshot === undefined || source.snapshot === null ? "false" : source.snapshot;
  const snapshotMarker =
    typeof marker === "boolean" ? String(marker) : textOf(marker, "source.snapshot");
  const parsedEvent: DebeziumChangeEvent = {
    op: op as DebeziumOp,
    before: row(event.before, "before"),
    after: row(event.after, "after"),
    source: {
      tsMs: tsOf(source.ts_ms, "source.ts_ms"),
      lsn: lsnOf(source.lsn),
      snapshot: op === "r" || (snapshotMarker !== "false" && snapshotMarker !== ""),
      snapshotMarker,
      db: textOf(source.db, "source.db"),
      schema: textOf(source.schema, "source.schema"),
      table: textOf(source.table, "source.table"),
      ...(typeof source.txId === "number" ? { txId: source.txId } : {}),
    },
    ...(typeof event.ts_ms === "number" ? { tsMs: event.ts_ms } : {}),
  };
  if ((op === "c" || op === "u" || op === "r") && parsedEvent.after === null) {
    throw bad(`"${op}" event has no "after" row`, event);
  }
  if (op === "d" && parsedEvent.before === null) {
    throw bad('delete event has no "before" row (is the replica identity set?)', event);
  }
  return parsedEvent;
}
