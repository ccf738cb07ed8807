// CDC end to end on the real servers: PostgreSQL, Debezium on Kafka Connect, the real ingest
// process (CDC mapper and changelog consumer), Redis, read through the online store. The
// snapshot of existing rows, inserts, updates, deletes (NOT_FOUND, and a replayed older change
// never resurrects), two updates of a row in quick succession, a column added and one dropped,
// and events the mapper cannot convert (dead-lettered with their reason).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Admin, Kafka, KafkaMessage, Producer } from "kafkajs";
import type pg from "pg";
import { DEAD_LETTER_HEADERS, deadLetterTopic } from "../../shared/changelog/index.js";
import { FeatureRegistry } from "../../shared/registry/index.js";
import { stackCdcDatabases } from "../../dev/stack/cdc-database.js";
import { connectUrl } from "../../dev/stack/endpoints.js";
import { ensureCdcConnectors } from "../../shared/sources/cdc-connectors.js";
import { parseCdcDatabases } from "../../shared/sources/cdc-databases.js";
import { cdcGroupId } from "../../shared/sources/cdc-mapper.js";
import { cdcTableTopic } from "../../shared/sources/debezium-config.js";
import {
  cleanUpCdc,
  connectPostgres,
  createCardsTable,
  startCdcIngest,
  waitForCdcConnector,
} from "../support/cdc.js";
import { cdcTestRepo } from "../support/cdc-repo.js";
import type { IngestProcess } from "../support/ingest-process.js";
import { kafkaClient } from "../support/servers.js";
import { openStore, uniqueProject, waitFor, type OpenedStore } from "../support/store.js";

const FEATURES = ["card_profile:limit_amount", "card_profile:status", "card_profile:nickname"];
const VISIBLE_MS = 30_000;

