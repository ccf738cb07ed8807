// Reconciliation between regions (anti-entropy): `npm run reconcile -- --help`, or
// `node dist/functions/reconcile/main.js` as a container / Kubernetes CronJob. Compares regions
// by digests over hash-slot ranges and re-publishes divergent keys' stored winners into the
// changelog. Exit 0 converged or repaired, 1 divergence left unrepaired, 2 usage error.
// See docs/changelog.md, "Reconciliation".
import { parseArgs } from "node:util";
import { isStrataError } from "../../shared/errors.js";
import type { ReconcileProgress, ReconcileReport } from "../../shared/reconcile/index.js";
import { loadReconcileConfig } from "./config.js";
import { exitCodeOf, runReconcileJob } from "./job.js";

const HELP = `usage: npm run reconcile -- [options]

Compares the online state of two or more regions view by view, by digests over hash-slot
ranges, and re-publishes the stored winner (highest version) of every divergent key into the
changelog, so each region's consumer applies it with the same CAS. Never writes one Redis
from another.

options:
  --region <name>=<target>  a region and its Redis: redis://host:port, rediss://..., or
                            cluster://host:port,host:port (twice or more; the first is the
                            reference; default: STRATA_RECONCILE_REGIONS)
  --view <view@major>       compare only this view major (repeatable; default: every view)
  --check-changelog         also re-publish winners whose last changelog record is older
                            (the compaction gap); reads the whole changelog
  --verify <ms>             wait up to <ms> for every region to apply the re-published
                            winners; exit 1 if one did not
  --dry-run                 report divergence, re-publish nothing (exit 1 if any)
  --json                    print the report as JSON on stdout
  --progress                progress on stderr even when it is not a terminal
  -h, --help                this text

environment: STRATA_REPO, or STRATA_PROJECT to read the project's published registry (one is
required), KAFKA_BROKERS and KAFKA_* (the changelog to re-publish into and the registry: the
local region's), STRATA_REGION; for every region's Redis: REDIS_USERNAME /
REDIS_PASSWORD, REDIS_TLS=on (cluster:// targets included) and REDIS_TLS_CA_FILE.

exit status: 0 converged or repaired, 1 divergence it could not repair, 2 usage error.`;

async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv.filter((a) => a !== "--"),
      options: {
        region: { type: "string", multiple: true },
        view: { type: "string", multiple: true },
        "check-changelog": { type: "boolean", default: false },
        verify: { type: "string" },
        "dry-run": { type: "boolean", default: false },
        json: { type: "boolean", default: false },
        progress: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    }));
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (values.region) env.STRATA_RECONCILE_REGIONS = values.region.join(";");
  if (values.view) env.STRATA_RECONCILE_VIEWS = values.view.join(",");
  if (values["check-changelog"]) env.STRATA_RECONCILE_CHECK_CHANGELOG = "on";
  if (values["dry-run"]) env.STRATA_RECONCILE_DRY_RUN = "on";
  if (values.verify !== undefined) env.STRATA_RECONCILE_VERIFY_MS = values.verify;
  let config;
  try {
    config = loadReconcileConfig(env);
  } catch (error) {
    console.error(isStrataError(error) ? `${error.code}: ${error.message}` : error);
    return 2;
  }
  const showProgress = values.progress || process.stderr.isTTY === true;
  let lastProgress = 0;
  const report = await runReconcileJob(config, {
    log: (level, message) => console.error(`${level}: ${message}`),
    onProgress: showProgress
      ? (p) => {
          if (Date.now() - lastProgress < 1_000) return;
          lastProgress = Date.now();
          process.stderr.write(`${describeProgress(p)}\n`);
        }
      : undefined,
  });
  if (values.json) console.log(JSON.stringify(report, null, 2));
  else printReport(report);
  return exitCodeOf(report);
}

function describeProgress(p: ReconcileProgress): string {
  if (p.phase === "digest") return `reconcile: ${p.region}: ${p.keysScanned} keys digested`;
  if (p.phase === "changelog")
    return `reconcile: changelog: ${p.records} of ${p.total} records read`;
  return `reconcile: ${p.keys} winners read`;
}

function printReport(report: ReconcileReport): void {
  const seconds = (report.elapsedMs / 1000).toFixed(1);
  console.log(
    `compared ${report.keysCompared} keys of ${report.views.length} view(s) across ${report.regions.join(", ")} in ${seconds} s (${report.keysPerSecond} keys/s)`,
  );
  for (const v of report.views) {
    const rows = Object.entries(v.rows)
      .map(([region, n]) => `${region} ${n}`)
      .join(", ");
    console.log(
      `  ${v.view}: rows ${rows}; ${v.rangesCompared} ranges compared, ${v.slotsDiffering} slots differ, ${v.divergentKeys} keys divergent`,
    );
  }
  if (report.changelog) {
    console.log(
      `changelog: ${report.changelog.records} records read; ${report.changelogShadowed} keys whose last record is older than the winner; ${report.behindChangelog} keys the regions have not applied yet`,
    );
  }
  const verb = report.dryRun ? "would re-publish" : "re-published";
  for (const r of report.repaired) {
    const stale = Object.entries(r.stale)
      .map(([region, version]) => `${region} had ${version}`)
      .join(", ");
    console.log(
      `${verb} ${r.view} ${r.key} at ${r.version} from ${r.from} (${r.reason}; ${stale || "changelog behind"})`,
    );
  }
  for (const u of report.unrepaired) console.log(`NOT repaired ${u.view} ${u.key}: ${u.reason}`);
  if (report.verified) {
    console.log(
      `verified: ${report.verified.converged} converged, ${report.verified.unconverged} not applied in time`,
    );
  }
  console.log(
    `${report.dryRun ? "dry run, " : ""}${report.outcome}: ${report.divergent} divergent, ${report.changelogShadowed} shadowed in the changelog, ${report.republished} re-published, ${report.unrepairedCount} not repaired`,
  );
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(isStrataError(error) ? `${error.code}: ${error.message}` : error);
    process.exit(1);
  },
);
