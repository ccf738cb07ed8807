// npm run test:feast: the Feast compatibility suite. Feast's own SDK (the pinned version of
// test/feast/requirements.lock, in a Python virtual environment cached by that file's hash)
// talks to Strata and to `feast serve` of the same feature repo, and pytest compares them:
//   1. the venv: reused when it exists for this lockfile, else created and installed from PyPI
//   2. the local stack's region 0 (Redis, Kafka): reused when it runs, else brought up
//   3. a Feast repo in a temporary folder (test/feast/feature_repo, a unique project, Feast's
//      Redis online store on the stack's Redis, a local file registry), `feast apply`
//   4. Strata's serve and ingest processes (test/feast/strata-repo.ts, a unique project) and
//      `feast serve` of the Feast repo
//   5. pytest test/feast/test_feast_compat.py, then everything stopped and removed (processes,
//      the folder, both servers' keys of the test projects, the Kafka topics)
// STRATA_FEAST_CACHE: where venvs are kept (default .cache/feast in the clone).
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { Redis } from "ioredis";
import os from "node:os";
import path from "node:path";
import { cachedVenv } from "../dev/python-venv.js";
import { resolveEndpoints } from "../dev/stack/endpoints.js";
import { repoRoot } from "../dev/stack/paths.js";
import { stackStatus, stackUp } from "../dev/stack/stack.js";
import { generateApiKey } from "../functions/serve/auth.js";
import { changelogTopic, createKafka, deadLetterTopic } from "../shared/changelog/index.js";
import { startIngestProcess, type IngestProcess } from "../test/support/ingest-process.js";
import { startServeProcess, type ServeProcess } from "../test/support/serve-process.js";
import { uniqueProject } from "../test/support/store.js";

const SUITE_DIR = path.join(repoRoot, "test/feast");
const LOCKFILE = path.join(SUITE_DIR, "requirements.lock");
const STRATA_REPO = "test/feast/strata-repo.ts";

function log(line: string): void {
  console.log(`test:feast: ${line}`);
}

function seconds(since: number): string {
  return `${((performance.now() - since) / 1000).toFixed(1)} s`;
}

