import { parseRegionList } from "../../dev/stack/layout.js";
import { currentLayout } from "../../dev/stack/recorded-layout.js";
import { formatFlowLags, replicationLag } from "../../dev/stack/replication-lag.js";
import { formatStatus, stackDown, stackStatus, stackUp } from "../../dev/stack/stack.js";
import { examples, type CliContext, type CommandSpec } from "../command.js";
import { printJson } from "../output.js";

export const stackCommand: CommandSpec = {
  name: "stack",
  register(program, context) {
    const stack = program
      .command("stack")
      .summary("the local stack of real servers: up, down, status")
      .description(
        "Runs the local development stack (Redis, a Redis Cluster, Kafka, Prometheus; with --regions, one Redis and broker per region linked by MirrorMaker 2) as plain processes on 127.0.0.1. " +
          'Works in a Strata checkout (it needs dev/ and, for Kafka, Java and Maven); see the README\'s "The local stack".',
      )
      .addHelpText(
        "after",
        examples(
          "strata stack up",
          "strata stack up --regions a,b,c",
          "strata stack status --json",
          "strata stack down",
        ),
      );
    stack
      .command("up")
      .description("start what is not running (idempotent), then print the status")
      .option("--regions <names>", "region names, region 0 first, e.g. a,b,c")
      .addHelpText("after", examples("strata stack up --regions a,b,c"))
      .action(async (options: { regions?: string }) => {
        const regions =
          options.regions === undefined ? undefined : parseRegionList(options.regions);
        const report = await stackUp({ regions, log: (line) => context.out(line) });
        context.out(`stack up in ${report.seconds.toFixed(1)}s`);
        await printStatus(context, false);
      });
    stack
      .command("down")
      .description("stop what the stack started, by recorded pid")
      .addHelpText("after", examples("strata stack down"))
      .action(async () => {
        await stackDown((line) => context.out(line));
      });
    stack
      .command("status")
      .description("each service, its state and address; each replication flow's lag")
      .option("--json", "print JSON: {services: [...], flows: [...]}")
      .addHelpText("after", examples("strata stack status --json"))
      .action(async (options: { json?: boolean }) => {
        await printStatus(context, options.json === true);
      });
  },
};

async function printStatus(context: CliContext, json: boolean): Promise<void> {
  const layout = currentLayout();
  const services = stackStatus(layout);
  const multiRegion = layout.regions.length > 1 && services.some((row) => row.state === "running");
  const flows = multiRegion ? await replicationLag(layout) : [];
  if (json) {
    printJson(context.io.stdout, { portOffset: layout.portOffset, services, flows });
    return;
  }
  context.out(formatStatus(services));
  if (multiRegion) context.out(formatFlowLags(flows));
}
