// npm run stack -- up|down|status
// The local stack of real servers that the tests and the demo run against.
import { formatStatus, stackDown, stackStatus, stackUp } from "./stack.js";
import { StackError } from "./stack-error.js";

const USAGE = "usage: npm run stack -- up|down|status";

async function main(command: string | undefined): Promise<void> {
  switch (command) {
    case "up": {
      const report = await stackUp();
      console.log(`stack up in ${report.seconds.toFixed(1)}s\n${formatStatus(stackStatus())}`);
      return;
    }
    case "down":
      await stackDown();
      return;
    case "status": {
      const rows = stackStatus();
      console.log(formatStatus(rows));
      return;
    }
    default:
      throw new StackError(`unknown command "${command ?? ""}"`, USAGE);
  }
}

main(process.argv[2]).catch((error: unknown) => {
  if (error instanceof StackError) {
    console.error(`strata stack: ${error.message}`);
    if (error.hint) console.error(`  → ${error.hint}`);
  } else {
    console.error("strata stack: unexpected failure", error);
  }
  process.exitCode = 1;
});
