// The files `strata init` writes: a feature repo that works against the local stack at once.

/** Where the scaffolded config points: the local stack's servers as this environment sees them. */
export interface ScaffoldSettings {
  project: string;
  redisUrl: string;
  kafkaBrokers: string;
}

export function configFile(s: ScaffoldSettings): string {
  const config = {
    $comment:
      "Settings of the strata command for this feature repo; the environment and flags override them. See docs/cli.md in Strata.",
    repo: "repo.mts",
    project: s.project,
    url: "http://127.0.0.1:6566",
    env: {
      REDIS_URL: s.redisUrl,
      KAFKA_BROKERS: s.kafkaBrokers,
      STRATA_REGION: "local",
      // Local development: listen on loopback only, without API keys.
      STRATA_HOST: "127.0.0.1",
      STRATA_METRICS_HOST: "127.0.0.1",
      STRATA_AUTH: "off",
      // The local stack has one broker per region.
      STRATA_CHANGELOG_PARTITIONS: "3",
      STRATA_CHANGELOG_REPLICATION: "1",
      STRATA_CHANGELOG_MIN_ISR: "1",
    },
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

export function repoFile(s: ScaffoldSettings): string {
  return `// The feature repo of project ${s.project}: what \`strata serve\`, \`strata ingest\`, \`strata push\`
// (for CSV files) and \`strata apply\` read. A plain object with no import, in a .mts file
// (always an ES module, whatever package.json is around it), so it loads from any folder: the
// strata command runs TypeScript with tsx. Its shape is Strata's FeatureRepoDefinition
// (docs/cli.md, "The feature repo file").
const HOUR_MS = 3_600_000;

export default {
  project: "${s.project}",
  entities: [{ name: "driver", joinKeys: { driver_id: "int64" } }],
  views: [
    {
      name: "driver_stats",
      // A new major version is an incompatible change, with storage of its own.
      version: "1.0.0",
      entities: ["driver"],
      features: { conv_rate: "float64", acc_rate: "float64", avg_daily_trips: "int64" },
      // Values older than this are served with status OUTSIDE_MAX_AGE.
      maxAgeMs: 24 * HOUR_MS,
      criticality: "standard",
      description: "Hourly driver conversion and acceptance rates.",
    },
  ],
  services: [
    {
      name: "driver_activity",
      features: [
        "driver_stats@1:conv_rate",
        "driver_stats@1:acc_rate",
        "driver_stats@1:avg_daily_trips",
      ],
    },
  ],
  pushSources: [{ name: "driver_stats_push", views: ["driver_stats@1"] }],
};
`;
}

/** The example push, without event times: strata push stamps rows that have none with now. */
export const EXAMPLE_JSONL = `{"driver_id": 1001, "conv_rate": 0.52, "acc_rate": 0.91, "avg_daily_trips": 14}
{"driver_id": 1002, "conv_rate": 0.61, "acc_rate": 0.87, "avg_daily_trips": 9}
{"driver_id": 1003, "conv_rate": 0.47, "acc_rate": 0.95, "avg_daily_trips": 21}
`;

export const EXAMPLE_CSV = `driver_id,conv_rate,acc_rate,avg_daily_trips
1004,0.58,0.9,11
1005,0.66,0.84,17
`;

export function readmeFile(s: ScaffoldSettings): string {
  return `# Feature repo: ${s.project}

Made by \`strata init\`. Files:

| file                      | what                                                                       |
| ------------------------- | -------------------------------------------------------------------------- |
| \`repo.mts\`                 | the feature repo: entity \`driver\`, view \`driver_stats\`, feature service \`driver_activity\`, push source \`driver_stats_push\` |
| \`strata.json\`             | the strata command's settings: this repo file, the project, the server URL, Redis and Kafka of the local stack |
| \`data/driver_stats.jsonl\` | example rows to push (JSON lines); \`data/driver_stats.csv\`: the same as CSV |

## Next

Run these in this folder (each long-running command in its own terminal):

\`\`\`sh
strata stack status          # Redis (${s.redisUrl}) and Kafka (${s.kafkaBrokers}) must run;
                             # in a Strata checkout, strata stack up starts them
strata plan                  # what apply would publish
strata apply                 # publishes repo.mts as project ${s.project}'s registry
strata serve                 # the feature server on http://127.0.0.1:6566
strata ingest                # the consumer that applies pushed rows to Redis
strata push driver_stats_push --file data/driver_stats.jsonl --wait applied
strata get --service driver_activity --entity driver_id=1001 driver_id=1002
\`\`\`

\`strata push\` stamps rows without an \`event_timestamp\` with the current time. \`strata get\`
prints a table; add \`--json\` for the server's JSON answer. To change the features, edit
\`repo.mts\`, run \`strata plan\` to see the change (and whether it is incompatible), then
\`strata apply\`: the running \`serve\` and \`ingest\` follow the published registry without a restart.

\`strata <command> --help\` explains each command with an example.
`;
}
