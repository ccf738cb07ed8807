import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { resolveEndpoints } from "../../dev/stack/endpoints.js";
import { examples, type CommandSpec } from "../command.js";
import { UserError } from "../errors.js";
import { printJson } from "../output.js";
import {
  configFile,
  EXAMPLE_CSV,
  EXAMPLE_JSONL,
  readmeFile,
  repoFile,
  type ScaffoldSettings,
} from "../scaffold/templates.js";

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

export const initCommand: CommandSpec = {
  name: "init",
  register(program, context) {
    program
      .command("init")
      .summary("scaffold a feature repo in a new folder")
      .description(
        "Creates <dir> (it must not exist, or be empty) with a feature repo (repo.mts: an entity, a view, a feature service, a push source), example rows to push, " +
          "strata.json pointing at the local stack (Redis and Kafka as this environment resolves them: REDIS_URL, KAFKA_BROKERS, STRATA_STACK_PORT_OFFSET), and a README with the next commands.",
      )
      .argument("<dir>", "the folder to create")
      .option(
        "--project <name>",
        "the project's name (default: the folder's name, as an identifier)",
      )
      .option("--json", "print JSON: {dir, project, files}")
      .addHelpText("after", examples("strata init driver_features && cd driver_features"))
      .action((dir: string, options: { project?: string; json?: boolean }) => {
        const target = context.resolve(dir);
        refuseNonEmpty(target);
        const project = options.project ?? projectName(path.basename(target));
        if (!IDENTIFIER.test(project)) {
          throw new UserError(
            `project name "${project}" is not an identifier (letters, digits and _, not starting with a digit)`,
            "pass --project <name>",
          );
        }
        const endpoints = resolveEndpoints(context.io.env);
        const settings: ScaffoldSettings = {
          project,
          redisUrl: endpoints.redis.address,
          kafkaBrokers: endpoints.kafka.address.join(","),
        };
        const files: Record<string, string> = {
          "strata.json": configFile(settings),
          "repo.mts": repoFile(settings),
          "data/driver_stats.jsonl": EXAMPLE_JSONL,
          "data/driver_stats.csv": EXAMPLE_CSV,
          "README.md": readmeFile(settings),
        };
        for (const [name, text] of Object.entries(files)) {
          const file = path.join(target, name);
          mkdirSync(path.dirname(file), { recursive: true });
          writeFileSync(file, text, { flag: "wx" });
        }
        if (options.json) {
          printJson(context.io.stdout, { dir: target, project, files: Object.keys(files) });
          return;
        }
        context.out(`created feature repo ${context.paint("bold", project)} in ${target}:`);
        for (const name of Object.keys(files)) context.out(`  ${name}`);
        context.out(
          `next: cd ${dir}, then read README.md (strata apply, strata serve, strata ingest, strata push, strata get)`,
        );
      });
  },
};

function refuseNonEmpty(dir: string): void {
  if (!existsSync(dir)) return;
  if (!statSync(dir).isDirectory()) {
    throw new UserError(`${dir} exists and is not a folder`, "name a new folder");
  }
  if (readdirSync(dir).length > 0) {
    throw new UserError(
      `${dir} is not empty`,
      "name a new or empty folder: init never overwrites files",
    );
  }
}

/** The folder's name as a project identifier: other characters become _, a leading digit gets a _. */
export function projectName(folder: string): string {
  const name = folder.replace(/[^A-Za-z0-9_]/g, "_").slice(0, 128);
  return /^[0-9]/.test(name) || name === "" ? `_${name}`.slice(0, 128) : name;
}
