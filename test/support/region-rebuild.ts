// What the region rebuild test runs around a RegionsFixture: the replay and reconcile commands
// as processes (the real entry points, with a region's environment), and readers that keep
// asking a region's serving process for features and count every answer.
import { spawn } from "node:child_process";
import { repoRoot } from "../../dev/stack/paths.js";
import type { ReconcileReport } from "../../shared/reconcile/index.js";
import { TEST_TOPICS } from "./changelog.js";
import type { RegionsFixture, RunningRegion } from "./regions.js";

export interface ToolRun {
  code: number | null;
  /** stdout alone (a --json report goes there). */
  stdout: string;
  /** stdout and stderr, interleaved. */
  output: string;
  elapsedMs: number;
}

/** Runs one of the repo's commands (a .ts entry point under tsx) to its end, bounded. */
export function runTool(
  script: string,
  args: readonly string[],
  env: Record<string, string>,
  timeoutMs: number,
): Promise<ToolRun> {
  const started = performance.now();
  const child = spawn(process.execPath, ["--import", "tsx", script, ...args], {
    cwd: repoRoot,
    env: { ...process.env, REDIS_CLUSTER_NODES: "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  let stdout = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
    output += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  return new Promise((resolve) => {
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, output, elapsedMs: performance.now() - started });
    });
  });
}

/** The environment a region's own commands run with: its Redis, its Kafka, the test repo. */
export function regionEnv(fixture: RegionsFixture, region: RunningRegion): Record<string, string> {
  return {
    STRATA_REPO: "test/support/test-repo-module.ts",
    STRATA_TEST_PROJECT: fixture.project,
    STRATA_REGION: region.name,
    REDIS_URL: region.region.redisUrl,
    KAFKA_BROKERS: region.region.kafkaBrokers.join(","),
    STRATA_CHANGELOG_PARTITIONS: String(TEST_TOPICS.partitions),
  };
}

/** What `npm run replay` printed at the end. */
export interface ReplaySummary {
  records: number;
  applied: number;
  stale: number;
  rejected: number;
  seconds: number;
  /** Peers' copies named as missing. */
  missing: string;
}

export function parseReplay(output: string): ReplaySummary {
  const done =
    /replay done: (\d+) records in ([\d.]+) s: (\d+) applied, (\d+) stale .*?, (\d+) rejected/.exec(
      output,
    );
  if (!done) throw new Error(`the replay did not finish: ${output}`);
  return {
    records: Number(done[1]),
    seconds: Number(done[2]),
    applied: Number(done[3]),
    stale: Number(done[4]),
    rejected: Number(done[5]),
    missing: /not replayed, no such topic on these brokers: (.*)/.exec(output)?.[1] ?? "",
  };
}

/** The JSON report `npm run reconcile -- --json` printed (stderr carries logs only). */
export function parseReconcile(run: ToolRun): ReconcileReport {
  try {
    return JSON.parse(run.stdout) as ReconcileReport;
  } catch {
    throw new Error(`reconcile printed no report (exit ${run.code}): ${run.output}`);
  }
}

/**
 * A loop reading `features` of `drivers` from one region's serving process until stopped.
 * Every answer counts: a read is good when it is a 200 and every feature of every driver has
 * a value (PRESENT, or OUTSIDE_MAX_AGE, which still returns the stored value).
 */
export class RegionReader {
  reads = 0;
  readonly bad: string[] = [];
  private running = true;
  private readonly loop: Promise<void>;

  constructor(
    readonly region: RunningRegion,
    private readonly features: readonly string[],
    private readonly drivers: readonly number[],
  ) {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  private async run(): Promise<void> {
    while (this.running) {
      this.reads++;
      try {
        const response = await fetch(`${this.region.serve.url}/get-online-features`, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            authorization: `Bearer ${this.region.serve.key}`,
          },
          body: JSON.stringify({ features: this.features, entities: { driver_id: this.drivers } }),
          signal: AbortSignal.timeout(5_000),
        });
        const text = await response.text();
        if (response.status !== 200) {
          this.bad.push(`${response.status} ${text.slice(0, 120)}`);
        } else {
          const results = (
            JSON.parse(text) as { results: { values: unknown[]; statuses: string[] }[] }
          ).results.slice(1);
          const missing = results.flatMap((r) =>
            r.statuses.filter(
              (s, i) => !(s === "PRESENT" || s === "OUTSIDE_MAX_AGE") || r.values[i] === null,
            ),
          );
          if (missing.length > 0) this.bad.push(`200 without values: ${missing.join(",")}`);
        }
      } catch (error) {
        this.bad.push(String(error));
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}
