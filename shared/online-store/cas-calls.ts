import calculateSlot from "cluster-key-slot";

/**
 * Rows per call of the CAS script. One call per row spent more on the client building
 * commands and on the server starting scripts than on the compare-and-swap itself
 * (`npm run bench -- ingest`); a few dozen rows per call make that negligible, while one
 * call (a few tens of KB of arguments, well under a millisecond of script time) stays
 * about as long as the 16 KB of pipelined commands Redis runs from one client before it
 * serves the next, so readers queue behind writes no longer than before.
 */
export const ROWS_PER_CAS_CALL = 64;

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
