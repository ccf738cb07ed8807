// Writes for the region fault tests: one /push client, the log of every write issued and
// acknowledged, and writers pushing driver stats through each region's serving process. Every
// write gets an event time no other write has, so the version order (event time first) ranks
// any two writes of a key without a tie and the expected winner of a key is computable from the
// writes alone.
import { seededRandom } from "./seeded-random.js";
import type { RegionsFixture } from "./regions.js";
import type { ServeProcess } from "./serve-process.js";
import { post } from "./serve.js";

/** One pushed row of the test repo's `driver_stats_push` (views stats@1 and stats@2). */
export interface DriverWrite {
  driver: number;
  eventTsMs: number;
  rate: number;
  trips: number;
  /** stats@2's string[] feature: null for some drivers, so both shapes travel. */
  tags: string[] | null;
  /** Unique per write: identifies it in the changelogs and in what readers get back. */
  label: string;
  /** The region whose serving process it was pushed to. */
  region: string;
}

/** Event times that no two writes share, close to the wall clock (the push refuses the future). */
export class DistinctEventTimes {
  private last = 0;

  next(): number {
    this.last = Math.max(Date.now(), this.last + 1);
    return this.last;
  }
}

export type PushWait = "enqueued" | "acked" | "applied" | "replicated";

export interface PushOutcome {
  status: number;
  /** `applied.concurrent` of the answer: writes the serving process applied as concurrent. */
  concurrent: number;
  text: string;
}

/** POSTs the rows to the region's /push; the answer's status says whether they are acknowledged. */
export async function pushDrivers(
  serve: ServeProcess,
  rows: readonly DriverWrite[],
  wait: PushWait,
  /** The client's own deadline (the server's is STRATA_ACK_TIMEOUT_MS). */
  timeoutMs?: number,
): Promise<PushOutcome> {
  const { status, json, text } = await post(
    serve.url,
    {
      push_source_name: "driver_stats_push",
      df: {
        driver_id: rows.map((r) => r.driver),
        rate: rows.map((r) => r.rate),
        trips: rows.map((r) => r.trips),
        label: rows.map((r) => r.label),
        tags: rows.map((r) => r.tags),
        event_timestamp: rows.map((r) => r.eventTsMs),
      },
      to: "online",
      wait,
    },
    {
      key: serve.key,
      path: "/push",
      signal: timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs),
    },
  );
  const applied = json.applied as { concurrent?: number } | undefined;
  return { status, concurrent: applied?.concurrent ?? 0, text };
}

/** Every write issued, and those a serving process acknowledged (HTTP 200). */
export class WriteLog {
  readonly issued = new Map<string, DriverWrite>();
  readonly acknowledged = new Set<string>();
  /** The first failed pushes, each with its region and the answer's start. */
  readonly failures: string[] = [];
  /** Failed pushes per region and reason (status and error code, or the client's error). */
  readonly failureReasons = new Map<string, number>();
  pushes = 0;
  concurrentAtPush = 0;

  acknowledgedWrites(): DriverWrite[] {
    return [...this.acknowledged].map((label) => this.issued.get(label)!);
  }

  /** Issued writes with no acknowledgement (failed, or still in flight while writers run). */
  unacknowledged(): DriverWrite[] {
    return [...this.issued.values()].filter((w) => !this.acknowledged.has(w.label));
  }

  /** Failed pushes of one region. */
  failedPushes(region: string): number {
    let sum = 0;
    for (const [reason, count] of this.failureReasons) {
      if (reason.startsWith(`${region}: `)) sum += count;
    }
    return sum;
  }

  /** The acknowledged write with the highest event time, per driver. */
  latestAcknowledged(): Map<number, DriverWrite> {
    const latest = new Map<number, DriverWrite>();
    for (const label of this.acknowledged) {
      const write = this.issued.get(label)!;
      const current = latest.get(write.driver);
      if (!current || write.eventTsMs > current.eventTsMs) latest.set(write.driver, write);
    }
    return latest;
  }
}

/** New writes of these drivers from one region, each with its own event time and label. */
export function newWrites(
  region: string,
  tag: string,
  drivers: readonly number[],
  times: DistinctEventTimes,
): DriverWrite[] {
  return drivers.map((driver, i): DriverWrite => {
    const eventTsMs = times.next();
    return {
      driver,
      eventTsMs,
      rate: (eventTsMs % 10_000) / 8,
      trips: i,
      tags: driver % 5 === 0 ? null : [region, String(driver)],
      label: `${region}-${tag}-${i}`,
      region,
    };
  });
}

