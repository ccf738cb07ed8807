// Online/offline parity of rolling aggregations (one Redis topology per call of parityTests): random event histories go through the real
// events topic; the ingest process's aggregation consumer applies them to Redis (Lua tiles)
// and its offline projector writes them through the Iceberg sink into the view's event table.
// Online values read at t1..tn (each once every event of time <= ti arrived, and before any
// event of a later round) must equal the training set's values at those times from the
// offline store. Histories have events within and beyond the allowed lateness, ties on the
// event millisecond, and a re-delivery of everything produced so far to both consumers.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { Kafka, logLevel, type Admin, type Producer } from "kafkajs";
import { connectUrl, resolveEndpoints } from "../../dev/stack/endpoints.js";
import { stackPaths } from "../../dev/stack/paths.js";
import {
  aggregationEventKey,
  aggregationGroupId,
  aggregationEventsTopic,
  encodeAggregationEvent,
  readAggregates,
} from "../../shared/aggregations/index.js";
import { waitUntilCommitted } from "../../shared/changelog/committed-lag.js";
import { createKeyPartitioner } from "../../shared/changelog/partitioner.js";
import { encodeEntityKey } from "../../shared/key-codec.js";
import { openEmbeddedEngine } from "../../shared/offline/duckdb.js";
import { warehouseHistory } from "../../shared/offline/history-source.js";
import { projectorGroupId } from "../../shared/offline/projector.js";
import { offlineTableDir } from "../../shared/offline/table-names.js";
import { buildTrainingSet } from "../../shared/offline/training-set.js";
import { encodeValue, FeatureRegistry } from "../../shared/registry/index.js";
import { startIngestProcess, type IngestProcess } from "./ingest-process.js";
import { tempDir } from "./offline-history.js";
import { AggregationModel, sameAggregate } from "./offline-aggregation-model.js";
import { parityRounds, type ParityEvent } from "./parity-events.js";
import { PARITY_LATENESS_MS, parityRepo } from "./parity-repo.js";
import { connectRedis, type RedisClient, type Topology } from "./servers.js";
import { uniqueProject, waitFor } from "./store.js";

const REGION = "test-agg-parity";
const REPO = "test/support/parity-repo-module.ts";
const COMMIT_INTERVAL_MS = 5_000;
const MIN = 60_000;
const CARDS = [11, 12, 13, 14, 15];
const ROUNDS = 5;
/** After this round's reads, both consumers are rewound to the start of the events topic. */
const REWIND_AFTER = 2;
const SEED = Number(process.env.STRATA_PARITY_SEED ?? 2029);

/** JS values of a DuckDB row: integers as numbers (these are small), lists as arrays. */
const plain = (value: unknown): unknown =>
  typeof value === "bigint" ? Number(value) : Array.isArray(value) ? value.map(plain) : value;

