import type { Command } from "commander";
import { examples, type CliContext, type CommandSpec } from "../command.js";
import { UserError } from "../errors.js";
import { parseExactJson, stringifyExactJson } from "../../shared/exact-json.js";
import { printJson } from "../output.js";
import { postJson, serverTarget } from "../server-client.js";
import { renderTable, type Cell } from "../table.js";

interface GetOptions {
  features?: string[];
  service?: string;
  entity?: string[];
  entities?: string;
  fullNames?: boolean;
  json?: boolean;
  url?: string;
  apiKey?: string;
}

/** The part of Feast's /get-online-features answer that `get` prints. */
interface OnlineFeatures {
  metadata: { feature_names: string[] };
  results: { values: unknown[]; statuses: string[]; event_timestamps: string[] }[];
}

export const getCommand: CommandSpec = {
  name: "get",
  register(program, context) {
    program
      .command("get")
      .summary("read online features for entities from a running server")
      .description(
        "Asks a running Strata server (strata serve; --url, STRATA_URL or url in strata.json, default http://127.0.0.1:6566) for online features, as Feast's /get-online-features, " +
          "and prints one row per entity: the join keys, then each feature's value (a status other than PRESENT is shown instead of, or after, the value). --json prints the server's answer as it is.",
      )
      .option(
        "-f, --features <refs...>",
        "feature references, view:feature or view@major:feature (spaces or commas between)",
      )
      .option("-s, --service <name>", "a feature service instead of --features")
      .option(
        "-e, --entity <keys...>",
        "one entity per value, its join keys as key=value[,key=value]; numeric values are sent as numbers",
      )
      .option("--entities <json>", 'the join key columns as JSON, e.g. {"driver_id": [1001, 1002]}')
      .option("--full-names", "name features view__feature (full_feature_names)")
      .option("--json", "print the server's JSON answer")
      .option("--url <url>", "the Strata server (STRATA_URL)")
      .option("--api-key <key>", "the API key, if the server needs one (STRATA_API_KEY)")
      .addHelpText(
        "after",
        examples(
          "strata get -f driver_stats:conv_rate driver_stats:acc_rate -e driver_id=1001 driver_id=1002",
          "strata get -s driver_activity --entities '{\"driver_id\": [1001]}' --json",
        ),
      )
      .action(async (options: GetOptions, command: Command) => {
        const env = context.env(command);
        const body = {
          ...featureSelection(options),
          entities: entityColumns(options),
          ...(options.fullNames ? { full_feature_names: true } : {}),
        };
        const answer = (await postJson(
          serverTarget(env, options),
          "/get-online-features",
          body,
        )) as OnlineFeatures;
        if (options.json) printJson(context.io.stdout, answer);
        else context.out(featureTable(answer, context));
      });
  },
};

function featureSelection(
  options: GetOptions,
): { features: string[] } | { feature_service: string } {
  const features = (options.features ?? [])
    .flatMap((f) => f.split(","))
    .map((f) => f.trim())
    .filter(Boolean);
  if (options.service !== undefined && features.length > 0) {
    throw new UserError(
      "give --features or --service, not both",
      "strata get --help shows both forms",
    );
  }
  if (options.service !== undefined) return { feature_service: options.service };
  if (features.length === 0) {
    throw new UserError(
      "no features asked for",
      "pass --features view:feature,... or --service <name>",
    );
  }
  return { features };
}

/** --entity key=value,... (one per entity) or --entities JSON, as Feast's entity columns. */
export function entityColumns(
  options: Pick<GetOptions, "entity" | "entities">,
): Record<string, unknown[]> {
  if (options.entities !== undefined) {
    if (options.entity !== undefined)
      throw new UserError(
        "give --entity or --entities, not both",
        "strata get --help shows both forms",
      );
    let parsed: unknown;
    try {
      parsed = parseExactJson(options.entities);
    } catch {
      parsed = undefined;
    }
    if (
      typeof parsed !== "object" ||
      parsed === null ||
      Array.isArray(parsed) ||
      !Object.values(parsed).every(Array.isArray)
    ) {
      throw new UserError(
        `--entities is not a JSON object of join key columns`,
        "e.g. --entities '{\"driver_id\": [1001, 1002]}'",
      );
    }
    return parsed as Record<string, unknown[]>;
  }
  const rows = (options.entity ?? []).map(parseEntity);
  if (rows.length === 0)
    throw new UserError(
      "no entity given",
      "pass --entity key=value (once per entity), or --entities '<JSON>'",
    );
  const keys = Object.keys(rows[0]!);
  const columns: Record<string, unknown[]> = Object.fromEntries(keys.map((k) => [k, []]));
  rows.forEach((row, i) => {
    const rowKeys = Object.keys(row);
    if (rowKeys.length !== keys.length || !rowKeys.every((k) => k in columns)) {
      throw new UserError(
        `entity ${i + 1} has join keys ${rowKeys.join(",")}, the first has ${keys.join(",")}`,
        "give every entity the same join keys",
      );
    }
    for (const k of keys) columns[k]!.push(row[k]);
  });
  return columns;
}

function parseEntity(text: string): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  for (const pair of text.split(",")) {
    const eq = pair.indexOf("=");
    if (eq <= 0)
      throw new UserError(
        `--entity "${text}" is not key=value[,key=value]`,
        "e.g. --entity driver_id=1001",
      );
    const value = pair.slice(eq + 1);
    // Integer join keys are the common case; a string that looks like a number goes by --entities.
    row[pair.slice(0, eq)] =
      /^-?\d+$/.test(value) && Number.isSafeInteger(Number(value)) ? Number(value) : value;
  }
  return row;
}

/** The answer as one row per entity; statuses other than PRESENT are shown. */
export function featureTable(answer: OnlineFeatures, context: Pick<CliContext, "paint">): string {
  const names = answer.metadata.feature_names;
  const count = answer.results[0]?.values.length ?? 0;
  const rows: Cell[][] = [];
  for (let j = 0; j < count; j++) {
    rows.push(
      answer.results.map((result) => {
        const status = result.statuses[j] ?? "PRESENT";
        const value = result.values[j];
        if (status === "PRESENT") return { text: valueText(value) };
        if (status === "NOT_FOUND" || value === null || value === undefined) {
          return { text: status, paint: (t) => context.paint("yellow", t) };
        }
        return {
          text: `${valueText(value)} (${status})`,
          paint: (t) => context.paint("yellow", t),
        };
      }),
    );
  }
  return renderTable(names, rows);
}

function valueText(value: unknown): string {
  if (value === null || value === undefined) return "null";
  return typeof value === "string" ? value : stringifyExactJson(value);
}
