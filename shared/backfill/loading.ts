import type { Kafka, KafkaMessage } from "kafkajs";
import { ChangelogApplier } from "../changelog/applier.js";
import { createKeyPartitioner } from "../changelog/partitioner.js";
import { readTopicRanges } from "../changelog/read-ranges.js";
import { decodeChangelogRecord, encodeChangelogRecord, recordKey } from "../changelog/record.js";
import type { OnlineStore } from "../online-store/online-store.js";
import { validateWrites } from "../online-store/write-path.js";
import type { FeatureRegistry } from "../registry/feature-registry.js";
import { BACKFILL_HEADERS, backfillTopic, header, remainingRanges } from "./backfill-topic.js";
import { ManifestSum } from "./manifest.js";
import { toWriteRow, type SourceReader } from "./source.js";
import type { BackfillState } from "./state.js";

/** Calls `save` at most every `everyMs`, one at a time, and once more at the end (`flush`). */
export class Throttled {
  private last = 0;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly save: () => Promise<void>,
    private readonly everyMs = 1_000,
  ) {}

  tick(): Promise<void> {
    if (Date.now() - this.last < this.everyMs) return Promise.resolve();
    this.last = Date.now();
    this.chain = this.chain.then(this.save);
    return this.chain;
  }

  async flush(): Promise<void> {
    this.chain = this.chain.then(this.save);
    await this.chain;
  }
}

/** The version every row of a backfill gets: its event time, the backfill's epoch, a fixed HLC. */
export function backfillVersion(state: BackfillState, eventTsMs: number) {
  return {
    eventTsMs,
    epoch: state.epoch,
    hlc: { wallMs: state.stampMs, counter: 0 },
    originRegion: state.region,
  };
}

/**
 * Produces the source's rows from `state.progress.produced` on to the backfill topic, acks=all,
 * several batches in flight. `onProduced` runs after each acknowledged batch with the new count
 * (rows are numbered in the source's order; a resumed produce may repeat a few, which verify
 * counts once).
 */
