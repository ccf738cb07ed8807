// Readers for the region fault tests: they poll /get-online-features in every region and check
// per-key monotonic reads within each serving process, and that each value read is the write
// of the event time it came with.
import type { WriteLog } from "./region-traffic.js";
import type { ServeProcess } from "./serve-process.js";
import { post } from "./serve.js";

interface ReaderState {
  region: string;
  serve: ServeProcess;
  /** Per driver, the highest event time a read that completed has returned (-1: not found). */
  completed: Map<number, number>;
  requests: number;
  keyReads: number;
  errors: number;
}

/** What the readers saw: reads per region and every regression (empty when reads were monotonic). */
export interface ReadReport {
  requests: number;
  keyReads: number;
  byRegion: Record<string, { requests: number; keyReads: number; errors: number }>;
  regressions: string[];
  /** Reads whose label was not the write of the returned event time (a value torn from its version). */
  torn: string[];
}

/**
 * Polls /get-online-features for `drivers` in every region with `perRegion` concurrent readers
 * until `stop()`. A read is checked against the reads of the same serving process that had
 * completed before it started (overlapping requests have no order): per driver, the event time,
 * the version's first component, must never go back, and the label returned must be the write
 * that has that event time (`writes`).
 */
export function startReaders(
  regions: readonly { name: string; serve: ServeProcess }[],
  drivers: readonly number[],
  options: { perRegion: number; pauseMs: number; writes: WriteLog },
): { stop: () => Promise<ReadReport> } {
  let running = true;
  const regressions: string[] = [];
  const torn: string[] = [];
  const byLabel = options.writes.issued;
  const states: ReaderState[] = regions.map((r) => ({
    region: r.name,
    serve: r.serve,
    completed: new Map(),
    requests: 0,
    keyReads: 0,
    errors: 0,
  }));
  const readOnce = async (state: ReaderState) => {
    const floor = new Map(state.completed);
    const { status, json } = await post(
      state.serve.url,
      { features: ["stats@1:label"], entities: { driver_id: drivers } },
      { key: state.serve.key },
    );
    if (status !== 200) {
      state.errors++;
      return;
    }
    const results = json.results as {
      values: unknown[];
      statuses: string[];
      event_timestamps: string[];
    }[];
    const label = results[1]!;
    state.requests++;
    drivers.forEach((driver, j) => {
      state.keyReads++;
      const found = label.statuses[j] !== "NOT_FOUND";
      const eventTs = found ? Date.parse(label.event_timestamps[j]!) : -1;
      const before = floor.get(driver);
      if (before !== undefined && eventTs < before && regressions.length < 20) {
        regressions.push(
          `${state.region}: driver ${driver} read event time ${eventTs} after a completed read returned ${before}`,
        );
      }
      if (found) {
        const write = byLabel.get(String(label.values[j]));
        if (write?.eventTsMs !== eventTs && torn.length < 20) {
          torn.push(
            `${state.region}: driver ${driver} label ${String(label.values[j])} with event time ${eventTs}`,
          );
        }
      }
      if (eventTs > (state.completed.get(driver) ?? -Infinity))
        state.completed.set(driver, eventTs);
    });
  };
  const loops = states.flatMap((state) =>
    Array.from({ length: options.perRegion }, async () => {
      while (running) {
        await readOnce(state).catch(() => state.errors++);
        await new Promise((resolve) => setTimeout(resolve, options.pauseMs));
      }
    }),
  );
  const finish = async (): Promise<ReadReport> => {
    running = false;
    await Promise.all(loops);
    return {
      requests: states.reduce((sum, s) => sum + s.requests, 0),
      keyReads: states.reduce((sum, s) => sum + s.keyReads, 0),
      byRegion: Object.fromEntries(
        states.map((s) => [
          s.region,
          { requests: s.requests, keyReads: s.keyReads, errors: s.errors },
        ]),
      ),
      regressions,
      torn,
    };
  };
  let report: Promise<ReadReport> | undefined;
  // Idempotent: a test stops the readers in `finally` and judges the report afterwards.
  return { stop: () => (report ??= finish()) };
}
