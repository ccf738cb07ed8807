// Rebuilds a region's Redis from the compacted changelog:
//   npm run replay -- [--from <ISO time | epoch ms>] [--allow-non-empty]
// with STRATA_REPO, REDIS_URL (or REDIS_CLUSTER_NODES) of the Redis to rebuild, and KAFKA_BROKERS.
// Then compare with the live region: npm run checksum -- <live> <rebuilt>. See docs/changelog.md.
import { parseArgs } from "node:util";
import { createKafka, kafkaConnection, replayChangelog } from "../../shared/changelog/index.js";
import { badConfig, EnvReader } from "../../shared/config/env.js";
import { isStrataError } from "../../shared/errors.js";
import { connectFailFast, OnlineStore, regionChecksum } from "../../shared/online-store/index.js";
import { loadRegistry } from "../../shared/registry/index.js";
import { projectHasKeys } from "./redis-target.js";

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { from: { type: "string" }, "allow-non-empty": { type: "boolean", default: false } },
  });
  const fromTimestampMs = values.from === undefined ? undefined : parseTime(values.from);
  const read = new EnvReader();
  const registry = await loadRegistry(
    read.required("STRATA_REPO", "the path of the feature repo module"),
  );
  const address = read.redis();
  const client = connectFailFast(address);
  try {
    const store = await OnlineStore.open({ client, registry, hotCache: false });
    if (!values["allow-non-empty"] && (await projectHasKeys(client, registry.project))) {
      throw badConfig(
        "the target Redis",
        `holding keys of project ${registry.project}`,
        "empty for a rebuild (or pass --allow-non-empty: the CAS keeps whichever version is newer)",
      );
    }
    const kafka = createKafka(
      kafkaConnection(read.kafka(true)!, "strata-replay"),
      (level, message) => console.error(`${level}: ${message}`),
    );
    let lastPrint = 0;
    const report = await replayChangelog({
      kafka,
      store,
      fromTimestampMs,
      peerRegions: read.peerRegions(),
      eventTime: { maxSkewMs: read.maxEventTimeSkewMs() },
      onProgress: (p) => {
        if (Date.now() - lastPrint < 2_000) return;
        lastPrint = Date.now();
        console.log(
          `replay: ${p.records} of ${p.total} records, ${p.applied} applied, ${p.rejected} rejected`,
        );
      },
    });
    console.log(
      `replay done: ${report.records} records in ${(report.elapsedMs / 1000).toFixed(1)} s: ${report.applied} applied, ${report.stale} stale (superseded in the log), ${report.rejected} rejected`,
    );
    if (report.missingTopics.length > 0) {
      console.log(
        `not replayed, no such topic on these brokers: ${report.missingTopics.join(", ")}`,
      );
    }
    for (const r of report.rejectedSamples) {
      console.log(
        `  rejected ${r.topic} partition ${r.partition} offset ${r.offset}: ${r.code}: ${r.message}`,
      );
    }
    for (const c of await regionChecksum(client, registry)) {
      console.log(`checksum ${c.view}: ${c.rows} rows ${c.sha256}`);
    }
    await store.close();
  } finally {
    client.disconnect();
  }
}

function parseTime(text: string): number {
  const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isSafeInteger(ms))
    throw badConfig("--from", text, "an ISO-8601 time or epoch milliseconds");
  return ms;
}

main().catch((error: unknown) => {
  console.error(isStrataError(error) ? `${error.code}: ${error.message}` : error);
  process.exit(1);
});
