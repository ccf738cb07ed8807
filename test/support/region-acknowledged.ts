// The judge of acknowledged writes for the region fault tests that make some writes fail (a
// broker down, a region rebuilt): what every region must hold, derived from the write log
// alone (acknowledged writes, and unacknowledged ones that landed), not from the changelogs.
// Each write carries an event time unique in the log, so the version order between two writes
// of a driver is their event-time order, whatever region made them, and a stored version names
// the write it came from.
import type { Redis } from "ioredis";
import type { ViewChecksum, WriteRow } from "../../shared/online-store/index.js";
import type { FeatureRegistry } from "../../shared/registry/index.js";
import { checksumsOf } from "./changelog.js";
import { featureValues, storedVersions } from "./region-state.js";
import type { DriverWrite, WriteLog } from "./region-traffic.js";
import type { RegionsFixture } from "./regions.js";

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
  reference: Redis,
  log: WriteLog,
): Promise<ExpectedState> {
  const byDriver = new Map<number, DriverWrite[]>();
  for (const write of log.issued.values()) {
    const list = byDriver.get(write.driver) ?? [];
    list.push(write);
    byDriver.set(write.driver, list);
  }
  const acked = (write: DriverWrite) => log.acknowledged.has(write.label);
  const describe = (write: DriverWrite) =>
    `${acked(write) ? "" : "un"}acknowledged write ${write.label} at ${write.eventTsMs}`;
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
        .filter(acked)
        .reduce<DriverWrite | undefined>(
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
      if (acked(winner)) result.ackedWinners++;
      else result.unackedWinners++;
      rows.push({
        view: view.key,
        entity: { driver_id: driver },
        values: featureValues(winner, view),
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
