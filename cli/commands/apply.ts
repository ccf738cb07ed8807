import type { Command } from "commander";
import { examples, type CommandSpec } from "../command.js";
import { printJson } from "../output.js";
import { planOutput } from "../plan-output.js";
import { applyRepo } from "../registry-commands.js";
import { registryOptions, type RegistryFlags } from "./plan.js";

export const applyCommand: CommandSpec = {
  name: "apply",
  register(program, context) {
    program
      .command("apply")
      .summary("publish the feature repo as the project's registry")
      .description(
        "Plans (as strata plan), then publishes the registry, versioned and with its content hash, to the compacted Kafka topic strata.<project>.registry, creating the project's topics if missing; " +
          "running servers and consumers follow it without a restart. Incompatible changes are refused, each named, unless --allow-breaking.",
      )
      .option("--repo <path>", "the feature repo file (STRATA_REPO)")
      .option("--allow-breaking", "publish even with incompatible changes")
      .option("--json", "print the plan and what was published as JSON")
      .addHelpText(
        "after",
        examples("strata apply --repo repo.mts", "strata apply --allow-breaking --json"),
      )
      .action(async (options: RegistryFlags, command: Command) => {
        const applied = await applyRepo(registryOptions(context, command, options));
        if (options.json) {
          printJson(context.io.stdout, applied);
          return;
        }
        for (const line of planOutput(applied.plan, context.paint)) context.out(line);
        context.out(
          applied.published
            ? `published version ${applied.version} (${applied.hash.slice(0, 12)}) to ${applied.topic}`
            : `nothing to publish: version ${applied.version} is this definition`,
        );
        for (const warning of applied.warnings) context.err(`warning: ${warning}`);
      });
  },
};
