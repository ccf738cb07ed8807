// A test project running in every region of the multi-region stack (npm run stack -- up
// --regions a,b,c): per region, a real consumer process applying its own changelog and its
// peers' replicated copies, and a real serving process whose /push writes into the region's
// changelog (with STRATA_PEER_REDIS, so wait "replicated" works). Faults are injected with
// dev/stack/regions.ts; this file only runs the project and judges convergence.
import { Redis } from "ioredis";
import { Kafka, logLevel, type Admin } from "kafkajs";
import { flowLags, stackRegions, type StackRegion } from "../../dev/stack/regions.js";
import {
  changelogTopic,
  consumerGroupId,
  deadLetterTopic,
  replicatedChangelogTopic,
  waitUntilCommitted,
} from "../../shared/changelog/index.js";
import {
  diffChecksums,
  regionChecksum,
  type ViewChecksum,
} from "../../shared/online-store/index.js";
import { FeatureRegistry } from "../../shared/registry/index.js";
import { startIngestProcess, type IngestProcess } from "./ingest-process.js";
import { replicationDiagnosis } from "./region-diagnosis.js";
import { startServeProcess, type ServeProcess } from "./serve-process.js";
import { testRepo, uniqueProject } from "./store.js";

export interface RunningRegion {
  region: StackRegion;
  name: string;
  ingest: IngestProcess;
  serve: ServeProcess;
  /** A client of the region's Redis, for checksums and stored versions (never for writes). */
  redis: Redis;
}

export interface RegionsFixture {
  project: string;
  registry: FeatureRegistry;
  regions: RunningRegion[];
  region(name: string): RunningRegion;
  /** Every region's checksums, by region name. */
  checksums(): Promise<Map<string, ViewChecksum[]>>;
  /** The differences of every region's checksums from the first region's (empty: converged). */
  divergence(): Promise<string[]>;
  /** Every region's differences from `expected` (empty: every region holds exactly it). */
  differencesFrom(expected: readonly ViewChecksum[]): Promise<string[]>;
  /** Polls until every region holds the same rows, versions and values; returns the milliseconds. */
  waitConverged(timeoutMs: number, what: string): Promise<number>;
  /**
   * Waits until MirrorMaker 2 has carried every record (no flow behind) and every region's
   * consumer has committed all of its changelog and its peers' copies: only then are the
   * consumers' counters final (converged state comes earlier, since duplicates change nothing).
   */
  waitConsumed(timeoutMs: number): Promise<void>;
  /** Starts the region's consumer again (after a test stopped it), with the same settings. */
  restartIngest(name: string): Promise<void>;
  /**
   * Injects a fault into the shared stack (a cut, a killed process) and keeps its undo, given
   * what `inject` returned, until `healFaults()`; cleanup() heals what a failed test left.
   */
  injectFault<T>(inject: () => Promise<T>, undo: (injected: T) => Promise<unknown>): Promise<T>;
  /** Undoes every fault still in place, newest first (the test's own heal). */
  healFaults(): Promise<void>;
  /** Heals the faults left in place, stops every process, deletes the project's topics. */
  cleanup(): Promise<void>;
}

/**
 * Starts the test project in every region of the stack (at least `minRegions`). Each region's
 * consumer creates its changelog and its peers' copies; MirrorMaker 2 notices new topics
 * within seconds and copies them from their first offset, so no write of the test is missed.
 */
