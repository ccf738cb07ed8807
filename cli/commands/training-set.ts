import type { Command } from "commander";
import { runTrainingSet, type TrainingSetOutcome } from "../../shared/offline/run-training-set.js";
import { examples, type CommandSpec } from "../command.js";
import { UserError } from "../errors.js";
import { printJson } from "../output.js";
import { progressLine } from "../progress.js";

interface TrainingSetOptions {
  entities: string;
  features?: string[];
  service?: string;
  out?: string;
  timestampColumn?: string;
  fullNames?: boolean;
  repo?: string;
  warehouse?: string;
  sparkSql?: string;
  json?: boolean;
}

export const trainingSetCommand: CommandSpec = {
  name: "training-set",
  register(program, context) {
    program
      .command("training-set")
      .summary("build a point-in-time correct training set from the offline store")
      .description(
        "Joins an entity file (Parquet, or CSV with a header: join keys and a timestamp per row) with each requested view's history in the offline store (its Iceberg table), as Feast's get_historical_features: " +
          "every row gets, per view, the value of the latest version at or before its timestamp in the online store's version order, or null when there is none or it is older than the view's maxAge. " +
          "Writes Parquet: the entity file's columns in its row order, then one column per feature. --spark-sql writes the same query as a Spark SQL script instead (docs/training-sets.md).",
      )
      .requiredOption("--entities <file>", "the entity file: .parquet, or .csv with a header")
      .option(
        "-f, --features <refs...>",
        "feature references, view:feature or view@major:feature (spaces or commas between)",
      )
      .option("-s, --service <name>", "a feature service instead of --features")
      .option("-o, --out <file>", "the Parquet file to write")
      .option(
        "--timestamp-column <name>",
        "the entity file's timestamp column (default event_timestamp)",
      )
      .option("--full-names", "name features view__feature (full_feature_names)")
      .option("--repo <path>", "the feature repo file (STRATA_REPO)")
      .option(
        "--warehouse <dir>",
        "the offline warehouse (STRATA_OFFLINE_WAREHOUSE; default: the local stack's)",
      )
      .option("--spark-sql <file>", "write the query as a Spark SQL script instead of running it")
      .option("--json", "print the result as JSON")
      .addHelpText(
        "after",
        examples(
          "strata training-set --entities orders.parquet --service driver_model --out train.parquet",
          "strata training-set --entities labels.csv --features driver_stats:conv_rate,driver_stats@2:trips --timestamp-column ts --out train.parquet --json",
        ),
      )
      .action(async (options: TrainingSetOptions, command: Command) => {
        const features = (options.features ?? [])
          .flatMap((f) => f.split(","))
          .map((f) => f.trim())
          .filter(Boolean);
        if ((options.service !== undefined) === features.length > 0) {
          throw new UserError(
            options.service === undefined
              ? "no features asked for"
              : "give --features or --service, not both",
            "pass --features view:feature,... or --service <name>",
          );
        }
        if ((options.out === undefined) === (options.sparkSql === undefined)) {
          throw new UserError(
            options.out === undefined ? "no output file" : "give --out or --spark-sql, not both",
            "pass --out <file.parquet> (or --spark-sql <file.sql> for the Spark script)",
          );
        }
        const env = context.env(command, {
          STRATA_REPO: options.repo && context.resolve(options.repo),
          STRATA_OFFLINE_WAREHOUSE: options.warehouse && context.resolve(options.warehouse),
        });
        const progress = progressLine(context.io.stderr, context.progress, "training set");
        const outcome = await runTrainingSet(
          {
            entities: context.resolve(options.entities),
            ...(features.length > 0 ? { features } : { service: options.service }),
            out: options.out && context.resolve(options.out),
            sparkSql: options.sparkSql && context.resolve(options.sparkSql),
            timestampColumn: options.timestampColumn,
            fullFeatureNames: options.fullNames === true,
            onProgress: (fraction, rows) => progress.update(Math.round(fraction * rows), fraction),
          },
          env,
        ).finally(() => progress.done());
        if (options.json) printJson(context.io.stdout, outcome);
        else for (const line of summary(outcome)) context.out(line);
      });
  },
};

function summary(outcome: TrainingSetOutcome): string[] {
  if (outcome.kind === "spark-sql") {
    return [
      `wrote the Spark SQL script ${outcome.script} (${outcome.views.join(", ")}; columns ${outcome.columns.join(", ")})`,
      "run it with: java -cp '<spark jars>/*' dev/spark/RunSql.java <warehouse> <script> entities=<file.parquet> out=<folder>",
    ];
  }
  return [
    `wrote ${outcome.rows.toLocaleString("en-US")} rows to ${outcome.out} in ${outcome.seconds.toFixed(1)}s`,
    `columns: ${outcome.columns.join(", ")}`,
    ...outcome.views.map((v) => `${v.view}: ${v.features.join(", ")} from ${v.source}`),
  ];
}
