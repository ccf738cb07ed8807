import type { Command } from "commander";
import { runServe } from "../../functions/serve/main.js";
import { processEnv } from "../process-env.js";
import { examples, type CommandSpec } from "../command.js";

interface ServeOptions {
  repo?: string;
  project?: string;
  host?: string;
  port?: string;
  adminPort?: string;
  redis?: string;
  kafka?: string;
  region?: string;
}

export const serveCommand: CommandSpec = {
  name: "serve",
  register(program, context) {
    program
      .command("serve")
      .summary("run the feature server (Feast's HTTP API)")
      .description(
        "Runs the serving tier: POST /get-online-features and POST /push on the feature port, /health, /ready and /metrics on the admin port, until SIGTERM or Ctrl-C (in-flight requests finish). " +
          "Every setting of docs/serving.md is read from the environment and strata.json; the flags set the common ones. Logs are JSON lines on stdout.",
      )
      .option("--repo <path>", "load this feature repo file, unchanging (STRATA_REPO)")
      .option(
        "--project <name>",
        "follow this project's published registry (STRATA_PROJECT; strata.json's project)",
      )
      .option("--host <host>", "the address to listen on (STRATA_HOST, default 0.0.0.0)")
      .option("--port <port>", "the feature port (STRATA_PORT, default 6566)")
      .option("--admin-port <port>", "the admin port (STRATA_ADMIN_PORT, default 9465)")
      .option("--redis <url>", "the region's Redis, redis://host:port (REDIS_URL)")
      .option("--kafka <brokers>", "host:port,... of the changelog; enables /push (KAFKA_BROKERS)")
      .option("--region <name>", "this region's name (STRATA_REGION, default local)")
      .addHelpText(
        "after",
        examples(
          "strata serve --repo repo.mts --port 6566",
          "STRATA_AUTH=off strata serve --redis redis://127.0.0.1:16379",
        ),
      )
      .action(async (options: ServeOptions, command: Command) => {
        const env = processEnv(context, command, {
          STRATA_REPO: options.repo && context.resolve(options.repo),
          STRATA_PROJECT: options.project,
          STRATA_HOST: options.host,
          STRATA_PORT: options.port,
          STRATA_ADMIN_PORT: options.adminPort,
          REDIS_URL: options.redis,
          KAFKA_BROKERS: options.kafka,
          STRATA_REGION: options.region,
        });
        await runServe(env);
        context.longRunning = true;
      });
  },
};
