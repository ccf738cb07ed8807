// Writers that keep pushing into every region of a RegionsFixture through /push, recording
// which writes were acknowledged, and the judge of what every region must hold afterwards.
// Each write carries an event time unique across all writers of the log, so the version order
// between two writes of a driver is their event-time order, whatever region made them, and a
// stored version names the write it came from.
import { encodeEntityKey, entityRedisKey } from "../../shared/key-codec.js";
import {
  generationPointerKey,
  INITIAL_GENERATION,
  rowFields,
} from "../../shared/online-store/redis-layout.js";
import {
  diffChecksums,
  type RedisClient,
  type ViewChecksum,
  type WriteRow,
} from "../../shared/online-store/index.js";
import type { FeatureRegistry, ResolvedView } from "../../shared/registry/index.js";
import { decodeVersion, type Version } from "../../shared/versions/index.js";
import { checksumsOf } from "./changelog.js";
import type { RegionsFixture, RunningRegion } from "./regions.js";
import { seededRandom } from "./seeded-random.js";

/** One /push call: its rows (one per driver) share the call's fate. */
export interface PushedWrite {
  region: string;
  /** The event time of every row of the call: unique to this call in the log. */
  eventTsMs: number;
  drivers: number[];
  /** true: 200 with reached "acked"; false: an error status, a timeout or a refused connection. */
  acked: boolean;
  /** Why it was not acknowledged (status and code, or the client's error). */
  failure?: string;
}

/** The feature values a write gives a driver (a pure function, so the judge can recompute them). */
export function valuesOf(write: PushedWrite, driver: number) {
  return {
    rate: (driver % 97) / 97 + (write.eventTsMs % 1000) / 1e6,
    trips: write.eventTsMs % 100_000,
    label: `${write.region}-${write.eventTsMs}`,
    tags: driver % 5 === 0 ? null : [write.region, String(driver)],
  };
}

/** Every write of a test, and the event-time clock all its writers share. */
export class WriteLog {
  readonly writes: PushedWrite[] = [];
  private lastEventTsMs = 0;

  /** A fresh event time: now, or one millisecond after the last one handed out. */
  nextEventTsMs(): number {
    this.lastEventTsMs = Math.max(Date.now(), this.lastEventTsMs + 1);
    return this.lastEventTsMs;
  }

  acked(): PushedWrite[] {
    return this.writes.filter((w) => w.acked);
  }

  failed(): PushedWrite[] {
    return this.writes.filter((w) => !w.acked);
  }
}

export interface WriterOptions {
  /** Drivers 1..drivers are written. */
  drivers: number;
  /** Drivers per /push call. */
  rowsPerPush: number;
  /** Pause between two calls of one writer. */
  pauseMs: number;
  /** The client's own deadline per call (the server's is STRATA_ACK_TIMEOUT_MS). */
  requestTimeoutMs: number;
  seed: number;
}

