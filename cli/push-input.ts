import { createReadStream, statSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import { parse } from "csv-parse";
import { type FeatureType, type JoinKeyType, type PushTarget } from "../shared/registry/index.js";
import { parseExactJson } from "../shared/exact-json.js";
import { UserError } from "./errors.js";

/** One pushed row: column name to value, as Feast's push takes them. */
export type PushRow = Record<string, unknown>;

export type FileFormat = "jsonl" | "csv";

/** A file's rows, read as a stream, and how far through the file the reading is. */
export interface RowSource {
  rows: AsyncIterable<{ row: PushRow; line: number }>;
  /** Bytes read so far over the file's size (0 to 1). */
  fraction(): number;
}

/** The format: --format, else the file's extension (.csv is CSV, anything else JSON lines). */
export function fileFormat(file: string, explicit?: string): FileFormat {
  if (explicit !== undefined) {
    if (explicit !== "jsonl" && explicit !== "csv") {
      throw new UserError(
        `--format ${explicit} is not jsonl or csv`,
        "pass --format jsonl or --format csv",
      );
    }
    return explicit;
  }
  return path.extname(file).toLowerCase() === ".csv" ? "csv" : "jsonl";
}

/**
 * Streams a JSON lines file (one object per line; blank lines skipped) or a CSV file (a
 * header row; every cell typed by `columnTypes`, since CSV has no types).
 */
export function readRows(file: string, format: FileFormat, columnTypes?: ColumnTypes): RowSource {
  let size: number;
  try {
    size = statSync(file).size;
  } catch (error) {
    throw new UserError(
      `cannot read ${file}: ${(error as Error).message}`,
      "pass the path of a JSON lines or CSV file",
    );
  }
  let read = 0;
  const stream = createReadStream(file);
  stream.on("data", (chunk) => (read += chunk.length));
  const fraction = () => (size === 0 ? 1 : read / size);
  return {
    rows:
      format === "csv"
        ? csvRows(stream, file, columnTypes ?? (new Map() as ColumnTypes))
        : jsonRows(stream, file),
    fraction,
  };
}

async function* jsonRows(
  stream: NodeJS.ReadableStream,
  file: string,
): AsyncIterable<{ row: PushRow; line: number }> {
  let line = 0;
  for await (const text of createInterface({ input: stream, crlfDelay: Infinity })) {
    line++;
    if (text.trim() === "") continue;
    yield { row: parseRow(text, `${file}:${line}`), line };
  }
}

async function* csvRows(
  stream: NodeJS.ReadableStream,
  file: string,
  types: ColumnTypes,
): AsyncIterable<{ row: PushRow; line: number }> {
  const parser = stream.pipe(parse({ columns: true, skip_empty_lines: true, info: true }));
  try {
    for await (const record of parser as AsyncIterable<{
      record: Record<string, string>;
      info: { lines: number };
    }>) {
      const row: PushRow = {};
      for (const [column, text] of Object.entries(record.record))
        row[column] = csvValue(types.get(column), text);
      yield { row, line: record.info.lines };
    }
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new UserError(
      `${file} is not valid CSV: ${(error as Error).message}`,
      "a header row of column names, then one row per line",
    );
  }
}

/** A row given as JSON (--row, or a line of a JSON lines file). */
export function parseRow(text: string, where: string): PushRow {
  let parsed: unknown;
  try {
    // Exact: an int64 beyond 2^53 must reach the server as written, not rounded.
    parsed = parseExactJson(text);
  } catch {
    parsed = undefined;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new UserError(
      `${where} is not a JSON object of column to value`,
      'e.g. {"driver_id": 1001, "conv_rate": 0.5}',
    );
  }
  return parsed as PushRow;
}

/** Each pushed column's type: the target views' join keys and features. */
export type ColumnTypes = Map<string, FeatureType | JoinKeyType>;

export function columnTypes(target: PushTarget): ColumnTypes {
  const types: ColumnTypes = new Map();
  for (const view of target.views) {
    for (const key of view.joinKeys) types.set(key.name, key.type);
    for (const feature of view.features) types.set(feature.name, feature.type);
  }
  return types;
}

/**
 * A CSV cell as the JSON value /push takes for its column's type: empty is null, numbers and
 * booleans are parsed, a list is a JSON array in the cell, an int64 beyond 2^53 stays a decimal
 * string (as /push takes it). A cell that does not parse is sent as text, for the server to
 * name in its answer. Columns of no known type (the timestamp) stay text.
 */
export function csvValue(type: FeatureType | JoinKeyType | undefined, text: string): unknown {
  if (type === undefined) return text;
  if (text === "") return type === "string" ? "" : null;
  if (type.endsWith("[]")) {
    try {
      return parseExactJson(text);
    } catch {
      return text;
    }
  }
  switch (type) {
    case "int32":
    case "int64":
    case "unix_timestamp": {
      if (!/^-?\d+$/.test(text)) return text;
      const n = Number(text);
      return Number.isSafeInteger(n) ? n : text;
    }
    case "float32":
    case "float64": {
      const n = Number(text);
      return text.trim() !== "" && Number.isFinite(n) ? n : text;
    }
    case "bool": {
      const lower = text.toLowerCase();
      if (lower === "true" || lower === "1") return true;
      if (lower === "false" || lower === "0") return false;
      return text;
    }
    default:
      return text;
  }
}

/** Rows as Feast's column-major df; every row must have the first row's columns. */
export function toColumns(
  rows: readonly { row: PushRow; line: number }[],
  where: string,
): Record<string, unknown[]> {
  const first = rows[0]!.row;
  const names = Object.keys(first);
  const columns: Record<string, unknown[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (const { row, line } of rows) {
    const keys = Object.keys(row);
    if (keys.length !== names.length || !keys.every((k) => k in columns)) {
      throw new UserError(
        `${where} row at line ${line} has columns ${keys.join(",")}; the rows before it have ${names.join(",")}`,
        "give every row the same columns (null clears a feature)",
      );
    }
    for (const n of names) columns[n]!.push(row[n]);
  }
  return columns;
}