/** Pushes the rows and records them in the log: issued first, acknowledged on a 200. */
export async function pushLogged(
  serve: ServeProcess,
  rows: readonly DriverWrite[],
  wait: PushWait,
  log: WriteLog,
  timeoutMs?: number,
): Promise<boolean> {
  for (const row of rows) log.issued.set(row.label, row);
  log.pushes++;
  const outcome = await pushDrivers(serve, rows, wait, timeoutMs).catch(
    (error: unknown): PushOutcome => ({
      status: 0,
      concurrent: 0,
      text: (error as Error).name === "TimeoutError" ? "client timeout" : String(error),
    }),
  );
  if (outcome.status !== 200) {
    const region = rows[0]?.region;
    const code = /"code":"(\w+)"/.exec(outcome.text)?.[1] ?? outcome.text.slice(0, 80);
    const reason = `${region}: ${outcome.status} ${code}`;
    log.failureReasons.set(reason, (log.failureReasons.get(reason) ?? 0) + 1);
    if (log.failures.length < 20) {
      log.failures.push(`${region}: ${outcome.status} ${outcome.text.slice(0, 300)}`);
    }
    return false;
  }
  for (const row of rows) log.acknowledged.add(row.label);
  log.concurrentAtPush += outcome.concurrent;
  return true;
}

export interface WriterSpec {
  region: string;
  serve: ServeProcess;
  /** The drivers this writer may write: each push takes `rowsPerPush` of them. */
  drivers: readonly number[];
}

/** One writer per region over the same drivers (`perRegion` of them in each region). */
export function writersPerRegion(
  regions: readonly { name: string; serve: ServeProcess }[],
  drivers: readonly number[] | ((regionIndex: number) => readonly number[]),
  perRegion = 1,
): WriterSpec[] {
  return regions.flatMap((r, i) =>
    Array.from({ length: perRegion }, () => ({
      region: r.name,
      serve: r.serve,
      drivers: typeof drivers === "function" ? drivers(i) : drivers,
    })),
  );
}

/**
 * One push per region, each of that region's drivers once (`driversOf(regionIndex)`); true for
 * each region whose push was acknowledged.
 */
export function pushOncePerRegion(
  regions: readonly { name: string; serve: ServeProcess }[],
  driversOf: (regionIndex: number) => readonly number[],
  options: { tag: string; wait: PushWait; log: WriteLog; times: DistinctEventTimes },
): Promise<boolean[]> {
  return Promise.all(
    regions.map((r, i) =>
      pushLogged(
        r.serve,
        newWrites(r.name, options.tag, driversOf(i), options.times),
        options.wait,
        options.log,
      ),
    ),
  );
}

/**
 * The seed is the project's first replication: MM2 must discover its new topics and reconfigure
 * every flow's task, a step that in the test run follows other tests' faults: the bound is generous.
 */
export const SEED_CONVERGE_MS = 90_000;

/**
 * A write log whose first writes are one push per region of that region's seed drivers (wait
 * "applied"), converged in every region: every flow has carried the project before a fault.
 */
export async function seededTraffic(
  fixture: RegionsFixture,
  driversOf: (regionIndex: number) => readonly number[],
  timeoutMs = SEED_CONVERGE_MS,
): Promise<{ log: WriteLog; times: DistinctEventTimes }> {
  const log = new WriteLog();
  const times = new DistinctEventTimes();
  const seeded = await pushOncePerRegion(fixture.regions, driversOf, {
    tag: "seed",
    wait: "applied",
    log,
    times,
  });
  if (seeded.includes(false)) {
    throw new Error(`a seed push was not applied: ${log.failures.join("\n")}`);
  }
  const convergedMs = await fixture.waitConverged(timeoutMs, "the seed writes");
  console.log(
    `  seed writes converged in every region ${(convergedMs / 1000).toFixed(1)} s after applying`,
  );
  return { log, times };
}

/**
 * Runs one sequential writer per spec until `stop()`: each pushes `rowsPerPush` distinct
 * drivers at a time (seeded random picks), waiting for `wait` before the next push.
 */
export function startWriters(
  specs: readonly WriterSpec[],
  options: {
    log: WriteLog;
    times: DistinctEventTimes;
    rowsPerPush: number;
    wait: PushWait;
    /** A pause after each push: bounds the write rate where waiting is cheap (`acked`). */
    pauseMs?: number;
    /** Sets this run's labels apart from another run's into the same log. */
    tag?: string;
    /** Seeds the driver picks (writer k uses seed + k); another seed, other drivers. */
    seed?: number;
    /** The client's own deadline per push. */
    requestTimeoutMs?: number;
  },
): { stop: () => Promise<void> } {
  let running = true;
  const loops = specs.map(async (spec, writerIndex) => {
    const random = seededRandom((options.seed ?? 1) + writerIndex);
    for (let push = 0; running; push++) {
      const picked = new Set<number>();
      while (picked.size < Math.min(options.rowsPerPush, spec.drivers.length)) {
        picked.add(spec.drivers[Math.floor(random() * spec.drivers.length)]!);
      }
      const tag = `${options.tag ?? ""}w${writerIndex}p${push}`;
      const rows = newWrites(spec.region, tag, [...picked], options.times);
      await pushLogged(spec.serve, rows, options.wait, options.log, options.requestTimeoutMs);
      if (options.pauseMs) await new Promise((resolve) => setTimeout(resolve, options.pauseMs));
    }
  });
  return {
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}
