import type { Command } from "commander";
import { EnvReader } from "../../shared/config/env.js";
import { loadRegistry } from "../../shared/registry/index.js";
import { examples, type CliContext, type CommandSpec } from "../command.js";
import { UserError } from "../errors.js";
import { printJson } from "../output.js";
import { progressLine } from "../progress.js";
import {
  columnTypes,
  fileFormat,
  parseRow,
  readRows,
  toColumns,
  type PushRow,
} from "../push-input.js";
import { postJson, serverTarget, type ServerTarget } from "../server-client.js";

interface PushOptions {
  row?: string[];
  file?: string;
  format?: string;
  wait: string;
  batch: string;
  timestampField?: string;
  repo?: string;
  json?: boolean;
  url?: string;
  apiKey?: string;
}

/** What /push answers for one request (docs/serving.md). */
interface PushAnswer {
  rows: number;
  views: string[];
  reached: string;
  applied?: { applied: number; stale: number; concurrent: number };
}

/** What `push` reports for all its requests together. */
export interface PushSummary {
  status: "ok";
  push_source_name: string;
  rows: number;
  requests: number;
  views: string[];
  reached: string;
  /**
   * With wait "applied": of the rows the server applied itself, how many it wrote and how many
   * were stale (the consumer, or a newer version, got there first): the split is a race, the
   * sum is every row.
   */
  applied?: { applied: number; stale: number; concurrent: number };
}

const WAITS = ["enqueued", "acked", "applied"];

export const pushCommand: CommandSpec = {
  name: "push",
  register(program, context) {
    program
      .command("push")
      .summary("push rows to a push source or view, through a running server")
      .description(
        "Sends rows to a running Strata server's POST /push (Feast's push; strata serve with KAFKA_BROKERS set), which writes them through the changelog; the consumer (strata ingest) applies them to Redis. " +
          "Rows come from --row (JSON objects) or --file (JSON lines, or CSV with a header row; a CSV file's cells are typed from the feature repo, STRATA_REPO). " +
          "A row without its event time column gets the current time. Files go in requests of --batch rows; a failed request stops the push, and the rows before it stay written.",
      )
      .argument("<source>", "a push source of the feature repo, or a view (view or view@major)")
      .option(
        "-r, --row <json...>",
        'one row per value, a JSON object, e.g. \'{"driver_id": 1001, "conv_rate": 0.5}\'',
      )
      .option("--file <path>", "a JSON lines (.jsonl) or CSV (.csv) file of rows")
      .option("--format <format>", "the file's format, jsonl or csv (default: from its extension)")
      .option(
        "--wait <level>",
        "what each request waits for: enqueued, acked (in Kafka) or applied (in this region's Redis)",
        "acked",
      )
      .option(
        "--batch <rows>",
        "rows per request (the server takes at most STRATA_MAX_ENTITIES, 1,000 by default)",
        "500",
      )
      .option(
        "--timestamp-field <name>",
        "the event time column (default: the push source's, else event_timestamp)",
      )
      .option("--repo <path>", "the feature repo file, for typing CSV cells (STRATA_REPO)")
      .option("--json", "print the result as JSON")
      .option("--url <url>", "the Strata server (STRATA_URL)")
      .option(
        "--api-key <key>",
        "an API key allowed to push, if the server needs one (STRATA_API_KEY)",
      )
      .addHelpText(
        "after",
        examples(
          `strata push driver_stats_push --row '{"driver_id": 1001, "conv_rate": 0.5, "acc_rate": 0.9, "avg_daily_trips": 12}' --wait applied`,
          "strata push driver_stats_push --file data/driver_stats.csv",
        ),
      )
      .action(async (source: string, options: PushOptions, command: Command) => {
        const env = context.env(command, {
          STRATA_REPO: options.repo && context.resolve(options.repo),
        });
        const batch = Number(options.batch);
        if (!Number.isInteger(batch) || batch < 1)
          throw new UserError(
            `--batch ${options.batch} is not a positive whole number`,
            "e.g. --batch 500",
          );
        if (!WAITS.includes(options.wait))
          throw new UserError(
            `--wait ${options.wait} is not one of ${WAITS.join(", ")}`,
            "e.g. --wait applied",
          );
        if ((options.row === undefined) === (options.file === undefined)) {
          throw new UserError(
            "give --row or --file (one of them)",
            "strata push --help shows both",
          );
        }
        const target = serverTarget(env, options);
        const summary =
          options.file !== undefined
            ? await pushFile(context, target, source, options, env, batch)
            : await pushRequests(target, source, options, [
                (options.row ?? []).map((text, i) => ({
                  row: parseRow(text, `--row ${i + 1}`),
                  line: i + 1,
                })),
              ]);
        if (options.json) printJson(context.io.stdout, summary);
        else context.out(summaryLine(summary, context));
      });
  },
};

