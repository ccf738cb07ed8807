// npm run bench -- record: what the regional consumer spends turning one changelog record (a
// row of 10 float64 features, as `npm run bench -- ingest` writes them) into a CAS write, in a
// tight loop with no Kafka or Redis around it:
//   floor_json_parse   JSON.parse of the record's text, and nothing else
//   canonical_reader   shared/changelog/canonical-record.ts reading the same text
//   decode_canonical   decodeChangelogRecord on the text as the writer wrote it (the reader,
//                      then validation against the registry)
//   decode_json        decodeChangelogRecord on the same record with one space added, which
//                      the reader leaves to JSON.parse (the path records from other writers take)
// Nanoseconds per record: seven rounds, the four interleaved within each, median per measurement.
import type { BenchTableRow } from "./run.js";
import { benchRepo, benchRows } from "./_bench-repo.js";
import { median, nowNs, round } from "./_stats.js";
import { readCanonicalRecord } from "../shared/changelog/canonical-record.js";
import {
  canonicalViewLookup,
  decodeChangelogRecord,
  encodeChangelogRecord,
} from "../shared/changelog/record.js";
import { prepareWrites } from "../shared/online-store/write-path.js";
import { FeatureRegistry } from "../shared/registry/index.js";
import { HybridLogicalClock } from "../shared/versions/index.js";

export const description =
  "changelog record decoding per record: the consumer's canonical reader and its JSON.parse path, against JSON.parse alone";

const RECORDS = 2_000;
const ROUNDS = 7;
const REPEAT = 50;

export function run(log: (line: string) => void) {
  const registry = new FeatureRegistry(benchRepo("benchrecord"));
  const clock = new HybridLogicalClock();
  const writes = prepareWrites(registry, benchRows(RECORDS, clock));
  const records = writes.map(encodeChangelogRecord);
  // JSON-equivalent text off the reader's one layout: `{"schema":1, "view":...`.
  const spaced = records.map((r) => ({
    key: r.key,
    value: r.value.replace('{"schema":1,', '{"schema":1, '),
  }));
  const lookup = canonicalViewLookup(registry);

  // Both decode paths must make the same write of each record, or the comparison means nothing.
  records.forEach((r, i) => {
    const a = decodeChangelogRecord(registry, r.key, r.value, i);
    const b = decodeChangelogRecord(registry, spaced[i]!.key, spaced[i]!.value, i);
    if (JSON.stringify(a) !== JSON.stringify(b) || !readCanonicalRecord(r.value, lookup)) {
      throw new Error(`record ${i}: the two decode paths disagree`);
    }
  });

  const measurements: Record<string, (i: number) => unknown> = {
    floor_json_parse: (i) => JSON.parse(records[i]!.value) as unknown,
    canonical_reader: (i) => readCanonicalRecord(records[i]!.value, lookup),
    decode_canonical: (i) => decodeChangelogRecord(registry, records[i]!.key, records[i]!.value, i),
    decode_json: (i) => decodeChangelogRecord(registry, spaced[i]!.key, spaced[i]!.value, i),
  };
  const names = Object.keys(measurements);
  // JIT warm-up before timing.
  for (const name of names) for (let k = 0; k < 20; k++) loop(measurements[name]!);
  const samples = new Map(names.map((name) => [name, [] as number[]]));
  for (let r = 0; r < ROUNDS; r++) {
    for (const name of names) {
      const started = nowNs();
      for (let k = 0; k < REPEAT; k++) loop(measurements[name]!);
      samples.get(name)!.push((nowNs() - started) / (REPEAT * RECORDS));
    }
  }
  const floor = median(samples.get("floor_json_parse")!);
  const results: Record<string, { ns_per_record: number; ratio_to_floor: number }> = {};
  const table: BenchTableRow[] = [];
  for (const name of names) {
    const ns = median(samples.get(name)!);
    results[name] = { ns_per_record: Math.round(ns), ratio_to_floor: round(ns / floor) };
    log(`${name}: ${Math.round(ns)} ns per record (median of ${ROUNDS})`);
    table.push({ measurement: name, ns_per_record: Math.round(ns), ratio: round(ns / floor) });
  }
  return Promise.resolve({
    results: {
      config: {
        records: RECORDS,
        rounds: ROUNDS,
        repeat: REPEAT,
        recordBytes: records[0]!.value.length,
      },
      ...results,
    },
    table,
  });
}

function loop(measure: (i: number) => unknown): void {
  for (let i = 0; i < RECORDS; i++) measure(i);
}
