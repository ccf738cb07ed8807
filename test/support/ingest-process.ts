// Regional consumers a test spawns (functions/ingest/main.ts under tsx, with the flags the
// container uses): the real process, so a test sees what a deployed region's consumer does.
import { spawn, type ChildProcess } from "node:child_process";
import { resolveEndpoints } from "../../dev/stack/endpoints.js";
import { repoRoot } from "../../dev/stack/paths.js";
import { registerScrapeTarget } from "../../dev/stack/prometheus-targets.js";
import { INGEST_NODE_FLAGS } from "../../functions/ingest/node-flags.js";
import { TEST_TOPICS } from "./changelog.js";
import { stopChild } from "./serve-process.js";

export interface IngestProcess {
  child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output: () => string;
  /** The port of its /metrics, /health and /ready, once it listens. */
  metricsPort: () => number | undefined;
  /** SIGTERM (the chunk in progress is applied and committed), SIGKILL after a grace period. */
  stop: () => Promise<void>;
}

export function startIngestProcess(options: {
  project: string;
  region: string;
  /** The other regions whose replicated changelogs it applies (STRATA_PEER_REGIONS). */
  peers?: readonly string[];
  /** Its region's Redis standalone; the shared stack's when absent. */
  redisUrl?: string;
  /** Its region's Kafka; the shared stack's when absent. */
  kafkaBrokers?: readonly string[];
  env?: Record<string, string>;
}): IngestProcess {
  const endpoints = resolveEndpoints();
  let output = "";
  const child = spawn(
    process.execPath,
    [...INGEST_NODE_FLAGS, "--import", "tsx", "functions/ingest/main.ts"],
    {
      cwd: repoRoot,
      env: {
        ...process.env,
        STRATA_REPO: "test/support/test-repo-module.ts",
        STRATA_TEST_PROJECT: options.project,
        REDIS_URL: options.redisUrl ?? endpoints.redis.address,
        REDIS_CLUSTER_NODES: "",
        KAFKA_BROKERS: (options.kafkaBrokers ?? endpoints.kafka.address).join(","),
        STRATA_REGION: options.region,
        STRATA_PEER_REGIONS: (options.peers ?? []).join(","),
        STRATA_CHANGELOG_PARTITIONS: String(TEST_TOPICS.partitions),
        STRATA_CHANGELOG_REPLICATION: String(TEST_TOPICS.replicationFactor),
        STRATA_CHANGELOG_MIN_ISR: String(TEST_TOPICS.minInSyncReplicas),
        STRATA_LAG_POLL_MS: "200",
        STRATA_METRICS_HOST: "127.0.0.1",
        STRATA_METRICS_PORT: "0",
        ...options.env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const metricsPort = () => {
    const port = /"message":"metrics listening".*"port":(\d+)/.exec(output)?.[1];
    return port === undefined ? undefined : Number(port);
  };
  // A target of the stack's Prometheus (job strata-ingest, its region) once it listens.
  let unregister: (() => void) | undefined;
  child.stdout.on("data", (chunk: Buffer) => {
    output += chunk.toString();
    const port = unregister === undefined ? metricsPort() : undefined;
    if (port !== undefined) {
      unregister = registerScrapeTarget({
        address: `127.0.0.1:${port}`,
        job: "strata-ingest",
        labels: { region: options.region },
        ownerPid: child.pid,
      });
      // However it ends (a test may kill it directly), it is no target any more.
      child.once("exit", unregister);
    }
  });
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  return {
    child,
    output: () => output,
    metricsPort,
    // The chunk in progress is applied and committed first: a longer grace than serving's.
    stop: async () => {
      unregister?.();
      await stopChild(child, 15_000);
    },
  };
}
