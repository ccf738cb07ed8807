// npm run demo: brings the local stack up and shows what Strata runs on.
// It grows with the product: each capability that lands adds its step here.
import { formatStatus, stackStatus, stackUp } from "../dev/stack/stack.js";
import { StackError } from "../dev/stack/stack-error.js";

async function main(): Promise<void> {
  console.log(
    "Strata demo: bringing up the local stack (Redis, a 3-master Redis Cluster, Kafka) ...",
  );
  const report = await stackUp();
  console.log(`\nstack ready in ${report.seconds.toFixed(1)}s:\n${formatStatus(stackStatus())}`);
  console.log("\nStop it with: npm run stack -- down");
}

main().catch((error: unknown) => {
  if (error instanceof StackError) {
    console.error(`strata demo: ${error.message}${error.hint ? `\n  → ${error.hint}` : ""}`);
  } else {
    console.error("strata demo: unexpected failure", error);
  }
  process.exitCode = 1;
});
