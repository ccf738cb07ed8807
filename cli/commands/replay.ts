import type { Command } from "commander";
import { parseReplayFrom, replaySummary, runReplay } from "../../functions/ingest/replay.js";
import { examples, type CommandSpec } from "../command.js";
import { printJson } from "../output.js";
import { progressLine } from "../progress.js";

interface ReplayOptions {
  repo?: string;
  redis?: string;
  kafka?: string;
  from?: string;
  allowNonEmpty?: boolean;
  json?: boolean;
}

export const replayCommand: CommandSpec = {
  name: "replay",
  register(program, context) {
    program
      .command("replay")
      .summary("rebuild a region's Redis from the changelog")
      .description(
        "Reads the project's compacted changelog (and its peers' copies, STRATA_PEER_REGIONS) from the beginning, or from --from, and applies every record with the same compare-and-swap as the consumer; " +
          "then prints each view's checksum, to compare with the live region (strata checksum). Refuses a Redis that already holds the project's keys unless --allow-non-empty.",
      )
      .option("--repo <path>", "the feature repo file (STRATA_REPO)")
      .option("--redis <url>", "the Redis to rebuild, redis://host:port (REDIS_URL)")
      .option("--kafka <brokers>", "host:port,... (KAFKA_BROKERS)")
      .option("--from <time>", "replay from this time: ISO 8601 or epoch milliseconds")
      .option("--allow-non-empty", "replay into a Redis that holds keys of the project")
      .option("--json", "print the report as JSON")
      .addHelpText(
        "after",
        examples("strata replay --redis redis://127.0.0.1:6380 --from 2026-12-01T00:00:00Z"),
      )
      .action(async (options: ReplayOptions, command: Command) => {
        const env = context.env(command, {
          STRATA_REPO: options.repo && context.resolve(options.repo),
          REDIS_URL: options.redis,
          KAFKA_BROKERS: options.kafka,
        });
        const progress = progressLine(context.io.stderr, context.progress, "replaying");
        const outcome = await runReplay(
          {
            fromTimestampMs: options.from === undefined ? undefined : parseReplayFrom(options.from),
            allowNonEmpty: options.allowNonEmpty,
            onProgress: (p) =>
              progress.update(p.records, p.total > 0 ? p.records / p.total : undefined),
            log: (line) => context.err(line),
          },
          env,
        );
        progress.done();
        if (options.json) printJson(context.io.stdout, outcome);
        else for (const line of replaySummary(outcome)) context.out(line);
      });
  },
};
