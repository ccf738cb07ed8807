import calculateSlot from "cluster-key-slot";
import { rowSubsetFields, type RowFields } from "./redis-layout.js";

/**
 * Rows per call of the CAS script. With one call per row, the regional consumer spent a large
 * share of its time building ioredis commands; calls of a few dozen rows remove most of that
 * while Redis' own time per row stays the same. The size bounds how long one call holds
 * Redis: a call of 32 rows runs about as long as the pipelined commands Redis runs from one
 * client before it serves the next, so readers queue behind writes no longer than before.
 */
export const ROWS_PER_CAS_CALL = 32;

/**
 * Groups rows (by their Redis keys, in order) into CAS calls of at most `ROWS_PER_CAS_CALL`
 * rows, each a list of row indexes in ascending order. On Redis Cluster a script may only
 * touch keys of one hash slot, so rows are grouped by slot first; on a standalone server
 * consecutive rows share a call. Rows of one key stay in their original order either way,
 * so a batch that writes a key twice is applied in the order it was given.
 */
export function groupCasCalls(keys: readonly string[], cluster: boolean): number[][] {
  const calls: number[][] = [];
  if (!cluster) {
    for (let start = 0; start < keys.length; start += ROWS_PER_CAS_CALL) {
      const end = Math.min(start + ROWS_PER_CAS_CALL, keys.length);
      calls.push(Array.from({ length: end - start }, (_, i) => start + i));
    }
    return calls;
  }
  const open = new Map<number, number[]>();
  for (let i = 0; i < keys.length; i++) {
    const slot = calculateSlot(keys[i]!);
    let call = open.get(slot);
    if (!call) {
      open.set(slot, (call = []));
      calls.push(call);
    }
    call.push(i);
    if (call.length === ROWS_PER_CAS_CALL) open.delete(slot);
  }
  return calls;
}

/** What a row of a CAS call writes (a PreparedWrite has it). */
export interface CasRow {
  encodedVersion: string;
  encodedClock: string;
  /** Encoded values in the order of its fields' features, or of `features` when set. */
  values: readonly string[];
  /** Positions in its fields' features of the values, when the row writes only some of them. */
  features?: readonly number[];
  /** A delete: no values; the script stores the version and removes the fields' features. */
  deleted?: true;
}

/**
 * Appends the script's ARGV for one call (lua/cas-write.lua) to `argv`: the call's shapes, the
 * field names of each view major and generation it writes, once, then per row its shape
 * number, version, clock and values. Field names per row were half of a row's arguments, and
 * the consumer spends its time per argument: building the command and writing it to the
 * socket. A row that writes only some features (`features`) gets a shape of its own subset,
 * so the script leaves the other fields as they are.
 */
export function appendCasCallArguments<Row extends CasRow>(
  argv: (string | number)[],
  rows: readonly Row[],
  fieldsOf: (row: Row) => RowFields,
): void {
  const shapeOf = new Map<RowFields, number>();
  // A delete's shape names every feature field of its view, to remove; its rows carry no values.
  const deleteShapeOf = new Map<RowFields, number>();
  const shapes: { fields: RowFields; deleted: boolean }[] = [];
  const rowShapes = rows.map((row) => {
    const deleted = row.deleted === true;
    const fields =
      row.features && !deleted ? rowSubsetFields(fieldsOf(row), row.features) : fieldsOf(row);
    const byFields = deleted ? deleteShapeOf : shapeOf;
    let shape = byFields.get(fields);
    if (shape === undefined) {
      shapes.push({ fields, deleted });
      byFields.set(fields, (shape = shapes.length));
    }
    return shape;
  });
  argv.push(shapes.length);
  for (const { fields, deleted } of shapes) {
    const m = fields.features.length;
    // A delete shape's count is negative: the script reads its rows without values.
    argv.push(deleted ? -m : m, fields.version, fields.clock, ...fields.features);
  }
  rows.forEach((row, i) => {
    argv.push(rowShapes[i]!, row.encodedVersion, row.encodedClock, ...row.values);
  });
}
