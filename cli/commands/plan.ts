import type { Command } from "commander";
import { EnvReader } from "../../shared/config/env.js";
import { examples, type CliContext, type CommandSpec } from "../command.js";
import { printJson } from "../output.js";
import { planOutput } from "../plan-output.js";
import { planRepo, type RegistryCommandOptions } from "../registry-commands.js";

export interface RegistryFlags {
  repo?: string;
  json?: boolean;
  allowBreaking?: boolean;
}

export const planCommand: CommandSpec = {
  name: "plan",
  register(program, context) {
    program
      .command("plan")
      .summary("show what apply would change in the published registry")
      .description(
        "Validates the feature repo file and compares it with the registry published for its project (the Kafka topic strata.<project>.registry): " +
          "views, majors and features added, changed or removed, feature services changed, and which changes are incompatible. Publishes nothing.",
      )
      .option("--repo <path>", "the feature repo file (STRATA_REPO)")
      .option(
        "--allow-breaking",
        "plan as apply --allow-breaking would (incompatible changes still listed)",
      )
      .option("--json", "print the plan as JSON")
      .addHelpText("after", examples("strata plan --repo repo.mts", "strata plan --json"))
      .action(async (options: RegistryFlags, command: Command) => {
        const plan = await planRepo(registryOptions(context, command, options));
        if (options.json) printJson(context.io.stdout, plan);
        else for (const line of planOutput(plan, context.paint)) context.out(line);
      });
  },
};

/** The repo file and Kafka access plan and apply work with. */
export function registryOptions(
  context: CliContext,
  command: Parameters<CliContext["env"]>[0],
  options: RegistryFlags,
): RegistryCommandOptions {
  const env = context.env(command, { STRATA_REPO: options.repo && context.resolve(options.repo) });
  return {
    repoPath: new EnvReader(env).required("STRATA_REPO", "the feature repo file (--repo)"),
    env,
    allowBreaking: options.allowBreaking === true,
  };
}
