// The CDC part of `npm run bench -- sources` (the lead's bench/sources.ts calls runCdcBench):
// cdc_visible, from a committed UPDATE in PostgreSQL until /get-online-features (hot cache
// off) returns the new value, through the real path (Debezium on Kafka Connect, the ingest
// process' CDC mapper, the changelog, its consumer, Redis, a serving process), against
// floor_debezium, the same UPDATE until its raw Debezium event is consumed from the table
// topic, measured on the same UPDATEs in the same run. Needs the stack (PostgreSQL and Connect).
import type { KafkaMessage } from "kafkajs";
import { cdcTableTopic } from "../shared/sources/debezium-config.js";
import {
  cleanUpCdc,
  connectPostgres,
  createCardsTable,
  startCdcIngest,
  waitForCdcConnector,
} from "../test/support/cdc.js";
import { startServeProcess } from "../test/support/serve-process.js";
import { kafkaClient } from "../test/support/servers.js";
import { percentiles, round } from "./_stats.js";

export interface CdcBenchOptions {
  /** UPDATEs measured, one at a time (default 200). */
  samples?: number;
  /** Rows of the table the UPDATEs go round (default 100). */
  rows?: number;
}

export interface CdcBenchResults {
  cdc_visible: { p50_ms: number; p99_ms: number; samples: number };
  floor_debezium: { p50_ms: number; p99_ms: number; samples: number };
  /** cdc_visible.p99_ms / floor_debezium.p99_ms (target: at most 1.5). */
  ratio_p99: number;
}

const FEATURE = "card_profile:limit_amount";
const TIMEOUT_MS = 30_000;

export async function runCdcBench(
  log: (line: string) => void = () => {},
  options: CdcBenchOptions = {},
): Promise<CdcBenchResults> {
  const samples = options.samples ?? 200;
  const rows = options.rows ?? 100;
  const project = `benchcdc_${Date.now().toString(36)}`;
  const table = `cards_${project.slice(-8)}`;
  const db = await connectPostgres();
  let ingest: ReturnType<typeof startCdcIngest> | undefined;
  let serve: Awaited<ReturnType<typeof startServeProcess>> | undefined;
  const kafka = kafkaClient(`bench-cdc-${project}`);
  const consumer = kafka.consumer({ groupId: `bench-cdc-floor-${project}`, maxWaitTimeInMs: 100 });
  try {
    await createCardsTable(db, table);
    await db.query(
      `insert into public.${table} select g, 0, 'bench' from generate_series(1, ${rows}) g`,
    );
    ingest = startCdcIngest(project, table);
    await waitForCdcConnector(project);
    serve = await startServeProcess({
      project,
      topology: "standalone",
      region: "local",
      kafka: false,
      env: {
        STRATA_REPO: "test/support/cdc-repo-module.ts",
        STRATA_TEST_CDC_TABLE: table,
        STRATA_CACHE_ENTRIES: "0",
      },
      scrape: false,
    });
    const server = serve;
    // The floor's consumer: every raw event's arrival, by the value it carries.
    const arrived = new Map<string, number>();
    const waiting = new Map<string, () => void>();
    await consumer.connect();
    await consumer.subscribe({
      topic: cdcTableTopic(project, `public.${table}`),
      fromBeginning: false,
    });
    await consumer.run({
      eachMessage: ({ message }: { message: KafkaMessage }) => {
        const at = performance.now();
        const limit = /"credit_limit":"([^"]+)"/.exec(message.value?.toString() ?? "")?.[1];
        if (limit !== undefined) {
          arrived.set(limit, at);
          waiting.get(limit)?.();
        }
        return Promise.resolve();
      },
    });
    const readLimit = async (id: number): Promise<unknown> => {
      const response = await fetch(`${server.url}/get-online-features`, {
        method: "POST",
        headers: { authorization: `Bearer ${server.key}`, "content-type": "application/json" },
        body: JSON.stringify({ features: [FEATURE], entities: { card_id: [id] } }),
      });
      const body = (await response.json()) as {
        metadata: { feature_names: string[] };
        results: { values: unknown[] }[];
      };
      const column = body.metadata.feature_names.indexOf("limit_amount");
      return body.results[column]?.values[0];
    };
    // Every row loaded (the snapshot) and the floor's consumer in its group before measuring.
    const warm = Date.now();
    while ((await readLimit(rows)) !== 0) {
      if (Date.now() - warm > 120_000) throw new Error("the snapshot did not become visible");
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const visible: number[] = [];
    const floor: number[] = [];
    for (let i = 1; i <= samples; i++) {
      const id = ((i - 1) % rows) + 1;
      const value = `${i}.00`;
      const rawArrived = new Promise<void>((resolve) => waiting.set(value, resolve));
      await db.query(`update public.${table} set credit_limit = ${i} where id = ${id}`);
      const committed = performance.now();
      const deadline = Date.now() + TIMEOUT_MS;
      while ((await readLimit(id)) !== i) {
        if (Date.now() > deadline)
          throw new Error(`update ${i} not visible within ${TIMEOUT_MS} ms`);
      }
      visible.push(performance.now() - committed);
      await rawArrived;
      waiting.delete(value);
      floor.push(arrived.get(value)! - committed);
      if (i % 50 === 0) log(`cdc: ${i}/${samples} updates measured`);
    }
    const [visibleP50, visibleP99] = percentiles(visible, [0.5, 0.99]);
    const [floorP50, floorP99] = percentiles(floor, [0.5, 0.99]);
    return {
      cdc_visible: { p50_ms: round(visibleP50!), p99_ms: round(visibleP99!), samples },
      floor_debezium: { p50_ms: round(floorP50!), p99_ms: round(floorP99!), samples },
      ratio_p99: round(visibleP99! / floorP99!),
    };
  } finally {
    await consumer.disconnect();
    await serve?.stop();
    await cleanUpCdc(project, table, db, ingest);
  }
}
