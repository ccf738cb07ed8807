// The backfill CLI: `npm run backfill -- start|status|advance|verify|flip|abort|gc|run ...`.
// A thin adapter over the same core as the Lambda, Azure and Job entry points: parse, call,
// print. Exit 0 done, 1 failed (or still waiting), 2 usage or configuration error.
import { Command, CommanderError } from "commander";
import type { BackfillSource } from "../../shared/backfill/index.js";
import { isStrataError } from "../../shared/errors.js";
import { isMainModule } from "../../shared/main-module.js";
import { loadBackfillConfig } from "./config.js";
import { runCommand, withCoordinator, type BackfillCommand, type BackfillResult } from "./core.js";
import { ProgressPrinter } from "./progress.js";

interface SourceFlags {
  file?: string;
  sql?: string;
  replay?: boolean;
}

function sourceOf(flags: SourceFlags): BackfillSource {
  const given = [flags.file, flags.sql, flags.replay].filter((v) => v !== undefined).length;
  if (given !== 1)
    throw new CommanderError(2, "usage", "give exactly one of --file, --sql, --replay");
  if (flags.file) return { kind: "file", path: flags.file };
  if (flags.sql) return { kind: "sql", sql: flags.sql };
  return { kind: "replay" };
}

function print(result: BackfillResult, json: boolean): void {
  if (json) {
    console.log(JSON.stringify(result, null, 2));
    return;
  }
  const s = result.state;
  if (!s) {
    console.log("no backfill");
    return;
  }
  console.log(
    `${s.view}: ${s.stage} (id ${s.id}, epoch ${s.epoch}, generation ${s.oldGeneration} -> ${s.newGeneration})`,
  );
  console.log(`  manifest: ${s.manifest.rows} rows, checksum ${s.manifest.checksum}`);
  console.log(
    `  produced ${s.progress.produced}, replayed ${s.progress.replayed}/${s.progress.replayTotal}, loaded ${s.progress.loaded}`,
  );
  if (s.progress.verified)
    console.log(
      `  verified: ${s.progress.verified.rows} rows, checksum ${s.progress.verified.checksum}, ${s.progress.verified.missing} missing`,
    );
  if (s.error) console.log(`  error: ${s.error}`);
  if (result.waiting) console.log(`  waiting for ${result.waiting}: run the command again`);
}

export async function main(argv: string[]): Promise<number> {
  let exit = 0;
  const program = new Command("backfill")
    .description(
      "Backfill coordination: a new generation of a view major, loaded, verified and flipped in one SET (docs/backfill.md)",
    )
    .exitOverride()
    .option("--json", "print the result as JSON");
  const run = async (command: BackfillCommand) => {
    const json = program.opts<{ json?: boolean }>().json === true;
    const progress = new ProgressPrinter();
    try {
      const result = await withCoordinator(
        loadBackfillConfig(),
        command.view,
        (c) => runCommand(c, command, loadBackfillConfig().graceMs),
        (state) => progress.update(state),
      );
      progress.end();
      print(result, json);
      if (result.waiting) exit = 1;
    } catch (error) {
      progress.end();
      if (!isStrataError(error)) throw error;
      if (json) console.log(JSON.stringify({ error: error.toJSON() }, null, 2));
      else console.error(`${error.code}: ${error.message}`);
      exit = error.code === "STRATA_E_BAD_CONFIG" ? 2 : 1;
    }
  };
  const withSource = (cmd: Command) =>
    cmd
      .requiredOption("--view <view@major>", "the view major")
      .option("--file <path>", "a Parquet or CSV file of rows")
      .option("--sql <query>", "a DuckDB query over files (or the offline store's tables)")
      .option("--replay", "no rows: the changelog alone (prewarm a new major)")
      .option(
        "--grace-ms <ms>",
        "how long after the flip gc may delete the old generation",
        Number,
      );
  withSource(
    program
      .command("start")
      .description("validate the source and begin: epoch, new generation, dual writes"),
  ).action((o: SourceFlags & { view: string; graceMs?: number }) =>
    run({ action: "start", view: o.view, source: sourceOf(o), graceMs: o.graceMs }),
  );
  withSource(
    program.command("run").description("start (unless begun), load, verify and, with --flip, flip"),
  )
    .option("--flip", "flip once verified")
    .action((o: SourceFlags & { view: string; graceMs?: number; flip?: boolean }) =>
      run({
        action: "run",
        view: o.view,
        source: sourceOf(o),
        graceMs: o.graceMs,
        flip: o.flip === true,
      }),
    );
  for (const [name, description] of [
    ["status", "print the backfill's state"],
    ["advance", "load: produce the rows, replay the changelog, apply the backfill topic"],
    ["verify", "check the new generation against the manifest"],
    ["flip", "make the new generation the active one (one SET)"],
    ["abort", "delete the new generation; the active one stays untouched"],
  ] as const) {
    program
      .command(name)
      .description(description)
      .requiredOption("--view <view@major>", "the view major")
      .action((o: { view: string }) => run({ action: name, view: o.view }));
  }
  program
    .command("gc")
    .description("delete the old generation once the grace period after the flip has passed")
    .requiredOption("--view <view@major>", "the view major")
    .option("--force", "do not wait for the grace period")
    .action((o: { view: string; force?: boolean }) =>
      run({ action: "gc", view: o.view, force: o.force === true }),
    );
  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    throw error;
  }
  return exit;
}

if (isMainModule(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
