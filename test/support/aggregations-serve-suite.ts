// Shared by test/integration/aggregations-serve-standalone.test.ts and -cluster.test.ts: events
// pushed through the real serve /push, applied by the real aggregation consumer (the ingest
// process), read back through /get-online-features and compared with a brute-force computation.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { resolveEndpoints } from "../../dev/stack/endpoints.js";
import { generateApiKey } from "../../functions/serve/auth.js";
import {
  changelogTopic,
  consumerGroupId,
  createKafka,
  deadLetterTopic,
  waitUntilCommitted,
} from "../../shared/changelog/index.js";
import type { RedisAddress } from "../../shared/config/env.js";
import { FeatureRegistry, type AggregationDefinition } from "../../shared/registry/index.js";
import {
  expectedAggregate,
  expectedLast,
  sameValue,
  type Expected,
  type PushedTxn,
} from "./aggregate-brute-force.js";
import { aggregationsServeRepo } from "./aggregations-serve-repo.js";
import { TEST_TOPICS } from "./changelog.js";
import { startIngestProcess, type IngestProcess } from "./ingest-process.js";
import { seededRandom } from "./seeded-random.js";
import { post, startTestServer, type TestServer } from "./serve.js";
import type { Topology } from "./servers.js";
import { sleep, uniqueProject } from "./store.js";

const REGION = "aggserve";
const HOUR = 3_600_000;

interface FeastColumn {
  values: unknown[];
  statuses: string[];
  event_timestamps: string[];
}

