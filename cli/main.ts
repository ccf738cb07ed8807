// The `strata` command (bin/strata.js runs this file under tsx, or its build output).
import { processIo } from "./output.js";
import { runCli } from "./program.js";

const { code, context } = await runCli(process.argv.slice(2), processIo());
if (context.longRunning && code === 0) {
  // serve and ingest: the servers keep the process alive and exit on SIGTERM or SIGINT.
} else {
  // Kafka and Redis clients may hold sockets open for a moment; the command is done.
  process.exit(code);
}