export async function produceRows(
  kafka: Kafka,
  registry: FeatureRegistry,
  reader: SourceReader,
  state: BackfillState,
  onProduced: (produced: number) => Promise<void>,
): Promise<void> {
  const producer = kafka.producer({
    createPartitioner: createKeyPartitioner,
    allowAutoTopicCreation: false,
  });
  await producer.connect();
  const topic = backfillTopic(state.project);
  const idHeader = {
    [BACKFILL_HEADERS.id]: state.id,
    [BACKFILL_HEADERS.generation]: String(state.newGeneration),
  };
  let row = state.progress.produced;
  // Batches in the order sent; the count saved is the end of the longest acknowledged prefix,
  // so a resumed produce never skips a row whose batch failed.
  const pending: { end: number; acked: boolean }[] = [];
  const inFlight = new Set<Promise<void>>();
  let failure: Error | undefined;
  try {
    for await (const batch of reader.rows(row)) {
      if (failure) throw failure;
      const writes = validateWrites(
        registry,
        batch.map((r) => toWriteRow(reader.view, r, backfillVersion(state, r.eventTsMs))),
      );
      const first = row;
      const messages = writes.map((w, i) => {
        const record = encodeChangelogRecord(w);
        return {
          key: record.key,
          value: record.value,
          headers: { ...idHeader, [BACKFILL_HEADERS.row]: String(first + i) },
        };
      });
      row += messages.length;
      const entry = { end: row, acked: false };
      pending.push(entry);
      const send: Promise<void> = producer
        .send({ topic, acks: -1, messages })
        .then(async () => {
          entry.acked = true;
          let acknowledged: number | undefined;
          while (pending.length > 0 && pending[0]!.acked) acknowledged = pending.shift()!.end;
          if (acknowledged !== undefined) await onProduced(acknowledged);
        })
        .catch((error: unknown) => {
          failure ??= error instanceof Error ? error : new Error(String(error));
        })
        .finally(() => inFlight.delete(send));
      inFlight.add(send);
      if (inFlight.size >= 4) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    if (failure) throw failure;
  } finally {
    await producer.disconnect();
  }
}

/**
 * Applies the backfill topic's records of this backfill, from `state.loadNext` to `state.loadEnd`,
 * into the new generation only, with the CAS. `onBatch` saves progress (the next offsets).
 */
export async function loadRows(
  kafka: Kafka,
  store: OnlineStore,
  registry: FeatureRegistry,
  state: BackfillState,
  onBatch: (partition: number, nextOffset: string, rows: number) => Promise<void>,
): Promise<void> {
  const ranges = remainingRanges(state.loadNext ?? state.loadFrom ?? {}, state.loadEnd ?? {});
  await readTopicRanges(
    kafka,
    backfillTopic(state.project),
    ranges,
    async (partition, messages, heartbeat) => {
      const ours = messages.filter((m) => header(m, BACKFILL_HEADERS.id) === state.id);
      for (let i = 0; i < ours.length; i += 5_000) {
        const writes = ours
          .slice(i, i + 5_000)
          .map((m, n) =>
            decodeChangelogRecord(registry, m.key?.toString("utf8"), m.value?.toString("utf8"), n),
          );
        await store.writePrepared(writes, { generation: state.newGeneration, registry });
        await heartbeat();
      }
      const last = messages[messages.length - 1]!;
      await onBatch(partition, String(BigInt(last.offset) + 1n), ours.length);
    },
    { groupPrefix: "strata.backfill", partitionsConsumedConcurrently: 3 },
  );
}

/**
 * Copies every changelog record of the view before the captured end offsets into the new
 * generation (the local changelog and each peer's copy), with the consumer's checks and CAS.
 */
export async function replayIntoGeneration(
  kafka: Kafka,
  store: OnlineStore,
  state: BackfillState,
  maxEventTimeSkewMs: number,
  onBatch: (topic: string, partition: number, nextOffset: string, records: number) => Promise<void>,
): Promise<void> {
  const prefix = `${state.view}/`;
  const generations = new Map([[state.view, [state.newGeneration]]]);
  let stopping = false;
  const applier = new ChangelogApplier({
    store,
    // Records the live consumer dead-letters are dead-lettered there already.
    reject: () => Promise.resolve(),
    shouldContinue: () => !stopping,
    eventTime: { maxSkewMs: maxEventTimeSkewMs },
    generations: () => Promise.resolve(generations),
  });
  try {
    for (const [topic, ends] of Object.entries(state.replayEnd ?? {})) {
      const ranges = remainingRanges(state.replayNext?.[topic] ?? {}, ends);
      await readTopicRanges(
        kafka,
        topic,
        ranges,
        async (partition, messages, heartbeat) => {
          const ours = messages.filter((m) => m.key?.toString("utf8").startsWith(prefix));
          for (let i = 0; i < ours.length; i += 2_000) {
            await applier.apply(ours.slice(i, i + 2_000), partition);
            await heartbeat();
          }
          const last = messages[messages.length - 1]!;
          await onBatch(topic, partition, String(BigInt(last.offset) + 1n), messages.length);
        },
        { groupPrefix: "strata.backfill-replay", partitionsConsumedConcurrently: 3 },
      );
    }
  } finally {
    stopping = true;
  }
}

/** What verify found, reading the backfill topic's records of this backfill once. */
export interface VerifyFindings {
  rows: number;
  checksum: string;
  /** Rows whose new-generation version is absent or older than the row's own. */
  missing: number;
  missingSamples: string[];
}

/**
 * Reads every record of this backfill in the backfill topic, counts each row number once into
 * the manifest sum, and checks that the new generation holds each row at its version or a
 * newer one.
 */
export async function verifyRows(
  kafka: Kafka,
  registry: FeatureRegistry,
  state: BackfillState,
  readVersions: (keys: string[], field: string) => Promise<(string | null)[]>,
): Promise<VerifyFindings> {
  const seen = new Uint8Array(Math.ceil(Math.max(1, state.manifest.rows) / 8));
  const sum = new ManifestSum();
  let missing = 0;
  const missingSamples: string[] = [];
  let extra = 0;
  const field = `${state.view}#${state.newGeneration}:_v`;
  await readTopicRanges(
    kafka,
    backfillTopic(state.project),
    remainingRanges(state.loadFrom ?? {}, state.loadEnd ?? {}),
    async (_partition, messages: KafkaMessage[]) => {
      const writes = [];
      for (const m of messages) {
        if (header(m, BACKFILL_HEADERS.id) !== state.id) continue;
        const row = Number(header(m, BACKFILL_HEADERS.row));
        if (!(row >= 0 && row < state.manifest.rows)) {
          extra++;
          continue;
        }
        if ((seen[row >> 3]! & (1 << (row & 7))) !== 0) continue;
        seen[row >> 3]! |= 1 << (row & 7);
        const write = decodeChangelogRecord(
          registry,
          m.key?.toString("utf8"),
          m.value?.toString("utf8"),
        );
        sum.add(recordKey(write.view.key, write.encodedKey), write.version.eventTsMs, write.values);
        writes.push(write);
      }
      const stored = await readVersions(
        writes.map((w) => w.redisKey),
        field,
      );
      writes.forEach((w, i) => {
        const version = stored[i];
        if (version === null || version === undefined || version < w.encodedVersion) {
          missing++;
          if (missingSamples.length < 10)
            missingSamples.push(`${w.redisKey} (${version ?? "absent"} < ${w.encodedVersion})`);
        }
      });
    },
    { groupPrefix: "strata.backfill-verify", partitionsConsumedConcurrently: 3 },
  );
  const manifest = sum.manifest();
  return { rows: manifest.rows + extra, checksum: manifest.checksum, missing, missingSamples };
}