export async function startRegions(
  prefix: string,
  options: {
    minRegions?: number;
    /** Only these regions of the stack (default: all of them). */
    only?: readonly string[];
    ingestEnv?: Record<string, string>;
    serveEnv?: Record<string, string>;
  } = {},
): Promise<RegionsFixture> {
  const stack = stackRegions(options.minRegions ?? 2).filter(
    (region) => options.only === undefined || options.only.includes(region.name),
  );
  const project = uniqueProject(prefix);
  const registry = new FeatureRegistry(testRepo(project));
  const names = stack.map((r) => r.name);
  const ingestOf = (region: StackRegion) =>
    startIngestProcess({
      project,
      region: region.name,
      peers: names.filter((n) => n !== region.name),
      redisUrl: region.redisUrl,
      kafkaBrokers: region.kafkaBrokers,
      env: options.ingestEnv,
    });
  const regions: RunningRegion[] = await Promise.all(
    stack.map(async (region) => {
      const ingest = ingestOf(region);
      const serve = await startServeProcess({
        project,
        topology: "standalone",
        region: region.name,
        redisUrl: region.redisUrl,
        env: {
          KAFKA_BROKERS: region.kafkaBrokers.join(","),
          STRATA_PEER_REDIS: stack
            .filter((peer) => peer.name !== region.name)
            .map((peer) => `${peer.name}=${peer.redisUrl}`)
            .join(";"),
          ...options.serveEnv,
        },
      });
      return { region, name: region.name, ingest, serve, redis: new Redis(region.redisUrl) };
    }),
  );
  const byName = (name: string) => {
    const found = regions.find((r) => r.name === name);
    if (!found) throw new Error(`no region ${name} (${names.join(",")})`);
    return found;
  };
  const checksums = async () =>
    new Map(
      await Promise.all(
        regions.map(async (r) => [r.name, await regionChecksum(r.redis, registry)] as const),
      ),
    );
  const undos: (() => Promise<unknown>)[] = [];
  const healFaults = async () => {
    for (let undo = undos.pop(); undo; undo = undos.pop()) await undo();
  };
  const divergence = async () => {
    const all = await checksums();
    const reference = all.get(names[0]!)!;
    return names
      .slice(1)
      .flatMap((name) => diffChecksums(reference, all.get(name)!).map((d) => `${name}: ${d}`));
  };
  return {
    project,
    registry,
    regions,
    region: byName,
    checksums,
    divergence,
    differencesFrom: async (expected) =>
      [...(await checksums())].flatMap(([name, actual]) =>
        diffChecksums(expected, actual).map((d) => `${name}: ${d}`),
      ),
    waitConverged: async (timeoutMs, what) => {
      const started = performance.now();
      for (;;) {
        const last = await divergence();
        if (last.length === 0) break;
        if (performance.now() - started > timeoutMs) {
          throw new Error(
            `${what}: regions still differ after ${timeoutMs} ms: ${last.join("; ")}\n` +
              (await convergenceReport(stack, project)),
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      return performance.now() - started;
    },
    waitConsumed: async (timeoutMs) => {
      const deadline = performance.now() + timeoutMs;
      for (;;) {
        const flows = await flowLags();
        if (flows.every((f) => f.records === 0 && f.error === undefined)) break;
        if (performance.now() > deadline) {
          throw new Error(
            `flows still behind after ${timeoutMs} ms: ${flows.map((f) => `${f.source}->${f.target} ${f.records}`).join(", ")}`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      await Promise.all(
        stack.map((region) =>
          waitRegionCommitted(region, project, names, Math.max(1, deadline - performance.now())),
        ),
      );
    },
    restartIngest: async (name) => {
      const running = byName(name);
      await running.ingest.stop();
      running.ingest = ingestOf(running.region);
    },
    injectFault: async (inject, undo) => {
      const injected = await inject();
      undos.push(() => undo(injected));
      return injected;
    },
    healFaults,
    cleanup: async () => {
      await healFaults();
      await Promise.all(regions.flatMap((r) => [r.ingest.stop(), r.serve.stop()]));
      for (const r of regions) r.redis.disconnect();
      await Promise.all(stack.map((region) => deleteProjectTopics(region, project, names)));
    },
  };
}

/** Waits until the region's consumer group has committed its changelog and every peer's copy. */
async function waitRegionCommitted(
  region: StackRegion,
  project: string,
  names: readonly string[],
  timeoutMs: number,
): Promise<void> {
  await withRegionAdmin(region, async (admin) => {
    const groupId = consumerGroupId(project, region.name);
    await Promise.all(
      consumedTopics(region, project, names).map((topic) =>
        waitUntilCommitted(admin, groupId, topic, timeoutMs, 50),
      ),
    );
  });
}

/** What the region's consumer reads: its changelog and every peer's copy of theirs. */
function consumedTopics(region: StackRegion, project: string, names: readonly string[]) {
  return [
    changelogTopic(project),
    ...names.filter((n) => n !== region.name).map((n) => replicatedChangelogTopic(project, n)),
  ];
}

async function withRegionAdmin<T>(region: StackRegion, use: (admin: Admin) => Promise<T>) {
  const admin = new Kafka({
    clientId: "strata-test-regions",
    brokers: region.kafkaBrokers,
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    return await use(admin);
  } finally {
    await admin.disconnect();
  }
}

/** Where replication and each consumer stand, and every flow's lag: why regions differ. */
async function convergenceReport(stack: readonly StackRegion[], project: string): Promise<string> {
  const [regions, flows] = await Promise.all([
    replicationDiagnosis(stack, project),
    flowLags().catch((error: Error) => error),
  ]);
  const flowLines =
    flows instanceof Error
      ? [`flow lags could not be read: ${flows.message}`]
      : flows.map(
          (f) =>
            `flow ${f.source}->${f.target}: ${f.records} records behind` +
            (f.error ? ` (${f.error})` : ""),
        );
  return [...regions, ...flowLines].join("\n");
}

/** The project's changelog, dead-letter topic and every peer's copy in one region. */
async function deleteProjectTopics(
  region: StackRegion,
  project: string,
  names: readonly string[],
): Promise<void> {
  await withRegionAdmin(region, async (admin) => {
    const topics = [deadLetterTopic(project), ...consumedTopics(region, project, names)];
    const existing = new Set(await admin.listTopics());
    await admin
      .deleteTopics({ topics: topics.filter((t) => existing.has(t)) })
      .catch(() => undefined);
  });
}
