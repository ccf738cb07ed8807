// Rebuilds a region's Redis from the compacted changelog:
//   npm run replay -- [--from <ISO time | epoch ms>] [--allow-non-empty]   (= strata replay)
// with STRATA_REPO, REDIS_URL (or REDIS_CLUSTER_NODES) of the Redis to rebuild, and KAFKA_BROKERS.
// Then compare with the live region: npm run checksum -- <live> <rebuilt>. See docs/changelog.md.
import { parseArgs } from "node:util";
import {
  createKafka,
  kafkaConnection,
  replayChangelog,
  type ReplayProgress,
  type ReplayReport,
} from "../../shared/changelog/index.js";
import { badConfig, EnvReader } from "../../shared/config/env.js";
import { isStrataError } from "../../shared/errors.js";
import { isMainModule } from "../../shared/main-module.js";
import {
  connectFailFast,
  OnlineStore,
  regionChecksum,
  type ViewChecksum,
} from "../../shared/online-store/index.js";
import { loadRegistry } from "../../shared/registry/index.js";
import { projectHasKeys } from "./redis-target.js";

export interface ReplayCommandOptions {
  /** Replay from the first offset at this time (epoch ms); from the beginning when absent. */
  fromTimestampMs?: number;
  /** Replay into a Redis that already holds keys of the project. */
  allowNonEmpty?: boolean;
  /** Called now and then while records are applied. */
  onProgress?: (progress: ReplayProgress) => void;
  /** Kafka client log lines. */
  log?: (line: string) => void;
}

export interface ReplayOutcome {
  report: ReplayReport;
  /** The rebuilt region's per-view checksums, to compare with the live one. */
  checksums: ViewChecksum[];
}

/** The replay that `npm run replay` and `strata replay` run, configured from `env`. */
export async function runReplay(
  options: ReplayCommandOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ReplayOutcome> {
  const read = new EnvReader(env);
  const registry = await loadRegistry(
    read.required("STRATA_REPO", "the path of the feature repo module"),
  );
  const address = read.redis();
  const client = connectFailFast(address);
  try {
    const store = await OnlineStore.open({ client, registry, hotCache: false });
    if (!options.allowNonEmpty && (await projectHasKeys(client, registry.project))) {
      throw badConfig(
        "the target Redis",
        `holding keys of project ${registry.project}`,
        "empty for a rebuild (or pass --allow-non-empty: the CAS keeps whichever version is newer)",
      );
    }
    const log = options.log ?? ((line: string) => console.error(line));
    const kafka = createKafka(
      kafkaConnection(read.kafka(true)!, "strata-replay"),
      (level, message) => log(`${level}: ${message}`),
    );
    const report = await replayChangelog({
      kafka,
      store,
      fromTimestampMs: options.fromTimestampMs,
      peerRegions: read.peerRegions(),
      eventTime: { maxSkewMs: read.maxEventTimeSkewMs() },
      onProgress: options.onProgress,
    });
    const checksums = await regionChecksum(client, registry);
    await store.close();
    return { report, checksums };
  } finally {
    client.disconnect();
  }
}

/** What a replay did, as the lines `npm run replay` has always printed. */
export function replaySummary({ report, checksums }: ReplayOutcome): string[] {
  const lines = [
    `replay done: ${report.records} records in ${(report.elapsedMs / 1000).toFixed(1)} s: ${report.applied} applied, ${report.stale} stale (superseded in the log), ${report.rejected} rejected`,
  ];
  if (report.missingTopics.length > 0) {
    lines.push(`not replayed, no such topic on these brokers: ${report.missingTopics.join(", ")}`);
  }
  for (const r of report.rejectedSamples) {
    lines.push(
      `  rejected ${r.topic} partition ${r.partition} offset ${r.offset}: ${r.code}: ${r.message}`,
    );
  }
  for (const c of checksums) lines.push(`checksum ${c.view}: ${c.rows} rows ${c.sha256}`);
  return lines;
}

/** `--from`: an ISO-8601 time or epoch milliseconds. */
export function parseReplayFrom(text: string): number {
  const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isSafeInteger(ms))
    throw badConfig("--from", text, "an ISO-8601 time or epoch milliseconds");
  return ms;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { from: { type: "string" }, "allow-non-empty": { type: "boolean", default: false } },
  });
  let lastPrint = 0;
  const outcome = await runReplay({
    fromTimestampMs: values.from === undefined ? undefined : parseReplayFrom(values.from),
    allowNonEmpty: values["allow-non-empty"],
    onProgress: (p) => {
      if (Date.now() - lastPrint < 2_000) return;
      lastPrint = Date.now();
      console.log(
        `replay: ${p.records} of ${p.total} records, ${p.applied} applied, ${p.rejected} rejected`,
      );
    },
  });
  for (const line of replaySummary(outcome)) console.log(line);
}

if (isMainModule(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error(isStrataError(error) ? `${error.code}: ${error.message}` : error);
    process.exit(1);
  });
}
