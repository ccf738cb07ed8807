// npm run stack -- up [--regions a,b,c] | down | status
// The local stack of real servers that the tests and the demo run against.
import { parseArgs } from "node:util";
import { parseRegionList } from "./layout.js";
import { currentLayout } from "./recorded-layout.js";
import { formatFlowLags, replicationLag } from "./replication-lag.js";
import { formatStatus, stackDown, stackStatus, stackUp } from "./stack.js";
import { StackError } from "./stack-error.js";

const USAGE = "usage: npm run stack -- up [--regions a,b,c] | down | status";

async function main(argv: string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { regions: { type: "string" } },
    });
  } catch (error) {
    throw new StackError((error as Error).message, USAGE);
  }
  const [command, ...rest] = parsed.positionals;
  if (rest.length > 0) throw new StackError(`unexpected argument "${rest[0]}"`, USAGE);
  if (parsed.values.regions !== undefined && command !== "up") {
    throw new StackError(
      "--regions goes with up only (status and down read .stack/regions.json)",
      USAGE,
    );
  }
  switch (command) {
    case "up": {
      const regions =
        parsed.values.regions === undefined ? undefined : parseRegionList(parsed.values.regions);
      const report = await stackUp({ regions });
      console.log(`stack up in ${report.seconds.toFixed(1)}s`);
      await printStatus();
      return;
    }
    case "down":
      await stackDown();
      return;
    case "status":
      await printStatus();
      return;
    default:
      throw new StackError(`unknown command "${command ?? ""}"`, USAGE);
  }
}

async function printStatus(): Promise<void> {
  const layout = currentLayout();
  const rows = stackStatus(layout);
  console.log(formatStatus(rows));
  if (layout.regions.length > 1 && rows.some((row) => row.state === "running")) {
    console.log(formatFlowLags(await replicationLag(layout)));
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof StackError) {
    console.error(`strata stack: ${error.message}`);
    if (error.hint) console.error(`  → ${error.hint}`);
  } else {
    console.error("strata stack: unexpected failure", error);
  }
  process.exitCode = 1;
});
