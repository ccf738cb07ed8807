import assert from "node:assert/strict";
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import type { Command } from "commander";
import { CliContext } from "../../../cli/command.js";
import { COMMANDS } from "../../../cli/commands/index.js";
import { allCommands, commandPath, createProgram } from "../../../cli/program.js";
import { repoRoot } from "../../../dev/stack/paths.js";
import { runInProcess, runStrata, runStrataAt } from "../../support/cli.js";

/** Every command path the program registers: "init", ..., "stack up", "stack status". */
function registeredPaths(): string[] {
  const context = new CliContext({
    stdout: process.stdout,
    stderr: process.stderr,
    env: {},
    cwd: "/",
  });
  return allCommands(createProgram(context)).map((c) => commandPath(c).replace(/^strata /, ""));
}

// eslint-disable-next-line no-control-regex -- ANSI escape codes are what the test looks for
const ANSI = /\x1b\[/;

describe("strata: the command table", () => {
  it("registers each command of COMMANDS once, with the subcommands the issue names", () => {
    const paths = registeredPaths();
    for (const name of [
      "init",
      "plan",
      "apply",
      "serve",
      "ingest",
      "push",
      "get",
      "replay",
      "checksum",
      "stack",
      "version",
    ]) {
      assert.ok(paths.includes(name), `${name} is registered`);
    }
    for (const name of ["stack up", "stack down", "stack status"]) assert.ok(paths.includes(name));
    assert.equal(new Set(COMMANDS.map((c) => c.name)).size, COMMANDS.length);
    assert.deepEqual(
      COMMANDS.map((c) => c.name),
      createProgram(
        new CliContext({ stdout: process.stdout, stderr: process.stderr, env: {}, cwd: "/" }),
      ).commands.map((c: Command) => c.name()),
    );
  });

  it("prints --help with an example for every registered command, exit 0", async () => {
    for (const commandPath of registeredPaths()) {
      const run = await runInProcess([...commandPath.split(" "), "--help"]);
      assert.equal(run.code, 0, `strata ${commandPath} --help exits 0: ${run.stderr}`);
      assert.match(run.stdout, new RegExp(`^Usage: strata ${commandPath}`), commandPath);
      assert.match(
        run.stdout,
        /Examples?:\n {2}\$ strata /,
        `strata ${commandPath} --help shows an example`,
      );
    }
  });

  it("registers plan and apply with --allow-breaking, --json and --repo", async () => {
    for (const name of ["plan", "apply"]) {
      const run = await runInProcess([name, "--help"]);
      for (const flag of ["--allow-breaking", "--json", "--repo <path>"])
        assert.ok(run.stdout.includes(flag), `${name} ${flag}`);
    }
  });
});

describe("strata: exit codes and error lines", () => {
  it("exits 1 on an unknown option, with commander's line and a hint naming the command's help", async () => {
    const run = await runInProcess(["get", "--bogus"]);
    assert.equal(run.code, 1);
    assert.deepEqual(run.stderr.trim().split("\n"), [
      "error: unknown option '--bogus'",
      "(run strata get --help for usage)",
    ]);
    assert.equal(run.stdout, "");
  });

  it("exits 1 on a missing argument and on an unknown command", async () => {
    assert.equal((await runInProcess(["push"])).code, 1);
    const unknown = await runInProcess(["frobnicate"]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /unknown command 'frobnicate'/);
  });

  it("exits 1 on a user error: one line, then a hint line", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "strata-cli-"));
    writeFileSync(path.join(dir, "keep.txt"), "x");
    const run = await runInProcess(["init", dir]);
    assert.equal(run.code, 1);
    const lines = run.stderr.trimEnd().split("\n");
    assert.equal(lines.length, 2, run.stderr);
    assert.equal(lines[0], `strata: ${dir} is not empty`);
    assert.match(lines[1]!, /^ {2}→ name a new or empty folder/);
    assert.deepEqual(readdirSync(dir), ["keep.txt"], "nothing was written");
  });

  it("exits 1 with the StrataError's code and a hint naming the variable for missing configuration", async () => {
    const run = await runInProcess(["checksum", "redis://127.0.0.1:1"], { cwd: os.tmpdir() });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^strata: STRATA_E_BAD_CONFIG: STRATA_REPO is undefined/);
    assert.match(
      run.stderr,
      /→ set STRATA_REPO \(a flag, the environment, or "env" in strata.json/,
    );
  });

  it("plan and apply need Kafka, and say so as a user error before reading anything", async () => {
    for (const name of ["plan", "apply"]) {
      const run = await runInProcess([name, "--repo", "examples/feature-repo.ts"], { env: {} });
      assert.equal(run.code, 1, name);
      assert.match(run.stderr, /^strata: STRATA_E_BAD_CONFIG: KAFKA_BROKERS is undefined/);
    }
  });

  it("rejects bad push flags before calling anything", async () => {
    const both = await runInProcess(["push", "src", "--row", "{}", "--file", "x.jsonl"]);
    assert.equal(both.code, 1);
    assert.match(both.stderr, /give --row or --file \(one of them\)/);
    const batch = await runInProcess(["push", "src", "--row", "{}", "--batch", "0"]);
    assert.match(batch.stderr, /--batch 0 is not a positive whole number/);
    const wait = await runInProcess(["push", "src", "--row", "{}", "--wait", "soon"]);
    assert.match(wait.stderr, /--wait soon is not one of enqueued, acked, applied/);
    const row = await runInProcess(["push", "src", "--row", "[1]"]);
    assert.match(row.stderr, /--row 1 is not a JSON object/);
  });

  it("reports a server that does not answer as a user error naming the URL", async () => {
    const run = await runInProcess([
      "get",
      "-f",
      "v:f",
      "-e",
      "k=1",
      "--url",
      "http://127.0.0.1:9",
    ]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /no Strata server answered at http:\/\/127\.0\.0\.1:9/);
    assert.match(run.stderr, /→ start one with strata serve/);
  });
});

