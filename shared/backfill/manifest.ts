import { createHash } from "node:crypto";
import type { Manifest } from "./state.js";

/**
 * The order-independent checksum of a backfill's rows: two 32-bit sums of a SHA-1 of each row's
 * record key, event time and value texts. Sums do not depend on the order rows are produced or
 * loaded in, and every row counts once (verify counts each row number once).
 */
export class ManifestSum {
  rows = 0;
  private a = 0;
  private b = 0;

  add(recordKey: string, eventTsMs: number, values: readonly string[]): void {
    const digest = createHash("sha1")
      .update(`${recordKey}\n${eventTsMs}\n${values.join("\u0000")}`)
      .digest();
    this.a = (this.a + digest.readUInt32BE(0)) >>> 0;
    this.b = (this.b + digest.readUInt32BE(4)) >>> 0;
    this.rows++;
  }

  manifest(): Manifest {
    return {
      rows: this.rows,
      checksum: this.a.toString(16).padStart(8, "0") + this.b.toString(16).padStart(8, "0"),
    };
  }
}
