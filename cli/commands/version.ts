import { examples, type CommandSpec } from "../command.js";
import { printJson } from "../output.js";
import { packageInfo } from "../package-info.js";

export const versionCommand: CommandSpec = {
  name: "version",
  register(program, context) {
    program
      .command("version")
      .summary("print Strata's version")
      .description("Prints the version of Strata and of the Node.js that runs it.")
      .option("--json", "print JSON: {name, version, node}")
      .addHelpText("after", examples("strata version --json"))
      .action((options: { json?: boolean }) => {
        const info = packageInfo();
        if (options.json) {
          printJson(context.io.stdout, {
            name: info.name,
            version: info.version,
            node: process.version,
          });
        } else {
          context.out(`${info.name} ${info.version} (node ${process.version})`);
        }
      });
  },
};
