import type { Command } from "commander";
import { spawn } from "node:child_process";
import { runIngest } from "../../functions/ingest/main.js";
import { INGEST_NODE_FLAGS } from "../../functions/ingest/node-flags.js";
import { processEnv } from "../process-env.js";
import { examples, type CommandSpec } from "../command.js";

interface IngestOptions {
  repo?: string;
  project?: string;
  redis?: string;
  kafka?: string;
  region?: string;
  metricsPort?: string;
}

export const ingestCommand: CommandSpec = {
  name: "ingest",
  register(program, context) {
    program
      .command("ingest")
      .summary("run the regional changelog consumer")
      .description(
        "Runs the regional consumer: applies the project's changelog (and its peers' replicated copies) to the region's Redis with the compare-and-swap, creating the topics if missing; " +
          "/metrics, /health and /ready on the metrics port. Runs until SIGTERM or Ctrl-C (the chunk in progress is applied and committed). " +
          "Every setting of docs/changelog.md is read from the environment and strata.json; the flags set the common ones. Logs are JSON lines on stdout.",
      )
      .option("--repo <path>", "load this feature repo file, unchanging (STRATA_REPO)")
      .option(
        "--project <name>",
        "follow this project's published registry (STRATA_PROJECT; strata.json's project)",
      )
      .option("--redis <url>", "the region's Redis, redis://host:port (REDIS_URL)")
      .option("--kafka <brokers>", "host:port,... of the region's Kafka (KAFKA_BROKERS)")
      .option("--region <name>", "this region's name (STRATA_REGION, default local)")
      .option("--metrics-port <port>", "where /metrics listens (STRATA_METRICS_PORT, default 9464)")
      .addHelpText("after", examples("strata ingest --repo repo.mts --kafka 127.0.0.1:19092"))
      .action(async (options: IngestOptions, command: Command) => {
        const env = processEnv(context, command, {
          STRATA_REPO: options.repo && context.resolve(options.repo),
          STRATA_PROJECT: options.project,
          REDIS_URL: options.redis,
          KAFKA_BROKERS: options.kafka,
          STRATA_REGION: options.region,
          STRATA_METRICS_PORT: options.metricsPort,
        });
        if (INGEST_NODE_FLAGS.every((flag) => process.execArgv.includes(flag))) {
          await runIngest(env);
          context.longRunning = true;
          return;
        }
        // The consumer's heap flags (node-flags.ts) must be given when node starts: run this
        // same command again in a node started with them.
        context.exitCode = await runWithNodeFlags(env);
      });
  },
};

function runWithNodeFlags(env: NodeJS.ProcessEnv): Promise<number> {
  const child = spawn(
    process.execPath,
    [...INGEST_NODE_FLAGS, ...process.execArgv, process.argv[1]!, ...process.argv.slice(2)],
    { stdio: "inherit", env },
  );
  const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
  const onTerm = forward("SIGTERM");
  const onInt = forward("SIGINT");
  process.on("SIGTERM", onTerm);
  process.on("SIGINT", onInt);
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code, signal) => {
      process.off("SIGTERM", onTerm);
      process.off("SIGINT", onInt);
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}