describe("CDC from PostgreSQL through Debezium into the online store", { timeout: 170_000 }, () => {
  const project = uniqueProject("cdc");
  const table = `cards_${project.slice(-12)}`;
  const registry = new FeatureRegistry(cdcTestRepo(project, table));
  const topic = cdcTableTopic(project, `public.${table}`);
  let db: pg.Client | undefined;
  let opened: OpenedStore | undefined;
  let ingest: IngestProcess | undefined;
  let kafka: Kafka;
  let admin: Admin | undefined;
  let producer: Producer | undefined;

  const read = async (id: number) =>
    (await opened!.store.read([{ card_id: id }], FEATURES)).rows[0]!;
  const until = (what: string, check: () => Promise<boolean>) =>
    waitFor(check, VISIBLE_MS, what, 50);

  before(async () => {
    db = await connectPostgres();
    await createCardsTable(db, table);
    // Rows that exist before the connector does: the snapshot must load them.
    await db.query(`insert into public.${table} values (1, 100.50, 'active'), (2, 200, 'blocked')`);
    opened = await openStore("standalone", registry, { hotCache: false });
    kafka = kafkaClient(`cdc-test-${project}`);
    admin = kafka.admin();
    producer = kafka.producer();
    await Promise.all([admin.connect(), producer.connect()]);
    // The connector first, and its snapshot in Kafka before the mapper starts: the mapper
    // must read the table topic from its beginning.
    await ensureCdcConnectors(registry, parseCdcDatabases(stackCdcDatabases()), connectUrl());
    await waitForCdcConnector(project);
    await waitFor(
      async () => {
        const offsets = await admin!.fetchTopicOffsets(topic).catch(() => []);
        return Number(offsets[0]?.high ?? 0) >= 2;
      },
      VISIBLE_MS,
      "the snapshot in the table topic",
      100,
    );
    ingest = startCdcIngest(project, table);
  });

  after(async () => {
    await producer?.disconnect();
    await admin?.disconnect();
    await opened?.close();
    await cleanUpCdc(project, table, db, ingest);
  });

  it("loads the rows that existed before the connector (the snapshot)", async () => {
    await until("snapshot rows", async () => (await read(2)).statuses[0] === "PRESENT");
    const one = await read(1);
    assert.deepEqual(one.values.slice(0, 2), [100.5, "active"]);
    // The feature has no column yet: null, not missing.
    assert.deepEqual(one.statuses, ["PRESENT", "PRESENT", "NULL_VALUE"]);
    assert.deepEqual((await read(2)).values.slice(0, 2), [200, "blocked"]);
  });

  it("writes an insert and then an update", async () => {
    await db!.query(`insert into public.${table} values (3, 10, 'new')`);
    await until("insert", async () => (await read(3)).values[1] === "new");
    await db!.query(
      `update public.${table} set credit_limit = 11.25, status = 'used' where id = 3`,
    );
    await until("update", async () => (await read(3)).values[1] === "used");
    assert.equal((await read(3)).values[0], 11.25);
  });

  it("keeps the second of two updates committed in quick succession", async () => {
    // One transaction: both changes share the commit time; only the LSN orders them.
    await db!.query(
      `begin; update public.${table} set status = 'first' where id = 1; update public.${table} set status = 'second' where id = 1; commit`,
    );
    // Two transactions back to back.
    await db!.query(`update public.${table} set status = 'third' where id = 3`);
    await db!.query(`update public.${table} set status = 'fourth' where id = 3`);
    await db!.query(`insert into public.${table} values (50, 1, 'sentinel')`);
    await until("the sentinel after them", async () => (await read(50)).values[1] === "sentinel");
    assert.equal((await read(1)).values[1], "second");
    assert.equal((await read(3)).values[1], "fourth");
  });

  it("reads NOT_FOUND after a delete, and a replayed older update does not bring the row back", async () => {
    await db!.query(`update public.${table} set status = 'older' where id = 2`);
    await db!.query(`update public.${table} set status = 'before-delete' where id = 2`);
    await until("update", async () => (await read(2)).values[1] === "before-delete");
    await db!.query(`delete from public.${table} where id = 2`);
    await until("delete", async () => (await read(2)).statuses[0] === "NOT_FOUND");
    assert.deepEqual((await read(2)).statuses, ["NOT_FOUND", "NOT_FOUND", "NOT_FOUND"]);

    // Kafka delivers at least once: an update's event again, after the delete's.
    const update = await findEvent(kafka, topic, (value) => value.includes('"older"'));
    const [sent] = await producer!.send({
      topic,
      messages: [{ key: update.key, value: update.value }],
    });
    await waitCommittedPast(admin!, cdcGroupId(project, "local"), topic, Number(sent!.baseOffset));
    await db!.query(`insert into public.${table} values (51, 1, 'sentinel')`);
    await until("a later change", async () => (await read(51)).values[1] === "sentinel");
    assert.deepEqual((await read(2)).statuses, ["NOT_FOUND", "NOT_FOUND", "NOT_FOUND"]);

    // A row inserted again under the deleted key is a newer change: it is written.
    await db!.query(`insert into public.${table} values (2, 5, 'reborn')`);
    await until("re-insert", async () => (await read(2)).values[1] === "reborn");
  });

  it("maps a column added to the table when the view has its feature, and writes null for a dropped one", async () => {
    await db!.query(`alter table public.${table} add column nickname text, add column extra int`);
    await db!.query(`update public.${table} set nickname = 'blue', extra = 7 where id = 1`);
    await until("new column", async () => (await read(1)).values[2] === "blue");
    await db!.query(`alter table public.${table} drop column status`);
    await db!.query(`update public.${table} set credit_limit = 99 where id = 1`);
    await until("dropped column", async () => (await read(1)).values[0] === 99);
    const row = await read(1);
    assert.deepEqual(row.statuses, ["PRESENT", "NULL_VALUE", "PRESENT"]);
    assert.equal(row.values[2], "blue");
  });

  it("dead-letters events it cannot convert, with their reason, and goes on", async () => {
    const missingKey = JSON.stringify({
      before: null,
      after: { credit_limit: "1.00" },
      source: { ts_ms: Date.now(), lsn: 1, db: "strata", schema: "public", table },
      op: "c",
    });
    await producer!.send({
      topic,
      messages: [
        { key: "{}", value: "this is not a change event" },
        { key: "{}", value: missingKey },
      ],
    });
    await db!.query(`insert into public.${table} (id, credit_limit) values (52, 3)`);
    await until("a later change", async () => (await read(52)).values[0] === 3);
    const dead = await readAll(kafka, deadLetterTopic(project), 2);
    const codes = dead.map((m) => m.headers![DEAD_LETTER_HEADERS.code]!.toString());
    assert.deepEqual(codes, ["STRATA_E_CDC_BAD_EVENT", "STRATA_E_CDC_UNMAPPABLE"]);
    assert.equal(dead[0]!.headers![DEAD_LETTER_HEADERS.topic]!.toString(), topic);
    assert.match(dead[1]!.headers![DEAD_LETTER_HEADERS.reason]!.toString(), /key column id/);
  });
});

/** The first record of `topic` whose value satisfies `match`. */
async function findEvent(
  kafka: Kafka,
  topic: string,
  match: (value: string) => boolean,
): Promise<KafkaMessage> {
  const all = await readAll(kafka, topic, 1, match);
  return all[0]!;
}

/** Reads `topic` from the beginning until `count` records satisfying `match` were seen. */
async function readAll(
  kafka: Kafka,
  topic: string,
  count: number,
  match: (value: string) => boolean = () => true,
): Promise<KafkaMessage[]> {
  const consumer = kafka.consumer({ groupId: `reader-${Date.now()}-${Math.random()}` });
  const found: KafkaMessage[] = [];
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: ({ message }) => {
        if (message.value && match(message.value.toString())) found.push(message);
        return Promise.resolve();
      },
    });
    await waitFor(() => found.length >= count, 30_000, `${count} records of ${topic}`, 50);
    return found;
  } finally {
    await consumer.disconnect();
  }
}

/** Waits until `group` committed an offset past `offset` on partition 0 of `topic`. */
async function waitCommittedPast(admin: Admin, group: string, topic: string, offset: number) {
  await waitFor(
    async () => {
      const [offsets] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
      const committed = offsets?.partitions.find((p) => p.partition === 0)?.offset;
      return committed !== undefined && Number(committed) > offset;
    },
    30_000,
    "the mapper's commit past the replayed event",
    100,
  );
}