async function pushFile(
  context: CliContext,
  target: ServerTarget,
  source: string,
  options: PushOptions,
  env: NodeJS.ProcessEnv,
  batch: number,
): Promise<PushSummary> {
  const file = context.resolve(options.file!);
  const format = fileFormat(file, options.format);
  let timestampField = options.timestampField;
  let types;
  if (format === "csv") {
    // CSV has no types: the push target's columns, from the repo, say how to read each cell.
    const repo = new EnvReader(env).get("STRATA_REPO");
    if (repo === undefined) {
      throw new UserError(
        "a CSV push needs the feature repo, to type its cells",
        "pass --repo <file>, set STRATA_REPO, or run in a folder with strata.json",
      );
    }
    const pushTarget = (await loadRegistry(repo)).pushTarget(source);
    types = columnTypes(pushTarget);
    timestampField ??= pushTarget.timestampField;
  }
  const input = readRows(file, format, types);
  const progress = progressLine(context.io.stderr, context.progress, `pushing ${options.file}`);
  let pushed = 0;
  const batches = async function* () {
    let current: { row: PushRow; line: number }[] = [];
    for await (const item of input.rows) {
      current.push(item);
      if (current.length >= batch) {
        yield current;
        current = [];
      }
    }
    if (current.length > 0) yield current;
  };
  try {
    return await pushRequests(target, source, { ...options, timestampField }, batches(), (rows) => {
      pushed += rows;
      progress.update(pushed, input.fraction());
    });
  } catch (error) {
    progress.done();
    if (pushed > 0)
      context.err(
        `${pushed} rows of ${options.file} were pushed before the failing request; the failing one and those after it were not`,
      );
    throw error;
  } finally {
    progress.done();
  }
}

/** One /push request per batch of rows, in order; the answers summed up. */
async function pushRequests(
  target: ServerTarget,
  source: string,
  options: Pick<PushOptions, "wait" | "timestampField">,
  batches:
    Iterable<{ row: PushRow; line: number }[]> | AsyncIterable<{ row: PushRow; line: number }[]>,
  onPushed: (rows: number) => void = () => undefined,
): Promise<PushSummary> {
  const field = options.timestampField ?? "event_timestamp";
  const summary: PushSummary = {
    status: "ok",
    push_source_name: source,
    rows: 0,
    requests: 0,
    views: [],
    reached: options.wait,
  };
  for await (const rows of batches) {
    if (rows.length === 0) continue;
    const now = new Date().toISOString();
    for (const { row } of rows) if (!(field in row)) row[field] = now;
    const answer = (await postJson(target, "/push", {
      push_source_name: source,
      df: toColumns(rows, source),
      to: "online",
      wait: options.wait,
    })) as PushAnswer;
    summary.rows += answer.rows;
    summary.requests += 1;
    summary.views = answer.views;
    summary.reached = answer.reached;
    if (answer.applied) {
      const sum = (summary.applied ??= { applied: 0, stale: 0, concurrent: 0 });
      sum.applied += answer.applied.applied;
      sum.stale += answer.applied.stale;
      sum.concurrent += answer.applied.concurrent;
    }
    onPushed(answer.rows);
  }
  if (summary.requests === 0) throw new UserError("no rows to push", "the file is empty");
  return summary;
}

function summaryLine(summary: PushSummary, context: CliContext): string {
  const rows = `${summary.rows} row${summary.rows === 1 ? "" : "s"}`;
  return `${context.paint("green", "pushed")} ${rows} to ${summary.views.join(", ")} in ${summary.requests} request${summary.requests === 1 ? "" : "s"}: ${summary.reached}`;
}