/** The parity test on one Redis topology (one test file each: together they outlast a file's time limit under load). */
export function parityTests(topology: Topology): void {
  describe(`aggregations: online (Lua tiles) and offline (training set) give the same answer (${topology})`, () => {
    const project = uniqueProject(topology === "cluster" ? "aggparityc" : "aggparity");
    const registry = new FeatureRegistry(parityRepo(project));
    const view = registry.aggregationView("card_velocity@1");
    const aggregations = view.aggregation.aggregations;
    const topic = aggregationEventsTopic(project);
    const onlineGroup = aggregationGroupId(project, REGION);
    const offlineGroup = projectorGroupId(project, REGION);
    const warehouse = stackPaths.warehouse;
    const tmp = tempDir("strata-agg-parity");
    const kafka = new Kafka({
      brokers: resolveEndpoints().kafka.address,
      logLevel: logLevel.NOTHING,
    });
    const admin: Admin = kafka.admin();
    const producer: Producer = kafka.producer({
      createPartitioner: createKeyPartitioner,
      idempotent: true,
      maxInFlightRequests: 1,
    });
    let redis: RedisClient;
    let ingest: IngestProcess | undefined;

    const startIngest = async (): Promise<IngestProcess> => {
      const started = startIngestProcess({
        project,
        region: REGION,
        env: {
          STRATA_REPO: REPO,
          STRATA_OFFLINE: "on",
          STRATA_CONNECT_URL: connectUrl(),
          STRATA_OFFLINE_WAREHOUSE: warehouse,
          STRATA_OFFLINE_COMMIT_INTERVAL_MS: String(COMMIT_INTERVAL_MS),
          ...(topology === "cluster"
            ? {
                REDIS_CLUSTER_NODES: resolveEndpoints()
                  .cluster.address.map((n) => `${n.host}:${n.port}`)
                  .join(","),
              }
            : {}),
        },
      });
      await waitFor(
        () =>
          started.output().includes('"projecting to the offline store"') ||
          started.child.exitCode !== null,
        60_000,
        "ingest starts projecting",
        100,
      );
      assert.equal(started.child.exitCode, null, started.output());
      return started;
    };

    before(async () => {
      redis = connectRedis(topology);
      await Promise.all([admin.connect(), producer.connect()]);
      ingest = await startIngest();
    });

    after(async () => {
      await ingest?.stop();
      await Promise.all([admin.disconnect(), producer.disconnect(), redis.quit()]);
      await fetch(`${connectUrl()}/connectors/strata-${project}-offline`, {
        method: "DELETE",
      }).catch(() => undefined);
      tmp.remove();
    });

    const produce = async (events: readonly ParityEvent[]) => {
      // One send: Kafka keeps the order of one partition's records within it.
      await producer.send({
        topic,
        acks: -1,
        messages: events.map((e) => {
          const entity = encodeEntityKey(view.joinKeys, { card_id: e.cardId });
          return {
            key: aggregationEventKey(view.key, entity),
            value: encodeAggregationEvent(view, entity, e.ts, {
              amount: e.amount === null ? "" : encodeValue("float64", e.amount),
              qty: String(e.qty),
            }),
          };
        }),
      });
    };

    /** What the online read path serves at `atMs`: null for every aggregate of an entity without state. */
    const readOnline = async (atMs: number): Promise<Map<number, unknown[]>> => {
      const keys = CARDS.map((id) => encodeEntityKey(view.joinKeys, { card_id: id }));
      const rows = await readAggregates(redis, project, view, keys, atMs);
      return new Map(
        CARDS.map((id, i) => [
          id,
          aggregations.map((agg, a) => {
            const text = rows[i]!.texts[a]!;
            return !rows[i]!.hasState || text === "" ? null : plain(agg.output.codec.decode(text));
          }),
        ]),
      );
    };

    it("serves, at each read time, exactly what the training set computes for that time", async () => {
      const start = Math.floor((Date.now() - 3 * 86_400_000) / 3_600_000) * 3_600_000;
      const rounds = parityRounds({
        seed: SEED,
        start,
        rounds: ROUNDS,
        roundMs: 20 * MIN,
        eventsPerRound: 30,
        cards: CARDS,
      });
      const total = rounds.reduce((n, r) => n + r.events.length, 0);
      // The history exercises the lateness rule both ways (one entity's events are in order in its partition).
      const model = new AggregationModel(PARITY_LATENESS_MS);
      rounds
        .flatMap((r) => r.events)
        .forEach((e, offset) =>
          model.deliver({
            entity: String(e.cardId),
            ts: e.ts,
            topic,
            partition: 0,
            offset,
            values: { amount: e.amount, qty: e.qty },
          }),
        );
      assert.ok(model.tooLate.length > 0, "some events are beyond the allowed lateness");
      assert.ok(model.lateApplied > 0, "some events are late but within the allowed lateness");
      let replayed = 0;
      const online: Map<number, unknown[]>[] = [];
      for (const [i, round] of rounds.entries()) {
        await produce(round.events);
        await waitUntilCommitted(admin, onlineGroup, topic, 60_000, 50);
        online.push(await readOnline(round.readAt));
        if (i === REWIND_AFTER) {
          // Re-delivery: both consumers read every event produced so far a second time.
          await waitUntilCommitted(admin, offlineGroup, topic, 60_000, 50);
          await ingest!.stop();
          const partitions = (await admin.fetchTopicOffsets(topic)).map((p) => ({
            partition: p.partition,
            offset: p.low,
          }));
          await admin.setOffsets({ groupId: onlineGroup, topic, partitions });
          await admin.setOffsets({ groupId: offlineGroup, topic, partitions });
          replayed = rounds.slice(0, i + 1).reduce((n, r) => n + r.events.length, 0);
          ingest = await startIngest();
        }
      }

      // Every projected row, re-deliveries included, is in the event table.
      const engine = await openEmbeddedEngine({ threads: 1 });
      try {
        const table = offlineTableDir(warehouse, project, view.key);
        let rows = 0;
        await waitFor(
          async () => {
            try {
              const result = await engine.connection.runAndReadAll(
                `SELECT count(*)::INTEGER AS n FROM iceberg_scan('${table}')`,
              );
              rows = Number(result.getRows()[0]![0]);
            } catch {
              return false; // not created yet
            }
            return rows >= total + replayed;
          },
          120_000,
          `the event table holds ${total + replayed} rows`,
          1_000,
        );
        assert.equal(rows, total + replayed, "each delivery is a row: duplicates included");
        const described = await engine.connection.runAndReadAll(
          `DESCRIBE SELECT * FROM iceberg_scan('${table}')`,
        );
        assert.deepEqual(
          described.getRowObjects().map((c) => `${String(c.column_name)} ${String(c.column_type)}`),
          [
            "card_id BIGINT",
            "amount DOUBLE",
            "qty BIGINT",
            "event_timestamp TIMESTAMP WITH TIME ZONE",
            "strata_source_topic VARCHAR",
            "strata_partition INTEGER",
            "strata_offset BIGINT",
            "strata_table VARCHAR",
          ],
        );

        const entities = path.join(tmp.dir, "entities.csv");
        const lines = ["card_id,event_timestamp"];
        for (const round of rounds) {
          for (const id of CARDS) lines.push(`${id},${new Date(round.readAt).toISOString()}`);
        }
        writeFileSync(entities, lines.join("\n") + "\n");
        const out = path.join(tmp.dir, "parity.parquet");
        await buildTrainingSet(
          {
            registry,
            features: aggregations.map((a) => `${view.name}:${a.name}`),
            entities,
            history: warehouseHistory(warehouse, project),
            out,
          },
          { engine },
        );
        const offline = (
          await engine.connection.runAndReadAll(`SELECT * FROM read_parquet('${out}')`)
        ).getRowObjectsJS();

        let compared = 0;
        let nonEmpty = 0;
        rounds.forEach((_, i) => {
          CARDS.forEach((id, c) => {
            const row = offline[i * CARDS.length + c]!;
            aggregations.forEach((agg, a) => {
              const want = online[i]!.get(id)![a];
              const have = plain(row[agg.name]);
              assert.ok(
                sameAggregate(agg.function, have, want),
                `card ${id}, ${agg.name} at read ${i + 1}: online ${JSON.stringify(want)}, offline ${JSON.stringify(have)} (seed ${SEED})`,
              );
              compared += 1;
              if (want !== null && want !== 0 && !(Array.isArray(want) && want.length === 0)) {
                nonEmpty += 1;
              }
            });
          });
        });
        // The comparison is not vacuous: most values are real aggregates.
        assert.ok(nonEmpty > compared / 2, `${nonEmpty} of ${compared} values are non-empty`);
      } finally {
        engine.close();
      }
    });
  });
}
