import { execFileSync } from "node:child_process";
import { chownSync, existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import pg from "pg";
import {
  LOCAL_PG_DBNAME,
  LOCAL_PG_USER,
  postgresPasswordFile,
  postgresPort,
} from "../cdc-database.js";
import { LOOPBACK } from "../endpoints.js";
import { logFile, stackPaths } from "../paths.js";
import {
  isAlive,
  ourRunningPid,
  requireFreePort,
  runCommand,
  startDetached,
} from "../processes.js";
import { ensurePostgres } from "../prerequisites.js";
import { StackError } from "../stack-error.js";
import { sleep, waitUntil } from "../wait.js";
import type { ServiceStatus, StackService, UpOutcome } from "./service.js";

const NAME = "postgres";
const READY_TIMEOUT_MS = 60_000;
/** The unprivileged account PostgreSQL runs as when the stack runs as root (it refuses root). */
const SERVER_USER = "postgres";
/** Local only: the stack's database is a throwaway. */
const PASSWORD = "strata";

/**
 * The CDC sources' database (docs/sources.md): Debian's PostgreSQL run as a plain process,
 * its cluster initialised into `<stack dir>/postgres/data`, on loopback only, with
 * `wal_level=logical` so Debezium can stream changes through pgoutput. Its role `strata` is a
 * superuser (replication, publication and slot rights). Skipped when STRATA_CDC_DATABASES names
 * the developer's own databases.
 */
export class Postgres implements StackService {
  readonly name = NAME;
  private readonly dataDir = path.join(stackPaths.postgres, "data");

  private get external(): boolean {
    return (process.env.STRATA_CDC_DATABASES ?? "").trim() !== "";
  }

  private get port(): number {
    return postgresPort();
  }

  async up(log: (line: string) => void): Promise<UpOutcome> {
    if (this.external) return "external";
    if (ourRunningPid(NAME, this.dataDir) !== undefined) {
      if ((await waitUntil(() => this.ready(), { timeoutMs: READY_TIMEOUT_MS })) === "ready") {
        return "reused";
      }
      await this.down();
    }
    const bin = await ensurePostgres(log);
    await requireFreePort(this.port, LOOPBACK, "PostgreSQL", "STRATA_CDC_DATABASES");
    const owner = this.serverOwner();
    if (!existsSync(path.join(this.dataDir, "PG_VERSION"))) await this.init(bin, owner);
    const pid = startDetached({
      name: NAME,
      ...this.asOwner(owner, path.join(bin, "postgres"), [
        "-D",
        this.dataDir,
        "-c",
        `port=${this.port}`,
        "-c",
        `listen_addresses=${LOOPBACK}`,
        "-c",
        "unix_socket_directories=",
        "-c",
        "wal_level=logical",
        "-c",
        "max_wal_senders=20",
        // A slot per project and database: tests create many, and drop them when done.
        "-c",
        "max_replication_slots=50",
        // A development database: losing it in a machine crash costs nothing, syncing costs time.
        "-c",
        "fsync=off",
        "-c",
        "full_page_writes=off",
      ]),
      workDir: this.dataDir,
      logFile: logFile(NAME),
    });
    const outcome = await waitUntil(() => this.ready(), {
      timeoutMs: READY_TIMEOUT_MS,
      intervalMs: 100,
      stillAlive: () => isAlive(pid),
    });
    if (outcome !== "ready") {
      await this.down();
      throw new StackError(
        outcome === "died"
          ? "PostgreSQL exited during start-up"
          : `PostgreSQL did not answer on ${LOOPBACK}:${this.port} within ${READY_TIMEOUT_MS / 1000}s`,
        `see its log: ${logFile(NAME)}`,
      );
    }
    await this.ensureDatabase();
    return "started";
  }

  /** Fast shutdown (SIGINT): Debezium's replication connection would hold a smart one forever. */
  async down(): Promise<boolean> {
    const pid = ourRunningPid(NAME, this.dataDir);
    if (pid === undefined) return false;
    for (const [sig, waitMs] of [
      ["SIGINT", 20_000],
      ["SIGQUIT", 5_000],
      ["SIGKILL", 5_000],
    ] as const) {
      try {
        process.kill(pid, sig);
      } catch {
        break;
      }
      const deadline = Date.now() + waitMs;
      while (isAlive(pid) && Date.now() < deadline) await sleep(100);
      if (!isAlive(pid)) break;
    }
    rmSync(path.join(stackPaths.pids, `${NAME}.pid`), { force: true });
    return true;
  }

  status(): ServiceStatus {
    if (this.external) {
      return {
        name: NAME,
        state: "external",
        address: "STRATA_CDC_DATABASES",
        pids: [],
        source: "STRATA_CDC_DATABASES",
      };
    }
    const pid = ourRunningPid(NAME, this.dataDir);
    return {
      name: NAME,
      state: pid === undefined ? "stopped" : "running",
      address: `postgresql://${LOOPBACK}:${this.port}/${LOCAL_PG_DBNAME}`,
      pids: pid === undefined ? [] : [pid],
    };
  }

  /** uid/gid the server runs as: ours, or the `postgres` account's when we are root. */
  private serverOwner(): { uid: number; gid: number } | undefined {
    if (process.getuid?.() !== 0) return undefined;
    try {
      const uid = Number(execFileSync("id", ["-u", SERVER_USER], { encoding: "utf8" }).trim());
      const gid = Number(execFileSync("id", ["-g", SERVER_USER], { encoding: "utf8" }).trim());
      return { uid, gid };
    } catch {
      throw new StackError(
        `PostgreSQL refuses to run as root, and there is no "${SERVER_USER}" account to run it as`,
        "create one (Debian's postgresql package does), or run the stack as an unprivileged user",
      );
    }
  }

  /** The command run as the server's owner: setpriv execs in place, so the pid stays the server's. */
  private asOwner(
    owner: { uid: number; gid: number } | undefined,
    command: string,
    args: string[],
  ): { command: string; args: string[] } {
    if (owner === undefined) return { command, args };
    return {
      command: "setpriv",
      args: [`--reuid=${owner.uid}`, `--regid=${owner.gid}`, "--clear-groups", command, ...args],
    };
  }

  private async init(bin: string, owner: { uid: number; gid: number } | undefined): Promise<void> {
    rmSync(this.dataDir, { recursive: true, force: true });
    mkdirSync(this.dataDir, { recursive: true, mode: 0o700 });
    // No trailing newline: Kafka's DirectoryConfigProvider passes the file's bytes as they are.
    writeFileSync(postgresPasswordFile, PASSWORD, { mode: 0o640 });
    if (owner !== undefined) {
      chownSync(stackPaths.postgres, owner.uid, owner.gid);
      chownSync(this.dataDir, owner.uid, owner.gid);
      chownSync(postgresPasswordFile, owner.uid, owner.gid);
    }
    const { command, args } = this.asOwner(owner, path.join(bin, "initdb"), [
      "-D",
      this.dataDir,
      `--username=${LOCAL_PG_USER}`,
      `--pwfile=${postgresPasswordFile}`,
      "--auth=scram-sha-256",
      "--encoding=UTF8",
      "--locale=C",
      "--no-sync",
    ]);
    await runCommand(command, args, "initdb", 120_000);
  }

  private client(database: string): pg.Client {
    return new pg.Client({
      host: LOOPBACK,
      port: this.port,
      user: LOCAL_PG_USER,
      password: PASSWORD,
      database,
      connectionTimeoutMillis: 2_000,
    });
  }

  private async ready(): Promise<boolean> {
    const client = this.client("postgres");
    try {
      await client.connect();
      await client.query("select 1");
      return true;
    } catch {
      return false;
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  private async ensureDatabase(): Promise<void> {
    const client = this.client("postgres");
    await client.connect();
    try {
      const found = await client.query("select 1 from pg_database where datname = $1", [
        LOCAL_PG_DBNAME,
      ]);
      if (found.rowCount === 0) await client.query(`create database ${LOCAL_PG_DBNAME}`);
    } finally {
      await client.end();
    }
  }
}