export function aggregationsServeSuite(topology: Topology): void {
  describe(`aggregates served through /get-online-features (${topology})`, () => {
    const registry = new FeatureRegistry(aggregationsServeRepo(uniqueProject("aggserve")));
    const project = registry.project;
    const aggregations = registry.definition.aggregationViews![0]!.aggregations;
    const pusher = generateApiKey("pusher", { push: true });
    const endpoints = resolveEndpoints();
    const kafka = createKafka(
      { brokers: endpoints.kafka.address, clientId: "aggserve-test" },
      () => undefined,
    );
    const admin = kafka.admin();
    let server: TestServer;
    let ingest: IngestProcess;
    /** Every event pushed and accepted so far, by card. */
    const pushed = new Map<string, PushedTxn[]>();

    before(async () => {
      await admin.connect();
      const redis: RedisAddress =
        topology === "cluster"
          ? { clusterNodes: endpoints.cluster.address }
          : { url: endpoints.redis.address };
      server = await startTestServer(registry, {
        redis,
        extraKeys: [pusher.record],
        changelog: {
          kafka: { brokers: endpoints.kafka.address },
          region: REGION,
          topics: TEST_TOPICS,
          queueMaxRecords: 10_000,
          batchSize: 500,
          lingerMs: 5,
          ackTimeoutMs: 10_000,
        },
      });
      ingest = startIngestProcess({
        project,
        region: REGION,
        env: {
          STRATA_REPO: "test/support/aggregations-serve-repo-module.ts",
          ...(topology === "cluster"
            ? {
                REDIS_CLUSTER_NODES: endpoints.cluster.address
                  .map((n) => `${n.host}:${n.port}`)
                  .join(","),
              }
            : {}),
        },
      });
    });
    after(async () => {
      await ingest?.stop();
      await server?.close();
      await admin
        .deleteTopics({
          topics: [changelogTopic(project), deadLetterTopic(project), eventsTopic(project)],
        })
        .catch(() => undefined);
      await admin.disconnect();
    });

    const push = (df: Record<string, unknown[]>, extra: Record<string, unknown> = {}) =>
      post(
        server.url,
        { push_source_name: "card_push", df, to: "online", wait: "acked", ...extra },
        { key: pusher.key, path: "/push" },
      );

    /** Pushes transactions (both views) and remembers them as accepted. */
    async function pushTxns(txns: readonly PushedTxn[]): Promise<void> {
      for (let i = 0; i < txns.length; i += 25) {
        const batch = txns.slice(i, i + 25);
        const { status, json, text } = await push(dfOf(batch));
        assert.equal(status, 200, text);
        assert.equal(json.events, batch.length);
        for (const t of batch) pushed.set(t.card, [...(pushed.get(t.card) ?? []), t]);
      }
    }

    /** Until both consumers of the ingest process applied everything pushed so far. */
    async function waitApplied(): Promise<void> {
      await waitUntilCommitted(
        admin,
        `strata.${project}.${REGION}.aggregations`,
        eventsTopic(project),
        60_000,
        50,
      );
      await waitUntilCommitted(
        admin,
        consumerGroupId(project, REGION),
        changelogTopic(project),
        60_000,
        50,
      );
    }

    /**
     * Reads features with the server's clock inside one tile of every aggregate, so that one
     * read time explains the answer: the request is sent again when a tile boundary of any
     * requested aggregate passed while it ran.
     */
    async function readAt(
      body: Record<string, unknown>,
      tiles: readonly number[],
    ): Promise<{ nowMs: number; columns: FeastColumn[]; names: string[]; text: string }> {
      for (let attempt = 0; ; attempt++) {
        const before = Date.now();
        const { status, json, text } = await post(server.url, body, { key: server.key });
        const afterMs = Date.now();
        assert.equal(status, 200, text);
        if (
          tiles.every((t) => Math.floor(before / t) === Math.floor(afterMs / t)) ||
          attempt > 20
        ) {
          return {
            nowMs: afterMs,
            columns: json.results as FeastColumn[],
            names: (json.metadata as { feature_names: string[] }).feature_names,
            text,
          };
        }
      }
    }

    function check(column: FeastColumn, row: number, want: Expected, what: string, type?: string) {
      const got = column.values[row];
      assert.equal(
        column.statuses[row],
        want.status,
        `${what}: status (got ${JSON.stringify(got)})`,
      );
      assert.ok(
        sameValue(got, want.value, type as never),
        `${what}: ${JSON.stringify(got)}, expected ${JSON.stringify(want.value)}`,
      );
      const ts = want.eventTsMs === null ? 0 : want.eventTsMs;
      assert.equal(Date.parse(column.event_timestamps[row]!), ts, `${what}: event timestamp`);
    }

    it("serves every window as a brute force over the pushed events gives it, with plain features, by list and by feature service", async () => {
      const random = seededRandom(29);
      const now = Date.now();
      const cards = Array.from({ length: 8 }, (_, i) => `card-${i}`);
      const txns: PushedTxn[] = [];
      const used = new Set<string>();
      // card-7 never gets an event: NOT_FOUND everywhere.
      for (const card of cards.slice(0, 7)) {
        const count = 1 + Math.floor(random() * 14);
        for (let e = 0; e < count; e++) {
          // Four in ten within the last ten minutes, the rest over the last 26 hours; card-6's
          // all over an hour old, so that its short windows are empty while it has state.
          const age =
            card === "card-6"
              ? 2 * HOUR + random() * 20 * HOUR
              : random() < 0.4
                ? random() * 600_000
                : random() * 26 * HOUR;
          const ts = Math.floor(now - 2_000 - age);
          if (used.has(`${card}/${ts}`)) continue;
          used.add(`${card}/${ts}`);
          const whole = random() < 0.3;
          txns.push({
            card,
            ts,
            amount:
              random() < 0.1
                ? null
                : whole
                  ? Math.floor(random() * 500)
                  : Math.round(random() * 100_000) / 100,
            merchant: random() < 0.1 ? null : `m${Math.floor(random() * 5)}`,
            qty: random() < 0.1 ? null : 1 + Math.floor(random() * 20),
          });
        }
      }
      // Shuffled: events arrive out of order (within the allowed lateness).
      txns.sort(() => random() - 0.5);
      await pushTxns(txns);
      await waitApplied();

      const aggRefs = aggregations.map((a) => `card_txn:${a.name}`);
      const features = ["card_last:amount", "card_last:merchant", ...aggRefs];
      const tiles = aggregations.map((a) => a.tileMs);
      const { nowMs, columns, names, text } = await readAt(
        { features, entities: { card_id: cards } },
        tiles,
      );
      assert.deepEqual(names, [
        "card_id",
        "amount",
        "merchant",
        ...aggregations.map((a) => a.name),
      ]);
      cards.forEach((card, row) => {
        const events = pushed.get(card) ?? [];
        check(columns[1]!, row, expectedLast("amount", events), `${card} card_last:amount`);
        check(columns[2]!, row, expectedLast("merchant", events), `${card} card_last:merchant`);
        aggregations.forEach((a: AggregationDefinition, i) => {
          const type = registry.resolveRef(`card_txn:${a.name}`).feature.type;
          check(
            columns[3 + i]!,
            row,
            expectedAggregate(a, events, nowMs),
            `${card} ${a.name}`,
            type,
          );
        });
      });
      // The windows this test's statuses rely on were exercised: empty short windows of a card
      // with state (count 0, mean null), and an empty last_n.
      const card6 = cards.indexOf("card-6");
      const n10 = 3 + aggregations.findIndex((a) => a.name === "n_10m");
      const mean = 3 + aggregations.findIndex((a) => a.name === "mean_10m");
      assert.deepEqual(
        [columns[n10]!.values[card6], columns[n10]!.statuses[card6]],
        [0, "PRESENT"],
      );
      assert.deepEqual(
        [columns[mean]!.values[card6], columns[mean]!.statuses[card6]],
        [null, "NULL_VALUE"],
      );
      // Feast's form of a list of doubles: whole amounts as 12.0, never 12.
      const last5 = columns[3 + aggregations.findIndex((a) => a.name === "last5")]!;
      const lists = last5.values.map((list) =>
        list === null
          ? "null"
          : `[${(list as number[]).map((v) => (Number.isInteger(v) ? v.toFixed(1) : String(v))).join(",")}]`,
      );
      assert.ok(
        lists.some((list) => /\d\.0[,\]]/.test(list)),
        "some last5 holds a whole amount",
      );
      assert.ok(
        text.includes(`{"values":[${lists.join(",")}]`),
        "last5 is written as Feast writes doubles",
      );

      // The feature service mixes the plain view and the aggregates: the same answers.
      const service = registry.service("fraud");
      const byService = await readAt(
        { feature_service: "fraud", entities: { card_id: cards } },
        tiles,
      );
      service.forEach((ref, i) => {
        cards.forEach((card, row) => {
          const events = pushed.get(card) ?? [];
          const want = ref.view.aggregation
            ? expectedAggregate(
                aggregations.find((a) => a.name === ref.feature.name)!,
                events,
                byService.nowMs,
              )
            : expectedLast(ref.feature.name as "amount", events);
          check(
            byService.columns[1 + i]!,
            row,
            want,
            `service ${card} ${ref.ref}`,
            ref.feature.type,
          );
        });
      });
    });

    it("never serves a stale window from the hot cache: a window moves with the clock", async () => {
      // An event that leaves the 1-minute window (1-second tiles) a few seconds from now.
      const card = "moving";
      const ts = Date.now() - 56_000;
      await pushTxns([{ card, ts, amount: 5, merchant: "m", qty: 1 }]);
      await waitApplied();
      const body = {
        features: ["card_last:amount", "card_txn:n_1m"],
        entities: { card_id: [card] },
      };
      // Read twice: the second read would come from the hot cache if aggregates were cached.
      for (let i = 0; i < 2; i++) {
        const { columns } = await readAt(body, [1_000]);
        assert.deepEqual([columns[2]!.values[0], columns[2]!.statuses[0]], [1, "PRESENT"]);
      }
      // The event's tile leaves the window once the read time is 60 tiles past it.
      const leaves = (Math.floor(ts / 1_000) + 60) * 1_000;
      await sleep(Math.max(0, leaves - Date.now()) + 200);
      const { columns } = await readAt(body, [1_000]);
      assert.deepEqual([columns[2]!.values[0], columns[2]!.statuses[0]], [0, "PRESENT"]);
      assert.deepEqual([columns[1]!.values[0], columns[1]!.statuses[0]], [5, "PRESENT"]);
      const stats = server.runtime.store.stats().cache!;
      assert.ok(
        stats.hits > 0,
        "the plain feature of the same entity was served from the hot cache",
      );
    });

    it("rejects a bad push whole, writing neither its events nor its rows", async () => {
      const now = Date.now() - 1_000;
      const good = { card: "bad-push-good-row", ts: now, amount: 1, merchant: "m", qty: 1 };
      const cases: [string, Record<string, unknown[]>, Record<string, unknown>, number, string][] =
        [
          [
            "an input of the wrong type",
            { ...dfOf([good, { ...good, ts: now - 1 }]), amount: [1, "lots"] },
            {},
            400,
            "STRATA_E_BATCH_REJECTED",
          ],
          [
            // qty is an input of the aggregation view only: its check alone must stop the rows too.
            "an aggregation input of the wrong type",
            { ...dfOf([good, { ...good, ts: now - 1 }]), qty: [1, "many"] },
            {},
            400,
            "STRATA_E_BATCH_REJECTED",
          ],
          [
            "a missing input column",
            Object.fromEntries(Object.entries(dfOf([good])).filter(([column]) => column !== "qty")),
            {},
            400,
            "STRATA_E_MISSING_FEATURE_VALUE",
          ],
          [
            "an event time in the future",
            { ...dfOf([good]), event_timestamp: [Date.now() + 3_600_000] },
            {},
            400,
            "STRATA_E_BATCH_REJECTED",
          ],
          ["wait applied", dfOf([good]), { wait: "applied" }, 400, "STRATA_E_BAD_REQUEST"],
        ];
      for (const [what, df, extra, status, code] of cases) {
        const answer = await push(df, extra);
        assert.equal(answer.status, status, `${what}: ${answer.text}`);
        assert.equal((answer.json.error as { code: string }).code, code, what);
      }
      const typed = await push(cases[0]![1]);
      const rejected = (
        typed.json.error as {
          details: { rejected: { index: number; code: string; message: string }[] };
        }
      ).details.rejected;
      assert.deepEqual(rejected, [
        { index: 1, code: "STRATA_E_VALUE_TYPE", message: rejected[0]!.message },
      ]);

      // A good push after them, applied: the refused rows were never written before it.
      await pushTxns([{ card: "after-bad", ts: now, amount: 2, merchant: "m", qty: 2 }]);
      await waitApplied();
      const { columns } = await readAt(
        {
          features: ["card_last:amount", "card_txn:n_10m", "card_txn:last5"],
          entities: { card_id: [good.card, "after-bad"] },
        },
        [60_000, 3_600_000],
      );
      assert.deepEqual(
        columns.slice(1).map((c) => c.statuses),
        [
          ["NOT_FOUND", "PRESENT"],
          ["NOT_FOUND", "PRESENT"],
          ["NOT_FOUND", "PRESENT"],
        ],
      );
      assert.deepEqual(columns[3]!.values, [null, [2]]);
    });
  });
}

function eventsTopic(project: string): string {
  return `strata.${project}.events`;
}

function dfOf(txns: readonly PushedTxn[]): Record<string, unknown[]> {
  return {
    card_id: txns.map((t) => t.card),
    amount: txns.map((t) => t.amount),
    merchant: txns.map((t) => t.merchant),
    qty: txns.map((t) => t.qty),
    event_timestamp: txns.map((t) => t.ts),
  };
}
