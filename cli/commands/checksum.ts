import type { Command } from "commander";
import { checksumSummary, runChecksum } from "../../functions/ingest/checksum.js";
import { examples, type CommandSpec } from "../command.js";
import { printJson } from "../output.js";

export const checksumCommand: CommandSpec = {
  name: "checksum",
  register(program, context) {
    program
      .command("checksum")
      .summary("checksum a region's online state, or compare two regions")
      .description(
        "Prints a checksum of every view's rows, versions and values in the given Redis; with two targets, compares them view by view and exits 1 when any view differs. " +
          "A target is redis://host:port or cluster://host:port,host:port.",
      )
      .argument("<target>", "redis://host:port or cluster://host:port,...")
      .argument("[other]", "a second target to compare with")
      .option("--repo <path>", "the feature repo file (STRATA_REPO)")
      .option("--json", "print JSON: {targets: [{target, views}], differences}")
      .addHelpText(
        "after",
        examples("strata checksum redis://127.0.0.1:16379 redis://127.0.0.1:16380"),
      )
      .action(
        async (
          target: string,
          other: string | undefined,
          options: { repo?: string; json?: boolean },
          command: Command,
        ) => {
          const env = context.env(command, {
            STRATA_REPO: options.repo && context.resolve(options.repo),
          });
          const outcome = await runChecksum(other === undefined ? [target] : [target, other], env);
          if (options.json) printJson(context.io.stdout, outcome);
          else for (const line of checksumSummary(outcome)) context.out(line);
          if ((outcome.differences?.length ?? 0) > 0) context.exitCode = 1;
        },
      );
  },
};
