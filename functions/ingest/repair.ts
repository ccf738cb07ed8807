// Repairs one row of a region's online store, e.g. one locked by a far-future event time:
//   npm run repair -- --view <view@major> --entity '<join keys as JSON>' [--json]
// with STRATA_REPO, REDIS_URL (or REDIS_CLUSTER_NODES) of the region and KAFKA_BROKERS. It
// deletes the row, applies the key's valid changelog records again and produces the winner
// again as the key's last record. See docs/changelog.md, "Repairing a locked row".
import { parseArgs } from "node:util";
import { createKafka, kafkaConnection, repairKey } from "../../shared/changelog/index.js";
import { badConfig, EnvReader } from "../../shared/config/env.js";
import { isStrataError } from "../../shared/errors.js";
import { connectFailFast, OnlineStore } from "../../shared/online-store/index.js";
import { loadRegistry } from "../../shared/registry/index.js";

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      view: { type: "string" },
      entity: { type: "string" },
      json: { type: "boolean", default: false },
    },
  });
  if (values.view === undefined) throw badConfig("--view", undefined, "a view, e.g. stats@1");
  const entity = parseEntity(values.entity);
  const read = new EnvReader();
  const registry = await loadRegistry(
    read.required("STRATA_REPO", "the path of the feature repo module"),
  );
  const maxSkewMs = read.maxEventTimeSkewMs();
  const client = connectFailFast(read.redis());
  try {
    const store = await OnlineStore.open({ client, registry, hotCache: false });
    const kafka = createKafka(
      kafkaConnection(read.kafka(true)!, "strata-repair"),
      (level, message) => console.error(`${level}: ${message}`),
    );
    const report = await repairKey({
      kafka,
      store,
      client,
      view: values.view,
      entity,
      eventTime: { maxSkewMs },
    });
    await store.close();
    if (values.json) {
      console.log(JSON.stringify(report));
      return;
    }
    console.log(
      `repaired ${report.key} (partition ${report.partition}): deleted ${report.deletedFields} fields, ` +
        `${report.records} records of the key in the changelog, ${report.rejected.length} rejected`,
    );
    for (const r of report.rejected) console.log(`  rejected offset ${r.offset}: ${r.code}`);
    console.log(
      report.restored
        ? `the row holds event time ${new Date(report.restored.eventTsMs).toISOString()} again; its record was produced again as the key's last`
        : "no valid record of the key: the row is absent until it is written",
    );
  } finally {
    client.disconnect();
  }
}

function parseEntity(text: string | undefined): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = text === undefined ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw badConfig("--entity", text, 'the join keys as a JSON object, e.g. {"driver_id": 1001}');
  }
  return parsed as Record<string, unknown>;
}

main().catch((error: unknown) => {
  const usage = isStrataError(error, "STRATA_E_BAD_CONFIG");
  console.error(isStrataError(error) ? `${error.code}: ${error.message}` : error);
  process.exit(usage ? 2 : 1);
});
