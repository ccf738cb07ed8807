import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { stackDir } from "./paths.js";
import { isAlive } from "./processes.js";

/**
 * Where the local Prometheus looks for targets (file_sd): one JSON file per target, so that
 * processes registering at once never write the same file. Outside the Prometheus data
 * folder, which each start empties: targets registered while it restarts are kept.
 */
export const prometheusTargetsDir = path.join(stackDir, "prometheus", "targets");

/** A process for the local Prometheus to scrape. */
export interface ScrapeTarget {
  /** `host:port` of its /metrics (for the serving tier: its admin port). */
  address: string;
  /** The `job` label its series get, e.g. `strata-serve`, `strata-ingest`. */
  job: string;
  /** Further target labels, e.g. `{ region: "a" }`; names are Prometheus label names. */
  labels?: Record<string, string>;
  /** The process that owns the target (default: this one): `up` drops files of dead owners. */
  ownerPid?: number;
}

/** `<job>.<owner pid>.<address>.json`, job and address slugged to [a-z0-9-]. */
const FILE_NAME = /^[a-z0-9-]+\.(\d+)\.[a-z0-9-]+\.json$/;

/**
 * Adds a target for the local Prometheus (the file appears whole: written aside, then
 * renamed). Returns a function that removes it. Prometheus scrapes it within about a second.
 */
export function registerScrapeTarget(target: ScrapeTarget, dir = prometheusTargetsDir): () => void {
  mkdirSync(dir, { recursive: true });
  const pid = target.ownerPid ?? process.pid;
  const slug = (text: string) => text.toLowerCase().replace(/[^a-z0-9]+/g, "-");
  const file = path.join(dir, `${slug(target.job)}.${pid}.${slug(target.address)}.json`);
  const group = [{ targets: [target.address], labels: { ...target.labels, job: target.job } }];
  const temporary = `${file}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(group)}\n`);
  renameSync(temporary, file);
  return () => rmSync(file, { force: true });
}

/** Removes the target files whose owning process is gone (a test that crashed before cleaning up). */
export function pruneScrapeTargets(dir = prometheusTargetsDir): number {
  let removed = 0;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const name of names) {
    const owner = FILE_NAME.exec(name.endsWith(".tmp") ? name.slice(0, -4) : name)?.[1];
    if (owner !== undefined && !isAlive(Number(owner))) {
      rmSync(path.join(dir, name), { force: true });
      removed += 1;
    }
  }
  return removed;
}
