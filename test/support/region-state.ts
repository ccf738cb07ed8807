// What the region fault tests judge the stack by: every record of a topic in one region, the
// state the regions must converge to (computed from the changelogs, not from any Redis), what a
// region's Redis stores per driver, and the consumers' counters.
import { Kafka, logLevel } from "kafkajs";
import type { Redis } from "ioredis";
import type { StackRegion } from "../../dev/stack/regions.js";
import type { ChangelogRecordV1 } from "../../shared/changelog/index.js";
import { encodeEntityKey, entityRedisKey } from "../../shared/key-codec.js";
import type { WriteRow } from "../../shared/online-store/index.js";
import {
  generationPointerKey,
  INITIAL_GENERATION,
  rowFields,
} from "../../shared/online-store/redis-layout.js";
import type { FeatureRegistry, ResolvedView } from "../../shared/registry/index.js";
import { compareVersions, decodeVersion, type Version } from "../../shared/versions/index.js";
import { checksumsOf } from "./changelog.js";
import type { IngestProcess } from "./ingest-process.js";
import type { DriverWrite, WriteLog } from "./region-traffic.js";
import type { RegionsFixture } from "./regions.js";
import { uniqueName } from "./servers.js";

/** Every record value of `topic` in the region, from its first offset to the end offsets now. */
export async function readTopic(region: StackRegion, topic: string): Promise<string[]> {
  const kafka = new Kafka({
    clientId: "strata-test-read-topic",
    brokers: region.kafkaBrokers,
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map(
    (await admin.fetchTopicOffsets(topic))
      .filter((p) => Number(p.high) > Number(p.low))
      .map((p) => [p.partition, Number(p.high)]),
  );
  await admin.disconnect();
  const values: string[] = [];
  if (ends.size === 0) return values;
  const consumer = kafka.consumer({ groupId: uniqueName("strata-test-read-topic") });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    const done = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${topic} not read within 30 s`)), 30_000);
      void consumer.run({
        eachBatch: async ({ batch }) => {
          for (const message of batch.messages) {
            if (Number(message.offset) < ends.get(batch.partition)!) {
              values.push(message.value?.toString() ?? "");
            }
          }
          if (Number(batch.lastOffset()) + 1 >= (ends.get(batch.partition) ?? 0)) {
            ends.delete(batch.partition);
          }
          if (ends.size === 0) {
            clearTimeout(timer);
            resolve();
          }
          return Promise.resolve();
        },
      });
    });
    await done;
  } finally {
    await consumer.disconnect();
  }
  return values;
}

/** A record's fields, from its JSON value. */
export function recordOf(value: string): ChangelogRecordV1 {
  return JSON.parse(value) as ChangelogRecordV1;
}

/** The label a record carries (its write's identity), decoded from the value codec's text. */
export function labelOf(registry: FeatureRegistry, record: ChangelogRecordV1): string {
  const view = registry.viewByRef(`${record.view}@${record.major}`);
  const codec = view.features.find((f) => f.name === "label")!.codec;
  return String(codec.decode(record.values.label ?? ""));
}

/**
 * The rows every region must hold once converged: per view major and driver, the record of the
 * highest version among `records` (every write that reached a changelog, acknowledged or not),
 * with the values of the write its label names. Throws on a record no write of the log made.
 */
export function expectedRows(
  registry: FeatureRegistry,
  records: readonly string[],
  log: WriteLog,
): WriteRow[] {
  const latest = new Map<string, WriteRow>();
  for (const value of records) {
    const record = recordOf(value);
    const write = log.issued.get(labelOf(registry, record));
    if (!write) throw new Error(`a record no write of the test made: ${value.slice(0, 300)}`);
    const view = `${record.view}@${record.major}`;
    const row: WriteRow = {
      view,
      entity: { driver_id: write.driver },
      values: featureValues(write, registry.viewByRef(view)),
      version: record.version,
    };
    const key = `${view}/${write.driver}`;
    const current = latest.get(key);
    if (!current || compareVersions(row.version, current.version) > 0) latest.set(key, row);
  }
  return [...latest.values()];
}

/** The values a write gives a row of `view` (stats@1 has no tags). */
export function featureValues(
  write: DriverWrite,
  view: Pick<ResolvedView, "features">,
): Record<string, unknown> {
  const all: Record<string, unknown> = {
    rate: write.rate,
    trips: write.trips,
    label: write.label,
    tags: write.tags,
  };
  return Object.fromEntries(view.features.map((f) => [f.name, all[f.name]]));
}

/** The stored version of each driver's row of `view` (undefined: no row), in the active generation. */
export async function storedVersions(
  redis: Redis,
  registry: FeatureRegistry,
  view: ResolvedView,
  drivers: readonly number[],
): Promise<(Version | undefined)[]> {
  const pointer = await redis.get(generationPointerKey(registry.project, view.key));
  const field = rowFields(view, pointer === null ? INITIAL_GENERATION : Number(pointer)).version;
  const pipeline = redis.pipeline();
  for (const driver of drivers) {
    pipeline.hget(
      entityRedisKey(
        registry.project,
        view.entitySet,
        encodeEntityKey(view.joinKeys, { driver_id: driver }),
      ),
      field,
    );
  }
  const replies = (await pipeline.exec()) ?? [];
  return replies.map(([error, version]) => {
    if (error) throw error;
    return typeof version === "string" ? decodeVersion(version) : undefined;
  });
}

/** The event time of the stats@1 row each driver has in this Redis (absent: no row). */
export async function storedEventTimes(
  redis: Redis,
  registry: FeatureRegistry,
  drivers: readonly number[],
): Promise<Map<number, number>> {
  const versions = await storedVersions(redis, registry, registry.viewByRef("stats@1"), drivers);
  const stored = new Map<number, number>();
  versions.forEach((version, i) => {
    if (version) stored.set(drivers[i]!, version.eventTsMs);
  });
  return stored;
}

/**
 * Drivers whose stored row (in any of the regions) is not their latest acknowledged write or a
 * newer issued one: acknowledged writes lost. Empty when none was.
 */
export async function lostWrites(
  regions: readonly { name: string; redis: Redis }[],
  registry: FeatureRegistry,
  log: WriteLog,
): Promise<string[]> {
  const latest = log.latestAcknowledged();
  const drivers = [...latest.keys()];
  const issued = new Set([...log.issued.values()].map((w) => `${w.driver}@${w.eventTsMs}`));
  const lost: string[] = [];
  for (const region of regions) {
    const stored = await storedEventTimes(region.redis, registry, drivers);
    for (const [driver, write] of latest) {
      const eventTs = stored.get(driver);
      if (eventTs === undefined || eventTs < write.eventTsMs) {
        lost.push(
          `${region.name}: driver ${driver} holds ${eventTs ?? "nothing"}, acknowledged ${write.label} at ${write.eventTsMs}`,
        );
      } else if (!issued.has(`${driver}@${eventTs}`)) {
        lost.push(
          `${region.name}: driver ${driver} holds ${eventTs}, which no write of the test had`,
        );
      }
    }
  }
  return lost;
}

/** What the changelog judge found wrong (every list empty when the regions hold what they must). */
export interface ChangelogJudgement {
  /** Acknowledged writes whose label is in no changelog record. */
  missing: string[];
  /** lostWrites: a region holding an older write than the latest acknowledged one. */
  lost: string[];
  /** Every region's differences from the state computed from `records`. */
  differences: string[];
}

/**
 * Judges the converged regions by the changelogs: every acknowledged write is in `records`
 * (every region's own changelog), none is lost in any region, and every region holds exactly
 * the highest version of each row among the records.
 */
export async function judgeByChangelogs(
  fixture: RegionsFixture,
  records: readonly string[],
  log: WriteLog,
): Promise<ChangelogJudgement> {
  const labels = new Set(records.map((value) => labelOf(fixture.registry, recordOf(value))));
  const expected = await checksumsOf(
    fixture.registry,
    expectedRows(fixture.registry, records, log),
  );
  return {
    missing: [...log.acknowledged].filter((label) => !labels.has(label)).slice(0, 20),
    lost: await lostWrites(fixture.regions, fixture.registry, log),
    differences: await fixture.differencesFrom(expected),
  };
}

/** Sum of `strata_ingest_rows_total{outcome}` over views, from the consumer's /metrics. */
export async function ingestRows(ingest: IngestProcess, outcome: string): Promise<number> {
  const port = ingest.metricsPort();
  if (port === undefined)
    throw new Error(`the consumer has no metrics port yet: ${ingest.output().slice(-500)}`);
  const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let sum = 0;
  for (const line of body.split("\n")) {
    if (line.startsWith("strata_ingest_rows_total{") && line.includes(`outcome="${outcome}"`)) {
      sum += Number(line.slice(line.lastIndexOf(" ") + 1));
    }
  }
  return sum;
}
