// CDC through restarts on the real servers: the Debezium connector and its task restarted
// through Kafka Connect's REST API, and the ingest process (the CDC mapper) SIGKILLed, both
// while rows change. Nothing is lost (every row ends at the database's final value) and nothing
// repeated has an effect (a re-delivered change never overwrites a newer one).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Kafka } from "kafkajs";
import type pg from "pg";
import { FeatureRegistry } from "../../shared/registry/index.js";
import { cdcGroupId } from "../../shared/sources/cdc-mapper.js";
import { cdcTableTopic } from "../../shared/sources/debezium-config.js";
import {
  cleanUpCdc,
  connectPostgres,
  createCardsTable,
  restartCdcConnector,
  startCdcIngest,
  waitForCdcConnector,
} from "../support/cdc.js";
import { cdcTestRepo } from "../support/cdc-repo.js";
import type { IngestProcess } from "../support/ingest-process.js";
import { kafkaClient } from "../support/servers.js";
import { openStore, sleep, uniqueProject, waitFor, type OpenedStore } from "../support/store.js";

const ROWS = 40;
const ROUNDS = 24;

describe("CDC through connector and mapper restarts", { timeout: 170_000 }, () => {
  const project = uniqueProject("cdcrs");
  const table = `cards_${project.slice(-12)}`;
  const registry = new FeatureRegistry(cdcTestRepo(project, table));
  let db: pg.Client | undefined;
  let opened: OpenedStore | undefined;
  let ingest: IngestProcess | undefined;
  let kafka: Kafka;

  before(async () => {
    db = await connectPostgres();
    await createCardsTable(db, table);
    await db.query(
      `insert into public.${table} select g, 0, 'r0' from generate_series(1, ${ROWS}) g`,
    );
    opened = await openStore("standalone", registry, { hotCache: false });
    kafka = kafkaClient(`cdc-restart-${project}`);
    ingest = startCdcIngest(project, table);
    await waitForCdcConnector(project);
  });

  after(async () => {
    await opened?.close();
    await cleanUpCdc(project, table, db, ingest);
  });

  it("ends every row at the database's final value, with nothing lost or overtaken", async () => {
    const update = (round: number, id: number) =>
      db!.query(
        `update public.${table} set credit_limit = ${round}, status = 'r${round}' where id = ${id}`,
      );
    for (let round = 1; round <= ROUNDS; round++) {
      // Each row changes in its own transaction: many commits, each with its own LSN.
      for (let id = 1; id <= ROWS; id++) {
        await update(round, id);
        // The final round: the mapper dies while half the rows' last changes are in flight,
        // so a lost change would leave its row behind for good.
        if (round === ROUNDS && id === ROWS / 2) {
          ingest!.child.kill("SIGKILL");
          await new Promise((resolve) => ingest!.child.once("exit", resolve));
          ingest = startCdcIngest(project, table);
        }
      }
      if (round === ROUNDS / 2) await restartCdcConnector(project);
      await sleep(50);
    }
    const entities = Array.from({ length: ROWS }, (_, i) => ({ card_id: i + 1 }));
    const features = ["card_profile:limit_amount", "card_profile:status"];
    await waitFor(
      async () => {
        const { rows } = await opened!.store.read(entities, features);
        return rows.every((row) => row.values[0] === ROUNDS);
      },
      90_000,
      "every row at the final round",
      200,
    );
    // A last change, and the mapper killed a moment after it read it: whatever it had done
    // with it by then, the change must arrive.
    const topic = cdcTableTopic(project, `public.${table}`);
    const admin = kafka.admin();
    await admin.connect();
    try {
      const [end] = await admin.fetchTopicOffsets(topic);
      await update(ROUNDS + 1, 1);
      // Killed as soon as the mapper committed past the change.
      await waitFor(
        async () => {
          const [offsets] = await admin.fetchOffsets({
            groupId: cdcGroupId(project, "local"),
            topics: [topic],
          });
          return Number(offsets?.partitions[0]?.offset ?? -1) > Number(end!.high);
        },
        30_000,
        "the mapper's commit past the last change",
        5,
      );
    } finally {
      await admin.disconnect();
    }
    ingest!.child.kill("SIGKILL");
    await new Promise((resolve) => ingest!.child.once("exit", resolve));
    ingest = startCdcIngest(project, table);
    await waitFor(
      async () =>
        (await opened!.store.read([{ card_id: 1 }], features)).rows[0]!.values[0] === ROUNDS + 1,
      60_000,
      "the last change after the mapper's crash",
      200,
    );
    const { rows } = await opened!.store.read(entities, features);
    const { rows: expected } = await db!.query<{
      id: string;
      credit_limit: string;
      status: string;
    }>(`select id, credit_limit, status from public.${table} order by id`);
    assert.deepEqual(
      rows.map((row) => row.values),
      expected.map((row) => [Number(row.credit_limit), row.status]),
    );
    // Nothing older arrives later and overtakes: the values stay.
    await sleep(2_000);
    assert.deepEqual(
      (await opened!.store.read(entities, features)).rows.map((r) => r.values),
      rows.map((r) => r.values),
    );
    const events = await countEvents(kafka, topic);
    console.log(`# table topic: ${events.total} events, ${events.distinct} distinct changes`);
  });
});

/** Events on the table topic, and distinct (LSN, row) changes among them. */
async function countEvents(kafka: Kafka, topic: string) {
  const admin = kafka.admin();
  await admin.connect();
  const [end] = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const last = Number(end!.high);
  const consumer = kafka.consumer({ groupId: `count-${Date.now()}-${Math.random()}` });
  const seen = new Set<string>();
  let total = 0;
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    let consumed = 0;
    await consumer.run({
      eachMessage: ({ message }) => {
        consumed = Number(message.offset) + 1;
        if (message.value) {
          const event = JSON.parse(message.value.toString()) as {
            source: { lsn: number };
            after?: { id: number } | null;
          };
          total++;
          seen.add(`${event.source.lsn}/${event.after?.id}`);
        }
        return Promise.resolve();
      },
    });
    await waitFor(() => consumed >= last, 30_000, "the table topic read to its end", 50);
  } finally {
    await consumer.disconnect();
  }
  return { total, distinct: seen.size };
}
