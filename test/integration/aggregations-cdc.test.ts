// Aggregations over a CDC source on the real servers: a transactions table in the stack's
// PostgreSQL, Debezium on Kafka Connect, the real ingest process (its aggregation consumer
// reads the Debezium table topic directly), Redis, read through the online store's read path.
// Rows present before the connector (the snapshot) and rows inserted later are events; updates
// and deletes of a row are not, and a consumer restart does not count anything twice.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type pg from "pg";
import { stackCdcDatabases } from "../../dev/stack/cdc-database.js";
import { FeatureRegistry } from "../../shared/registry/index.js";
import { cleanUpCdc, connectPostgres, waitForCdcConnector } from "../support/cdc.js";
import { cdcAggregationRepo } from "../support/cdc-aggregation-repo-module.js";
import { startIngestProcess, type IngestProcess } from "../support/ingest-process.js";
import { connectUrl } from "../../dev/stack/endpoints.js";
import { openStore, uniqueProject, waitFor, type OpenedStore } from "../support/store.js";

const FEATURES = [
  "card_spend:txn_count_1h",
  "card_spend:amount_sum_1h",
  "card_spend:amount_max_1h",
];
const VISIBLE_MS = 60_000;

describe("aggregations over a CDC source", { timeout: 170_000 }, () => {
  const project = uniqueProject("aggcdc");
  const table = `txns_${project.slice(-12)}`;
  const registry = new FeatureRegistry(cdcAggregationRepo(project, table));
  let db: pg.Client | undefined;
  let opened: OpenedStore | undefined;
  let ingest: IngestProcess | undefined;

  const startIngest = () =>
    startIngestProcess({
      project,
      region: "local",
      env: {
        STRATA_REPO: "test/support/cdc-aggregation-repo-module.ts",
        STRATA_TEST_CDC_TABLE: table,
        STRATA_CDC: "on",
        STRATA_CDC_DATABASES: stackCdcDatabases(),
        STRATA_CONNECT_URL: connectUrl(),
      },
    });
  const read = async (card: number) =>
    (await opened!.store.read([{ card_id: card }], FEATURES)).rows[0]!;
  const insert = (id: number, card: number, amount: number, minutesAgo: number) =>
    db!.query(
      `insert into public.${table} values ($1, $2, $3, now() - make_interval(mins => $4))`,
      [id, card, amount, minutesAgo],
    );

  before(async () => {
    db = await connectPostgres();
    await db.query(
      `create table public.${table} (id bigint primary key, card bigint not null, amount double precision, at timestamptz not null)`,
    );
    // Before the connector exists: the snapshot must turn these into events.
    await insert(1, 7, 10.5, 30);
    await insert(2, 7, 4, 20);
    // Outside the 1-hour window: an event, but never counted by it.
    await insert(3, 7, 1000, 90);
    opened = await openStore("standalone", registry, { hotCache: false });
    ingest = startIngest();
    await waitForCdcConnector(project);
  });

  after(async () => {
    await opened?.close();
    await cleanUpCdc(project, table, db, ingest);
  });

  it("counts the snapshot's rows and inserted rows as events, in their window", async () => {
    await waitFor(
      async () => (await read(7)).values[0] === 2,
      VISIBLE_MS,
      "the snapshot's events",
      100,
    );
    assert.deepEqual((await read(7)).values, [2, 14.5, 10.5]);
    await insert(4, 7, 20, 5);
    await insert(5, 8, 3.25, 1);
    await waitFor(async () => (await read(8)).values[0] === 1, VISIBLE_MS, "inserts", 100);
    await waitFor(async () => (await read(7)).values[0] === 3, VISIBLE_MS, "insert", 100);
    assert.deepEqual((await read(7)).values, [3, 34.5, 20]);
    assert.deepEqual((await read(8)).values, [1, 3.25, 3.25]);
  });

  it("makes no event of an update or a delete, and counts nothing twice after a SIGKILL", async () => {
    await db!.query(`update public.${table} set amount = 500 where id = 4`);
    await db!.query(`delete from public.${table} where id = 1`);
    // Killed without a chance to commit, the consumer re-reads what it had applied since its
    // last commit: the offsets kept in the entity's hash must skip it.
    const killed = ingest!;
    await new Promise((resolve) => {
      killed.child.once("exit", resolve);
      killed.child.kill("SIGKILL");
    });
    ingest = startIngest();
    await insert(6, 8, 1, 0);
    await waitFor(async () => (await read(8)).values[0] === 2, VISIBLE_MS, "after restart", 100);
    assert.deepEqual((await read(7)).values, [3, 34.5, 20]);
    assert.deepEqual((await read(8)).values, [2, 4.25, 3.25]);
  });
});