/** Pushes one call into a region with wait "acked", recording it in the log; returns the write. */
export async function pushWrite(
  log: WriteLog,
  region: RunningRegion,
  drivers: number[],
  requestTimeoutMs: number,
): Promise<PushedWrite> {
  const write: PushedWrite = {
    region: region.name,
    eventTsMs: log.nextEventTsMs(),
    drivers,
    acked: false,
  };
  log.writes.push(write);
  try {
    const response = await fetch(`${region.serve.url}/push`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${region.serve.key}` },
      body: JSON.stringify(pushBody(write)),
      signal: AbortSignal.timeout(requestTimeoutMs),
    });
    const text = await response.text();
    if (response.status === 200 && (JSON.parse(text) as { reached?: string }).reached === "acked") {
      write.acked = true;
    } else {
      write.failure = `${response.status} ${/"code":"(\w+)"/.exec(text)?.[1] ?? text.slice(0, 80)}`;
    }
  } catch (error) {
    write.failure = (error as Error).name === "TimeoutError" ? "client timeout" : String(error);
  }
  return write;
}

/** A writer loop per region, pushing with wait "acked" until stopped. */
export class RegionWriters {
  private running = true;
  private readonly loops: Promise<void>[];

  constructor(
    readonly log: WriteLog,
    regions: readonly RunningRegion[],
    private readonly options: WriterOptions,
  ) {
    this.loops = regions.map((r, i) => this.loop(r, seededRandom(options.seed + i)));
  }

  /** Stops every loop after its call in flight; resolves when all have ended. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  private async loop(region: RunningRegion, random: () => number): Promise<void> {
    while (this.running) {
      const drivers = new Set<number>();
      while (drivers.size < this.options.rowsPerPush) {
        drivers.add(1 + Math.floor(random() * this.options.drivers));
      }
      await pushWrite(this.log, region, [...drivers], this.options.requestTimeoutMs);
      await new Promise((resolve) => setTimeout(resolve, this.options.pauseMs));
    }
  }
}

function pushBody(write: PushedWrite) {
  const values = write.drivers.map((d) => valuesOf(write, d));
  return {
    push_source_name: "driver_stats_push",
    df: {
      driver_id: write.drivers,
      rate: values.map((v) => v.rate),
      trips: values.map((v) => v.trips),
      label: values.map((v) => v.label),
      tags: values.map((v) => v.tags),
      event_timestamp: write.drivers.map(() => write.eventTsMs),
    },
    to: "online",
    wait: "acked",
  };
}

/** What the judge found: the expected state's checksums, and what it had to decide. */
export interface ExpectedState {
  checksums: ViewChecksum[];
  /** Rows (driver, view) whose stored winner is an acknowledged write: the highest acknowledged one. */
  ackedWinners: number;
  /** Rows whose stored winner is an unacknowledged write newer than every acknowledged one. */
  unackedWinners: number;
  /** Every way the stored state broke the rule (empty when it holds). */
  violations: string[];
}

/**
 * The rule an acknowledged write must satisfy, and what an unacknowledged one may do.
 *
 * An acknowledged write is in the changelog (acks=all), so every region must end up holding,
 * for each row, a version at least as high as the highest acknowledged write of that row. An
 * unacknowledged write (an error status or a client timeout) may or may not be in the
 * changelog: the writer may still send it after answering, and Kafka may have stored it
 * without the acknowledgement reaching the writer. So the expected winner of a row is the
 * highest of: its acknowledged writes, and those of its unacknowledged writes that landed. A
 * landed unacknowledged write is visible only if it is the winner, recognised by its version
 * (its event time and origin region are unique to it); one that landed below an acknowledged
 * write changes nothing. A stored winner older than the highest acknowledged write, or a
 * version no write of the test made, or values other than that write's, breaks the rule.
 *
 * The judge reads the winners' versions from `reference` (one region's Redis): only their HLC
 * part comes from there, since the test cannot know which HLC the serving process stamped;
 * event time, origin region and values come from the write log. Call it once nothing can
 * still land (no writer has anything queued), then compare every region's checksums with
 * `checksums`.
 */
export async function expectedState(
  registry: FeatureRegistry,
  reference: RedisClient,
  log: WriteLog,
): Promise<ExpectedState> {
  const byDriver = new Map<number, PushedWrite[]>();
  for (const write of log.writes) {
    for (const driver of write.drivers) {
      const list = byDriver.get(driver) ?? [];
      list.push(write);
      byDriver.set(driver, list);
    }
  }
  const drivers = [...byDriver.keys()].sort((a, b) => a - b);
  const result: ExpectedState = {
    checksums: [],
    ackedWinners: 0,
    unackedWinners: 0,
    violations: [],
  };
  const rows: WriteRow[] = [];
  for (const view of registry.views().filter((v) => v.entitySet === "driver")) {
    const stored = await storedVersions(reference, registry, view, drivers);
    drivers.forEach((driver, i) => {
      const writes = byDriver.get(driver)!;
      const highestAcked = writes
        .filter((w) => w.acked)
        .reduce<PushedWrite | undefined>(
          (a, w) => (a && a.eventTsMs > w.eventTsMs ? a : w),
          undefined,
        );
      const version = stored[i];
      const what = `${view.key} driver ${driver}`;
      if (version === undefined) {
        if (highestAcked)
          result.violations.push(`${what}: no row, though the ${describe(highestAcked)}`);
        return;
      }
      const winner = writes.find(
        (w) => w.eventTsMs === version.eventTsMs && w.region === version.originRegion,
      );
      if (!winner) {
        result.violations.push(
          `${what}: stored version ${JSON.stringify(version)} is no write of the test`,
        );
        return;
      }
      if (highestAcked && winner.eventTsMs < highestAcked.eventTsMs) {
        result.violations.push(
          `${what}: holds ${describe(winner)}, older than the ${describe(highestAcked)}`,
        );
        return;
      }
      if (winner.acked) result.ackedWinners++;
      else result.unackedWinners++;
      const values: Record<string, unknown> = { ...valuesOf(winner, driver) };
      const features = Object.fromEntries(view.features.map((f) => [f.name, values[f.name]]));
      rows.push({
        view: view.key,
        entity: { driver_id: driver },
        values: features,
        version: {
          eventTsMs: winner.eventTsMs,
          epoch: 0,
          hlc: version.hlc,
          originRegion: winner.region,
        },
      });
    });
  }
  result.checksums = await checksumsOf(registry, rows);
  return result;
}

function describe(write: PushedWrite): string {
  return `${write.acked ? "" : "un"}acknowledged write of ${write.region} at ${write.eventTsMs}`;
}

/** The stored version of each driver's row of `view` (undefined: no row), in the active generation. */
async function storedVersions(
  client: RedisClient,
  registry: FeatureRegistry,
  view: ResolvedView,
  drivers: readonly number[],
): Promise<(Version | undefined)[]> {
  const pointer = await client.get(generationPointerKey(registry.project, view.key));
  const field = rowFields(view, pointer === null ? INITIAL_GENERATION : Number(pointer)).version;
  return Promise.all(
    drivers.map(async (driver) => {
      const key = entityRedisKey(
        registry.project,
        view.entitySet,
        encodeEntityKey(view.joinKeys, { driver_id: driver }),
      );
      const text = await client.hget(key, field);
      return text === null ? undefined : decodeVersion(text);
    }),
  );
}

/** Every region's differences from the expected state (empty: every region holds exactly it). */
export async function differencesFrom(
  fixture: RegionsFixture,
  expected: readonly ViewChecksum[],
): Promise<string[]> {
  const all = await fixture.checksums();
  return [...all].flatMap(([name, checksums]) =>
    diffChecksums(expected, checksums).map((d) => `${name}: ${d}`),
  );
}

/**
 * Waits until every region holds at least `rows` rows of every driver view (checksums are
 * equal while every region is still empty, so convergence alone proves nothing about arrival).
 */
export async function waitForRows(
  fixture: RegionsFixture,
  rows: number,
  timeoutMs: number,
  what: string,
): Promise<number> {
  const started = performance.now();
  for (;;) {
    const all = await fixture.checksums();
    const short = [...all].flatMap(([name, checksums]) =>
      checksums
        .filter((c) => c.view.startsWith("stats@") && c.rows < rows)
        .map((c) => `${name} ${c.view} ${c.rows}`),
    );
    if (short.length === 0) return performance.now() - started;
    if (performance.now() - started > timeoutMs) {
      throw new Error(
        `${what}: fewer than ${rows} rows after ${timeoutMs} ms: ${short.join(", ")}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
