import { mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { Redis } from "ioredis";
import { LOOPBACK } from "../endpoints.js";
import { logFile, stackPaths } from "../paths.js";
import {
  isAlive,
  ourRunningPid,
  requireFreePort,
  startDetached,
  stopRecorded,
} from "../processes.js";
import { StackError } from "../stack-error.js";
import { waitUntil } from "../wait.js";

const READY_TIMEOUT_MS = 20_000;

/** One redis-server process of the stack: the standalone server or one cluster node. */
export class RedisNode {
  readonly dataDir: string;

  constructor(
    readonly name: string,
    readonly port: number,
    private readonly extraArgs: string[] = [],
  ) {
    this.dataDir = path.join(stackPaths.data, name);
  }

  /** redis-server runs in its data directory (`--dir`), which marks it as ours. */
  runningPid(): number | undefined {
    return ourRunningPid(this.name, this.dataDir);
  }

  /** Starts the server on a fresh, empty data directory and waits until it answers PING. */
  async start(envVar: string): Promise<number> {
    await requireFreePort(this.port, LOOPBACK, this.name, envVar);
    rmSync(this.dataDir, { recursive: true, force: true });
    mkdirSync(this.dataDir, { recursive: true });
    const args = [
      "--bind",
      LOOPBACK,
      "--port",
      String(this.port),
      "--dir",
      this.dataDir,
      // A dev and test stack: no persistence, so a restart is a clean server and disk stays idle.
      "--save",
      "",
      "--appendonly",
      "no",
      "--logfile",
      "",
      ...this.extraArgs,
    ];
    const pid = startDetached({
      name: this.name,
      command: "redis-server",
      args,
      workDir: this.dataDir,
      logFile: logFile(this.name),
    });
    const outcome = await waitUntil(() => pingRedis(LOOPBACK, this.port), {
      timeoutMs: READY_TIMEOUT_MS,
      stillAlive: () => isAlive(pid),
    });
    if (outcome !== "ready") {
      await this.stop();
      throw new StackError(
        `${this.name} (redis-server on ${LOOPBACK}:${this.port}) ${outcome === "died" ? "exited during start-up" : `did not answer PING within ${READY_TIMEOUT_MS / 1000}s`}`,
        `see its log: ${logFile(this.name)}`,
      );
    }
    return pid;
  }

  async waitReady(): Promise<boolean> {
    return (
      (await waitUntil(() => pingRedis(LOOPBACK, this.port), { timeoutMs: 5_000 })) === "ready"
    );
  }

  stop(): Promise<boolean> {
    return stopRecorded(this.name, this.dataDir, 10_000);
  }
}

/** One short-lived connection that fails fast: the probe must never hang or retry on its own. */
export async function withRedis<T>(
  host: string,
  port: number,
  use: (r: Redis) => Promise<T>,
): Promise<T> {
  const redis = new Redis({
    host,
    port,
    lazyConnect: true,
    connectTimeout: 1_000,
    commandTimeout: 2_000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  redis.on("error", () => {
    // Reported through the rejected command; the event would otherwise be unhandled.
  });
  try {
    await redis.connect();
    return await use(redis);
  } finally {
    redis.disconnect();
  }
}

export async function pingRedis(host: string, port: number): Promise<boolean> {
  return (await withRedis(host, port, (r) => r.ping())) === "PONG";
}
