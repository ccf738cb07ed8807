// npm run bench -- sources: the sources of issue 29, each against its floor in the same run.
//   aggregate       rolling window aggregation apply (bench/_aggregate-bench.ts) vs raw pipelined
//                   HINCRBY of one field per event (floor_hincrby)
//   aggregate_read  a 1-hour window through /get-online-features, hot cache off
//                   (bench/_aggregate-read-bench.ts) vs a plain feature read the same way (redis_read)
//   cdc_visible     a committed UPDATE in PostgreSQL until /get-online-features returns it
//                   (bench/_cdc-bench.ts) vs the same UPDATE until its raw Debezium event is
//                   consumed from Kafka (floor_debezium)
// BENCH_SOURCES=aggregate,aggregate_read,cdc picks parts (default: all).
import type { BenchTableRow } from "./run.js";
import { aggregateBench } from "./_aggregate-bench.js";
import { measureAggregateRead } from "./_aggregate-read-bench.js";
import { runCdcBench } from "./_cdc-bench.js";
import { round } from "./_stats.js";

export const description =
  "aggregation apply vs raw HINCRBY; 1-hour aggregate read vs plain read over HTTP; CDC UPDATE visible vs raw Debezium event consumed";

const PARTS = ["aggregate", "aggregate_read", "cdc"] as const;

function chosenParts(): Set<string> {
  const text = process.env.BENCH_SOURCES;
  if (!text) return new Set(PARTS);
  const parts = text.split(",").map((p) => p.trim());
  const unknown = parts.filter((p) => !(PARTS as readonly string[]).includes(p));
  if (unknown.length > 0) {
    throw new Error(`BENCH_SOURCES: unknown part(s) ${unknown.join(", ")}; use ${PARTS.join(",")}`);
  }
  return new Set(parts);
}

export async function run(
  log: (line: string) => void,
): Promise<{ results: Record<string, unknown>; table: BenchTableRow[] }> {
  const parts = chosenParts();
  const results: Record<string, unknown> = {};
  const table: BenchTableRow[] = [];
  if (parts.has("aggregate")) {
    log("aggregate: apply path vs raw pipelined HINCRBY");
    const part = await aggregateBench(log);
    Object.assign(results, part.results);
    table.push(...part.table);
  }
  if (parts.has("aggregate_read")) {
    log("aggregate_read: 1-hour window vs plain feature through /get-online-features");
    const part = await measureAggregateRead(log);
    Object.assign(results, part.results);
    table.push(...part.table);
  }
  if (parts.has("cdc")) {
    log("cdc_visible: UPDATE committed -> served, vs raw Debezium event consumed");
    const cdc = await runCdcBench(log);
    Object.assign(results, cdc);
    table.push(
      {
        measurement: "floor_debezium",
        "p50 ms": cdc.floor_debezium.p50_ms,
        "p99 ms": cdc.floor_debezium.p99_ms,
        ratio: 1,
      },
      {
        measurement: "cdc_visible",
        "p50 ms": cdc.cdc_visible.p50_ms,
        "p99 ms": cdc.cdc_visible.p99_ms,
        ratio: round(cdc.ratio_p99, 2),
      },
    );
  }
  return { results, table };
}