describe("strata: output on a terminal and off it", () => {
  it("colours on a terminal only, and never with NO_COLOR", async () => {
    const scaffold = (env: NodeJS.ProcessEnv, tty: boolean) =>
      runInProcess(
        ["init", path.join(mkdtempSync(path.join(os.tmpdir(), "strata-cli-")), "repo")],
        { env, tty },
      );
    assert.match((await scaffold({}, true)).stdout, ANSI);
    assert.doesNotMatch((await scaffold({}, false)).stdout, ANSI);
    assert.doesNotMatch((await scaffold({ NO_COLOR: "1" }, true)).stdout, ANSI);
    assert.doesNotMatch((await scaffold({ TERM: "dumb" }, true)).stdout, ANSI);
  });

  it("prints version as text, and as JSON for scripts", async () => {
    const pkg = JSON.parse(readFileSync("package.json", "utf8")) as { version: string };
    const text = await runInProcess(["version"]);
    assert.equal(text.stdout, `strata ${pkg.version} (node ${process.version})\n`);
    const json = await runInProcess(["version", "--json"]);
    assert.deepEqual(JSON.parse(json.stdout), {
      name: "strata",
      version: pkg.version,
      node: process.version,
    });
  });
});

describe("strata: bin/strata.js as a user runs it", () => {
  it("runs the build output where there are no sources (the serving image's layout)", async (t) => {
    // CI builds dist/ before the tests (.ci/run); a checkout that never built skips this.
    if (!existsSync(path.join(repoRoot, "dist", "cli", "main.js"))) {
      return t.skip("no dist/cli/main.js: run npm run build");
    }
    const image = mkdtempSync(path.join(os.tmpdir(), "strata-image-"));
    cpSync(path.join(repoRoot, "bin"), path.join(image, "bin"), { recursive: true });
    cpSync(path.join(repoRoot, "dist"), path.join(image, "dist"), { recursive: true });
    cpSync(path.join(repoRoot, "package.json"), path.join(image, "package.json"));
    symlinkSync(path.join(repoRoot, "node_modules"), path.join(image, "node_modules"));
    const run = await runStrataAt(path.join(image, "bin", "strata.js"), ["version", "--json"]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal((JSON.parse(run.stdout) as { name: string }).name, "strata");
    const help = await runStrataAt(path.join(image, "bin", "strata.js"), ["push", "--help"]);
    assert.match(help.stdout, /^Usage: strata push /);
  });

  it("runs from any folder, prints help (exit 0) and fails with exit 1 on a user error", async () => {
    const elsewhere = mkdtempSync(path.join(os.tmpdir(), "strata-bin-"));
    const help = await runStrata(["--help"], { cwd: elsewhere });
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^Usage: strata /);
    const version = await runStrata(["version", "--json"], { cwd: elsewhere });
    assert.equal(version.code, 0, version.stderr);
    assert.equal((JSON.parse(version.stdout) as { name: string }).name, "strata");
    const bad = await runStrata(["init", elsewhere], {
      cwd: elsewhere,
      env: { ...process.env, NO_COLOR: "1" },
    });
    assert.equal(bad.code, 0, bad.stderr);
    const again = await runStrata(["init", elsewhere], { cwd: elsewhere });
    assert.equal(again.code, 1);
    assert.match(again.stderr, /is not empty\n {2}→ /);
  });
});
