// The strata command as a new user runs it: `strata init` in an empty folder outside this
// repository, `strata serve` and `strata ingest` started from that folder (its strata.json and
// repo.mts), then `strata push` and `strata get` against them; every step a child process of
// bin/strata.js, against the real Redis and Kafka of the local stack.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { changelogTopic, deadLetterTopic } from "../../shared/changelog/index.js";
import type { PushSummary } from "../../cli/commands/push.js";
import { registryTopic } from "../../shared/registry-log/index.js";
import { runStrata, STRATA_BIN, type CliRun } from "../support/cli.js";
import { startStandalone } from "../support/redis-process.js";
import { stopChild } from "../support/serve-process.js";
import { kafkaClient } from "../support/servers.js";
import { uniqueProject } from "../support/store.js";

interface Running {
  child: ChildProcess;
  output: () => string;
}

/** A long-running strata command (serve, ingest) from `cwd`, until `ready` shows in its output. */
async function startStrata(
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  ready: RegExp,
): Promise<Running> {
  const child = spawn(process.execPath, [STRATA_BIN, ...args], {
    cwd,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + 60_000;
  while (!ready.test(output)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stopChild(child);
      throw new Error(`strata ${args.join(" ")} did not start: ${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { child, output: () => output };
}

function ok(run: CliRun, what: string): CliRun {
  assert.equal(run.code, 0, `${what} exited ${run.code}: ${run.stderr}`);
  return run;
}

describe("strata init, serve, ingest, push and get, as a new user in an empty folder", () => {
  const project = uniqueProject("cli");
  const dir = path.join(mkdtempSync(path.join(os.tmpdir(), "strata-user-")), "features");
  // What the user's shell has: the stack's port offset, nothing of Strata's own configuration.
  // Ports 0: several test runs (and helpers) share this machine.
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NO_COLOR: "1",
    STRATA_PORT: "0",
    STRATA_ADMIN_PORT: "0",
    STRATA_METRICS_PORT: "0",
    STRATA_WRITE_LINGER_MS: "0",
  };
  for (const name of [
    "STRATA_REPO",
    "REDIS_URL",
    "REDIS_CLUSTER_NODES",
    "KAFKA_BROKERS",
    "STRATA_URL",
    "STRATA_CONFIG",
  ]) {
    delete env[name];
  }
  let serve: Running;
  let ingest: Running;
  let url: string;

  before(async () => {
    const init = ok(
      await runStrata(["init", dir, "--project", project, "--json"], { cwd: os.tmpdir(), env }),
      "strata init",
    );
    assert.deepEqual(JSON.parse(init.stdout), {
      dir,
      project,
      files: [
        "strata.json",
        "repo.mts",
        "data/driver_stats.jsonl",
        "data/driver_stats.csv",
        "README.md",
      ],
    });
    const plan = ok(await runStrata(["plan"], { cwd: dir, env }), "strata plan");
    assert.match(plan.stdout, new RegExp(`Registry of project ${project}: nothing published`));
    assert.match(plan.stdout, /\+ view driver_stats@1: /);
    const applied = ok(await runStrata(["apply", "--json"], { cwd: dir, env }), "strata apply");
    const result = JSON.parse(applied.stdout) as { published: boolean; version: number };
    assert.deepEqual([result.published, result.version], [true, 1]);
    assert.match(
      ok(await runStrata(["plan"], { cwd: dir, env }), "strata plan again").stdout,
      /No changes: the published registry is this definition/,
    );
    // Both follow the published registry (strata.json names the project), not repo.mts.
    serve = await startStrata(["serve"], dir, env, /"message":"serving"/);
    url = (
      JSON.parse(
        serve
          .output()
          .split("\n")
          .find((l) => l.includes('"serving"'))!,
      ) as { url: string }
    ).url;
    ingest = await startStrata(["ingest"], dir, env, /"message":"consuming"/);
  });

  after(async () => {
    await Promise.all([serve && stopChild(serve.child), ingest && stopChild(ingest.child, 15_000)]);
    const admin = kafkaClient("strata-cli-test").admin();
    await admin.connect();
    await admin
      .deleteTopics({
        topics: [changelogTopic(project), deadLetterTopic(project), registryTopic(project)],
      })
      .catch(() => undefined);
    await admin.disconnect();
  });

  it("serves the registry published from the scaffolded repo, on loopback", () => {
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(serve.output(), /"registry":\{"version":1,"hash":"[0-9a-f]{64}","origin":"kafka:/);
    assert.match(
      serve.output(),
      new RegExp(`"project":"${project}","views":\\["driver_stats@1"\\]`),
    );
  });

  it("pushes the example JSON lines file until applied, and reads it back as JSON", async () => {
    const pushed = ok(
      await runStrata(
        [
          "push",
          "driver_stats_push",
          "--file",
          "data/driver_stats.jsonl",
          "--wait",
          "applied",
          "--json",
          "--url",
          url,
        ],
        { cwd: dir, env },
      ),
      "strata push",
    );
    const summary = JSON.parse(pushed.stdout) as PushSummary;
    // The server's writer and the consumer race to apply each row: either may write it.
    assert.equal(summary.applied!.applied + summary.applied!.stale, 3, pushed.stdout);
    assert.deepEqual(
      { ...summary, applied: undefined },
      {
        status: "ok",
        push_source_name: "driver_stats_push",
        rows: 3,
        requests: 1,
        views: ["driver_stats@1"],
        reached: "applied",
        applied: undefined,
      },
    );
    const got = ok(
      await runStrata(
        [
          "get",
          "--service",
          "driver_activity",
          "--entity",
          "driver_id=1001",
          "driver_id=1003",
          "--json",
          "--url",
          url,
        ],
        { cwd: dir, env },
      ),
      "strata get",
    );
    const answer = JSON.parse(got.stdout) as {
      metadata: { feature_names: string[] };
      results: { values: unknown[]; statuses: string[] }[];
    };
    assert.deepEqual(answer.metadata.feature_names, [
      "driver_id",
      "conv_rate",
      "acc_rate",
      "avg_daily_trips",
    ]);
    assert.deepEqual(
      answer.results.map((r) => r.values),
      [
        [1001, 1003],
        [0.52, 0.47],
        [0.91, 0.95],
        [14, 21],
      ],
    );
    assert.deepEqual(answer.results[1]!.statuses, ["PRESENT", "PRESENT"]);
  });

  it("pushes the example CSV file (cells typed from repo.mts) in requests of --batch rows, and prints a plain table off a terminal", async () => {
    const pushed = ok(
      await runStrata(
        [
          "push",
          "driver_stats_push",
          "--file",
          "data/driver_stats.csv",
          "--batch",
          "1",
          "--wait",
          "applied",
          "--url",
          url,
        ],
        { cwd: dir, env },
      ),
      "strata push csv",
    );
    assert.equal(pushed.stdout, "pushed 2 rows to driver_stats@1 in 2 requests: applied\n");
    assert.equal(pushed.stderr, "", "no progress line off a terminal");
    const got = ok(
      await runStrata(
        [
          "get",
          "-f",
          "driver_stats:conv_rate",
          "driver_stats:avg_daily_trips",
          "-e",
          "driver_id=1004",
          "driver_id=1005",
          "driver_id=4242",
          "--url",
          url,
        ],
        { cwd: dir, env },
      ),
      "strata get table",
    );
    assert.equal(
      got.stdout,
      [
        "driver_id  conv_rate  avg_daily_trips",
        "---------  ---------  ---------------",
        "1004       0.58       11",
        "1005       0.66       17",
        "4242       NOT_FOUND  NOT_FOUND",
        "",
      ].join("\n"),
    );
  });

  it("pushes one row from --row and reports a server-side refusal as exit 1 with the code and a hint", async () => {
    ok(
      await runStrata(
        [
          "push",
          "driver_stats_push",
          "--row",
          '{"driver_id": 1006, "conv_rate": 0.1, "acc_rate": 0.2, "avg_daily_trips": 3}',
          "--wait",
          "applied",
          "--url",
          url,
        ],
        { cwd: dir, env },
      ),
      "strata push --row",
    );
    const bad = await runStrata(
      [
        "push",
        "driver_stats_push",
        "--row",
        '{"driver_id": 1007, "conv_rate": "high", "acc_rate": 0.2, "avg_daily_trips": 3}',
        "--url",
        url,
      ],
      { cwd: dir, env },
    );
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^strata: STRATA_E_BATCH_REJECTED: /);
    assert.match(bad.stderr, /\n {2}row 0: STRATA_E_VALUE_TYPE: /);
    assert.match(bad.stderr, /\n {2}→ fix the rows listed above/);
    const unknown = await runStrata(
      ["get", "-f", "driver_stats:nope", "-e", "driver_id=1", "--url", url],
      { cwd: dir, env },
    );
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /^strata: STRATA_E_UNKNOWN_FEATURE: /);
  });

  it("takes the server URL from strata.json when no flag or variable names it", async () => {
    // strata.json says http://127.0.0.1:6566; STRATA_URL (the environment) overrides it.
    const got = ok(
      await runStrata(["get", "-f", "driver_stats:acc_rate", "-e", "driver_id=1006", "--json"], {
        cwd: dir,
        env: { ...env, STRATA_URL: url },
      }),
      "strata get with STRATA_URL",
    );
    const answer = JSON.parse(got.stdout) as { results: { values: unknown[] }[] };
    assert.deepEqual(answer.results[1]!.values, [0.2]);
    const config = JSON.parse(readFileSync(path.join(dir, "strata.json"), "utf8")) as {
      url: string;
    };
    assert.equal(config.url, "http://127.0.0.1:6566");
  });

  it("replays the changelog into an empty Redis, and checksum tells the two regions apart until then", async () => {
    const rebuilt = await startStandalone();
    try {
      const live = JSON.parse(readFileSync(path.join(dir, "strata.json"), "utf8")) as {
        env: { REDIS_URL: string };
      };
      const before = await runStrata(["checksum", live.env.REDIS_URL, rebuilt.url, "--json"], {
        cwd: dir,
        env,
      });
      assert.equal(before.code, 1, "two regions that differ: exit 1");
      const differs = JSON.parse(before.stdout) as { differences: string[] };
      assert.ok(differs.differences.length > 0, before.stdout);

      const replay = ok(
        await runStrata(["replay", "--redis", rebuilt.url, "--json"], { cwd: dir, env }),
        "strata replay",
      );
      const outcome = JSON.parse(replay.stdout) as {
        report: { records: number; rejected: number };
        checksums: { view: string; rows: number }[];
      };
      assert.equal(outcome.report.rejected, 0);
      assert.ok(outcome.report.records >= 6, replay.stdout);
      assert.deepEqual(
        outcome.checksums.map((c) => [c.view, c.rows]),
        [["driver_stats@1", 6]],
      );
      const after = ok(
        await runStrata(["checksum", live.env.REDIS_URL, rebuilt.url], { cwd: dir, env }),
        "strata checksum",
      );
      assert.match(after.stdout, /identical: every view has the same rows, versions and values\n$/);
    } finally {
      await rebuilt.stop();
    }
  });

  it("applies a new feature while serve and ingest run: pushed and served without a restart; an incompatible change is refused", async () => {
    const repoFile = path.join(dir, "repo.mts");
    const original = readFileSync(repoFile, "utf8");
    const added = original
      .replace('version: "1.0.0"', 'version: "1.1.0"')
      .replace('avg_daily_trips: "int64" }', 'avg_daily_trips: "int64", cancel_rate: "float64" }');
    assert.notEqual(added, original, "the scaffold's view changed shape: update this test");
    writeFileSync(repoFile, added);
    assert.match(
      ok(await runStrata(["plan"], { cwd: dir, env }), "strata plan").stdout,
      /\+ feature driver_stats@1:cancel_rate: float64\n/,
    );
    const applied = ok(await runStrata(["apply", "--json"], { cwd: dir, env }), "strata apply");
    assert.equal((JSON.parse(applied.stdout) as { version: number }).version, 2);

    const get = (args: string[]) =>
      runStrata(["get", ...args, "--entity", "driver_id=1008", "--json", "--url", url], {
        cwd: dir,
        env,
      });
    const started = Date.now();
    let got = await get(["--features", "driver_stats:cancel_rate"]);
    while (got.code !== 0 && Date.now() - started < 10_000) {
      got = await get(["--features", "driver_stats:cancel_rate"]);
    }
    ok(got, "strata get of the applied feature");
    ok(
      await runStrata(
        [
          "push",
          "driver_stats_push",
          "--row",
          '{"driver_id": 1008, "conv_rate": 0.4, "acc_rate": 0.7, "avg_daily_trips": 6, "cancel_rate": 0.05}',
          "--wait",
          "applied",
          "--url",
          url,
        ],
        { cwd: dir, env },
      ),
      "strata push of the new feature",
    );
    const answer = JSON.parse(
      ok(await get(["--features", "driver_stats:cancel_rate"]), "strata get").stdout,
    ) as { results: { values: unknown[] }[] };
    assert.deepEqual(answer.results[1]!.values, [0.05]);

    writeFileSync(repoFile, added.replace('avg_daily_trips: "int64"', 'avg_daily_trips: "string"'));
    const refused = await runStrata(["apply"], { cwd: dir, env });
    assert.equal(refused.code, 1, refused.stdout);
    assert.match(refused.stderr, /STRATA_E_BREAKING_CHANGE/);
    assert.match(refused.stderr + refused.stdout, /avg_daily_trips/);
    writeFileSync(repoFile, added);
  });

  it("prints the stack's status as JSON that parses", async () => {
    const status = ok(
      await runStrata(["stack", "status", "--json"], { cwd: dir, env }),
      "strata stack status",
    );
    const parsed = JSON.parse(status.stdout) as {
      portOffset: number;
      services: { name: string; state: string }[];
      flows: unknown[];
    };
    assert.equal(typeof parsed.portOffset, "number");
    assert.ok(
      parsed.services.some((s) => s.name === "redis" && s.state !== "stopped"),
      status.stdout,
    );
    assert.ok(Array.isArray(parsed.flows));
  });

  it("stops serve and ingest on SIGTERM, the consumer it re-ran with node's flags too", async () => {
    const exits = [serve, ingest].map(
      ({ child }) => new Promise<number | null>((resolve) => child.once("exit", resolve)),
    );
    serve.child.kill("SIGTERM");
    ingest.child.kill("SIGTERM");
    assert.deepEqual(await Promise.all(exits), [0, 0]);
    assert.match(serve.output(), /"message":"stopped"/);
    assert.match(ingest.output(), /"message":"stopped"/);
  });
});
