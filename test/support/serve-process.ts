// Serving processes a test spawns (functions/serve/main.ts under tsx), each with its own
// Redis client, hot cache and changelog writer: what several replicas of the serving tier are.
import { spawn, type ChildProcess } from "node:child_process";
import net from "node:net";
import { resolveEndpoints } from "../../dev/stack/endpoints.js";
import { repoRoot } from "../../dev/stack/paths.js";
import { registerScrapeTarget } from "../../dev/stack/prometheus-targets.js";
import { generateApiKey } from "../../functions/serve/auth.js";
import type { Topology } from "./servers.js";
import { TEST_TOPICS } from "./changelog.js";

export interface ServeProcess {
  /** The feature API. */
  url: string;
  /** /health, /ready and /metrics. */
  adminUrl: string;
  /** May read and push. */
  key: string;
  /** Everything the process wrote to stdout and stderr so far. */
  output: () => string;
  /** SIGTERM, then waits for the exit (SIGKILL after a grace period). */
  stop: () => Promise<void>;
}

export async function startServeProcess(options: {
  project: string;
  topology: Topology;
  region: string;
  /** A Redis of the test's own (standalone) instead of the shared one of `topology`. */
  redisUrl?: string;
  /** false: no changelog (no KAFKA_BROKERS; pushes get 503). */
  kafka?: boolean;
  /** Extra environment (overrides the defaults here). */
  env?: Record<string, string>;
  /**
   * false: not a target of the stack's Prometheus. By default its admin port is registered
   * (job `strata-serve`, its region) until it stops.
   */
  scrape?: boolean;
}): Promise<ServeProcess> {
  const endpoints = resolveEndpoints();
  const { key, record } = generateApiKey(`serve-${options.region}`, { push: true });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    STRATA_REPO: "test/support/test-repo-module.ts",
    STRATA_TEST_PROJECT: options.project,
    STRATA_HOST: "127.0.0.1",
    STRATA_PORT: "0",
    // Several run side by side: none may take the default admin port.
    STRATA_ADMIN_PORT: "0",
    STRATA_API_KEYS: JSON.stringify([record]),
    STRATA_REGION: options.region,
    STRATA_SHUTDOWN_GRACE_MS: "1000",
    KAFKA_BROKERS: endpoints.kafka.address.join(","),
    STRATA_CHANGELOG_PARTITIONS: String(TEST_TOPICS.partitions),
    STRATA_CHANGELOG_REPLICATION: String(TEST_TOPICS.replicationFactor),
    STRATA_CHANGELOG_MIN_ISR: String(TEST_TOPICS.minInSyncReplicas),
    STRATA_WRITE_LINGER_MS: "0",
    ...options.env,
  };
  if (options.kafka === false) delete env.KAFKA_BROKERS;
  if (options.topology === "standalone") {
    env.REDIS_URL = options.redisUrl ?? endpoints.redis.address;
    delete env.REDIS_CLUSTER_NODES;
  } else {
    env.REDIS_CLUSTER_NODES = endpoints.cluster.address.map((a) => `${a.host}:${a.port}`).join(",");
    delete env.REDIS_URL;
  }
  const child = spawn(process.execPath, ["--import", "tsx", "functions/serve/main.ts"], {
    cwd: repoRoot,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const stop = () => stopChild(child);
  const deadline = Date.now() + 60_000;
  while (!output.includes('"serving"')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`the serve process did not start: ${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const line = output.split("\n").find((l) => l.includes('"serving"'))!;
  const { url, adminUrl } = JSON.parse(line) as { url: string; adminUrl: string };
  const unregister =
    options.scrape === false
      ? () => {}
      : registerScrapeTarget({
          address: new URL(adminUrl).host,
          job: "strata-serve",
          labels: { region: options.region },
          ownerPid: child.pid,
        });
  // However it ends (a test may kill it directly), it is no target any more.
  child.once("exit", unregister);
  return {
    url,
    adminUrl,
    key,
    output: () => output,
    stop: async () => {
      unregister();
      await stop();
    },
  };
}

/** SIGTERM, then SIGKILL if the process has not exited after `graceMs`; waits for the exit. */
export async function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}

/** A /get-online-features request whose headers and first bytes are sent, its rest held back. */
export interface RequestInFlight {
  /** Sends the rest of the body. */
  finish: () => void;
  /** Everything the server answered so far. */
  response: () => string;
  close: () => void;
}

/** Opens a request that stays in flight until `finish`: what a server's shutdown must drain. */
export async function openRequestInFlight(url: URL, key: string): Promise<RequestInFlight> {
  const body = JSON.stringify({
    features: ["driver_hourly_stats:conv_rate"],
    entities: { driver_id: [1001] },
  });
  const socket = net.connect(Number(url.port), url.hostname);
  await new Promise((resolve) => socket.once("connect", resolve));
  let response = "";
  socket.on("data", (chunk: Buffer) => (response += chunk.toString()));
  socket.write(
    `POST /get-online-features HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAuthorization: Bearer ${key}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`,
  );
  socket.write(body.slice(0, 20));
  // Let the server read the headers, so the request counts as in flight.
  await new Promise((resolve) => setTimeout(resolve, 200));
  return {
    finish: () => socket.write(body.slice(20)),
    response: () => response,
    close: () => socket.destroy(),
  };
}