/** Runs a command to completion, its output shown; throws when it fails. */
function run(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): void {
  const result = spawnSync(command, args, { stdio: "inherit", ...options });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(" ")} failed (exit ${result.status ?? result.signal})`);
  }
}

/** The venv for the lockfile's hash (STRATA_FEAST_CACHE, default .cache/feast in the clone). */
function ensureVenv(): string {
  const cacheRoot = path.resolve(
    process.env.STRATA_FEAST_CACHE ?? path.join(repoRoot, ".cache/feast"),
  );
  return cachedVenv(LOCKFILE, cacheRoot, log);
}

/** Region 0's Redis and Kafka: used as they run (the helper stack, CI's after npm test), else brought up. */
async function ensureStack(): Promise<void> {
  const rows = stackStatus().filter((row) => row.name === "redis" || row.name === "kafka");
  if (rows.length === 2 && rows.every((row) => row.state !== "stopped")) return;
  log("bringing the local stack up ...");
  await stackUp({});
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** The Feast repo in a folder of its own: definitions, feature_store.yaml, then `feast apply`. */
function feastRepo(venv: string, project: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "strata-feast-"));
  cpSync(path.join(SUITE_DIR, "feature_repo"), dir, { recursive: true });
  const redis = new URL(resolveEndpoints().redis.address);
  writeFileSync(
    path.join(dir, "feature_store.yaml"),
    [
      `project: ${project}`,
      "registry: data/registry.db",
      "provider: local",
      "online_store:",
      "  type: redis",
      `  connection_string: "${redis.hostname}:${redis.port}"`,
      "offline_store:",
      "  type: file",
      "entity_key_serialization_version: 3",
      "",
    ].join("\n"),
  );
  run(path.join(venv, "bin/feast"), ["apply"], { cwd: dir, env: feastEnv() });
  return dir;
}

function feastEnv(): NodeJS.ProcessEnv {
  return { ...process.env, FEAST_USAGE: "False", PYTHONUNBUFFERED: "1" };
}

interface FeastServer {
  url: string;
  output: () => string;
  stop: () => Promise<void>;
}

/** `feast serve` (gunicorn and its worker, in a process group of their own) until /health answers. */
async function startFeastServe(venv: string, dir: string): Promise<FeastServer> {
  const port = await freePort();
  const child = spawn(
    path.join(venv, "bin/feast"),
    ["serve", "-h", "127.0.0.1", "-p", String(port), "--no-access-log"],
    { cwd: dir, env: feastEnv(), stdio: ["ignore", "pipe", "pipe"], detached: true },
  );
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const stop = () => stopGroup(child);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    const healthy = await fetch(`${url}/health`).then(
      (response) => response.ok,
      () => false,
    );
    if (healthy) return { url, output: () => output, stop };
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`feast serve did not start:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** SIGTERM to the group this script started (gunicorn's master and workers), SIGKILL after 10 s. */
async function stopGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  process.kill(-child.pid, "SIGTERM");
  const timer = setTimeout(() => process.kill(-child.pid!, "SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}

/** Strata's keys of the test project (its entity hashes and its generation pointers). */
async function deleteStrataKeys(project: string): Promise<void> {
  const redis = new Redis(resolveEndpoints().redis.address, { lazyConnect: true });
  await redis.connect();
  try {
    for (const pattern of [`fs:{${project}:*`, `fs:{${project}}*`]) {
      for await (const keys of redis.scanStream({ match: pattern, count: 1000 })) {
        if ((keys as string[]).length > 0) await redis.del(...(keys as string[]));
      }
    }
  } finally {
    redis.disconnect();
  }
}

async function deleteTopics(project: string): Promise<void> {
  const kafka = createKafka(
    { brokers: resolveEndpoints().kafka.address, clientId: "strata-test-feast" },
    () => undefined,
  );
  const admin = kafka.admin();
  await admin.connect();
  await admin
    .deleteTopics({ topics: [changelogTopic(project), deadLetterTopic(project)] })
    .catch(() => undefined);
  await admin.disconnect();
}

async function main(): Promise<number> {
  const started = performance.now();
  const venv = ensureVenv();
  await ensureStack();
  const strataProject = uniqueProject("feast_compat");
  // Feast's Redis keys end with the project's name: a name of its own, so its teardown's
  // pattern can only match Feast's keys.
  const feastProject = `${strataProject}_feast`;
  const setupStarted = performance.now();
  const dir = feastRepo(venv, feastProject);

  const writer = generateApiKey("feast-compat-writer", { push: true });
  const reader = generateApiKey("feast-compat-reader");
  const serviceOnly = generateApiKey("feast-compat-service", {
    featureServices: ["driver_service"],
  });
  let serve: ServeProcess | undefined;
  let ingest: IngestProcess | undefined;
  let feast: FeastServer | undefined;
  try {
    ingest = startIngestProcess({
      project: strataProject,
      region: "local",
      env: { STRATA_REPO },
    });
    [serve, feast] = await Promise.all([
      startServeProcess({
        project: strataProject,
        topology: "standalone",
        region: "local",
        env: {
          STRATA_REPO,
          STRATA_API_KEYS: JSON.stringify([writer.record, reader.record, serviceOnly.record]),
        },
      }),
      startFeastServe(venv, dir),
    ]);
    log(`Strata at ${serve.url}, feast serve at ${feast.url} (set up in ${seconds(setupStarted)})`);
    const pytestStarted = performance.now();
    const result = spawnSync(
      path.join(venv, "bin/python"),
      [
        "-m",
        "pytest",
        "-v",
        "-p",
        "no:cacheprovider",
        path.join(SUITE_DIR, "test_feast_compat.py"),
      ],
      {
        cwd: repoRoot,
        stdio: "inherit",
        env: {
          ...feastEnv(),
          STRATA_URL: serve.url,
          FEAST_URL: feast.url,
          FEAST_REPO_DIR: dir,
          FEAST_PROJECT: feastProject,
          STRATA_WRITE_KEY: writer.key,
          STRATA_READ_KEY: reader.key,
          STRATA_SERVICE_KEY: serviceOnly.key,
        },
      },
    );
    log(`pytest took ${seconds(pytestStarted)}; the whole suite ${seconds(started)}`);
    if (result.status !== 0) {
      log(`Strata's output:\n${serve.output()}`);
      log(`feast serve's output:\n${feast.output()}`);
    }
    return result.status ?? 1;
  } finally {
    await Promise.all([serve?.stop(), feast?.stop(), ingest?.stop()]);
    spawnSync(path.join(venv, "bin/feast"), ["teardown"], {
      cwd: dir,
      env: feastEnv(),
      stdio: "ignore",
    });
    rmSync(dir, { recursive: true, force: true });
    await deleteStrataKeys(strataProject).catch((error: unknown) =>
      log(`could not delete Strata's keys: ${String(error)}`),
    );
    await deleteTopics(strataProject).catch((error: unknown) =>
      log(`could not delete topics: ${String(error)}`),
    );
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error("test:feast: failed", error);
    process.exitCode = 1;
  },
);
