// Drift detection from the command line: `npm run drift -- --help`. `check` is the same run as
// the CronJob, Lambda and Azure timer entry points; `baseline` creates and publishes the
// baselines it compares with. See docs/drift.md.
import { writeFileSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { parseArgs } from "node:util";
import { Redis } from "ioredis";
import { buildBaseline } from "../../shared/drift/baseline-build.js";
import { loadActiveBaselines, publishBaseline } from "../../shared/drift/baseline-store.js";
import { parseBaseline } from "../../shared/drift/baseline.js";
import { readTrainingColumns } from "../../shared/drift/training-file.js";
import { isStrataError, StrataError } from "../../shared/errors.js";
import { isMainModule } from "../../shared/main-module.js";
import { loadRegistry } from "../../shared/registry/load-repo.js";
import { loadDriftConfig, parseDuration } from "./config.js";
import { runDriftCheck } from "./drift-run.js";
import { exitCodeOf } from "./job.js";
import { reportTable } from "./report-table.js";
import { DriftMetrics } from "./score-metrics.js";

const HELP = `usage: npm run drift -- <command> [options]

commands:
  check                       evaluate every model with an active baseline, once
    --model <name>            only this model (repeatable; default STRATA_DRIFT_MODELS, else all)
    --window <duration>       the window scored, e.g. 1h (default STRATA_DRIFT_WINDOW, 1h)
    --at <time>               the window's end (ISO time or epoch ms; default: now, aligned
                              down to a multiple of the window, so every region scores the same window)
    --json                    print the report as JSON
    --out <file>              also write the JSON report to a file
    --every <duration>        run again every <duration> until stopped (job mode)
    --metrics-port <port>     with --every: serve the scores on http://0.0.0.0:<port>/metrics
  baseline create             build a baseline from a training file (Parquet or CSV)
    --service <name>          the feature service the model consumes
    --model <name>            the model trained on the file
    --model-version <v>       its version (default "1")
    --from <file>             the training file (.parquet or .csv)
    --repo <file>             the feature repo module (default STRATA_REPO)
    --buckets <n>             quantile buckets of numeric features (default 10)
    --top-k <n>               categories kept per categorical feature (default 20)
    --out <file>              where to write it (default <service>.baseline.json)
  baseline publish <file>     store a baseline in Redis and make it the service's active one
    --redis <url>             a region's Redis (repeatable: publish to every region; default REDIS_URL)
  baseline show               print the active baseline of a service
    --service <name>          the feature service
    --redis <url>             default REDIS_URL

environment (check): STRATA_PROJECT, STRATA_REGION, STRATA_PROMETHEUS_URL, REDIS_URL (this
region's Redis, where baselines are), STRATA_ARGO_URL, STRATA_ARGO_NAMESPACE,
STRATA_ARGO_TEMPLATE, STRATA_ARGO_TOKEN or STRATA_ARGO_TOKEN_SECRET,
STRATA_DRIFT_CLAIM_REDIS_URL, STRATA_DRIFT_* (docs/drift.md).

exit status: 0 done (whatever the drift), 1 failed (Prometheus, Redis, the claim place or
Argo: nothing was submitted for a failed model), 2 usage or configuration error.`;

class UsageError extends Error {}

export async function main(argv: string[]): Promise<number> {
  const args = argv.filter((a) => a !== "--");
  try {
    if (args[0] === "check") return await check(args.slice(1));
    if (args[0] === "baseline") return await baseline(args.slice(1));
    if (args.length === 0 || args[0] === "-h" || args[0] === "--help" || args[0] === "help") {
      console.log(HELP);
      return args.length === 0 ? 2 : 0;
    }
    throw new UsageError(`unknown command ${args[0]}`);
  } catch (error) {
    if (
      error instanceof UsageError ||
      (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")
    ) {
      console.error(`${(error as Error).message}\n\n${HELP}`);
      return 2;
    }
    if (isStrataError(error)) {
      console.error(`${error.code}: ${error.message}`);
      return error.code === "STRATA_E_BAD_CONFIG" ? 2 : 1;
    }
    throw error;
  }
}

async function check(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: "string", multiple: true },
      window: { type: "string" },
      at: { type: "string" },
      json: { type: "boolean", default: false },
      out: { type: "string" },
      every: { type: "string" },
      "metrics-port": { type: "string" },
    },
  });
  const env = { ...process.env };
  if (values.model) env.STRATA_DRIFT_MODELS = values.model.join(",");
  if (values.window) env.STRATA_DRIFT_WINDOW = values.window;
  const config = loadDriftConfig(env);
  const windowEndMs = values.at === undefined ? undefined : parseTime(values.at);
  const everyMs = values.every === undefined ? undefined : parseDuration(values.every);
  if (values.every !== undefined && everyMs === undefined)
    throw new UsageError(`--every ${values.every} is not a duration`);
  const metrics = new DriftMetrics();
  const once = async (): Promise<number> => {
    try {
      const report = await runDriftCheck(config, { windowEndMs });
      metrics.record(report);
      const json = JSON.stringify(report, null, 2);
      if (values.out) writeFileSync(values.out, `${json}\n`);
      console.log(values.json ? json : reportTable(report));
      return exitCodeOf(report);
    } catch (error) {
      metrics.recordError(config.project);
      if (!isStrataError(error)) throw error;
      console.error(`${error.code}: ${error.message}`);
      console.error("no decision was made and nothing was submitted");
      return 1;
    }
  };
  if (everyMs === undefined) return once();
  const port = values["metrics-port"];
  if (port !== undefined) {
    const server = createServer((req, res) => {
      if (req.url !== "/metrics") return void res.writeHead(404).end();
      void metrics.registry.metrics().then((text) => {
        res.writeHead(200, { "content-type": metrics.registry.contentType }).end(text);
      });
    });
    server.listen(Number(port));
  }
  for (;;) {
    await once();
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

async function baseline(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === "create") return createBaseline(rest);
  if (sub === "publish") {
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: { redis: { type: "string", multiple: true } },
    });
    if (positionals.length !== 1) throw new UsageError("baseline publish takes one baseline file");
    const file = positionals[0]!;
    const parsed = parseBaseline(JSON.parse(readFileSync(file, "utf8")) as unknown, file);
    for (const url of redisUrls(values.redis)) {
      const redis = new Redis(url, {
        maxRetriesPerRequest: 1,
        enableOfflineQueue: false,
        lazyConnect: true,
      });
      try {
        await redis.connect();
        await publishBaseline(redis, parsed);
      } catch (error) {
        if (isStrataError(error)) throw error;
        throw new StrataError("STRATA_E_REDIS_UNAVAILABLE", `${url}: ${(error as Error).message}`, {
          redis: url,
        });
      } finally {
        redis.disconnect();
      }
      console.log(
        `published baseline ${parsed.baselineVersion} of ${parsed.featureService} (model ${parsed.model} ${parsed.modelVersion}) to ${url}`,
      );
    }
    return 0;
  }
  if (sub === "show") {
    const { values } = parseArgs({
      args: rest,
      options: {
        service: { type: "string" },
        redis: { type: "string" },
        project: { type: "string" },
      },
    });
    if (!values.service) throw new UsageError("baseline show needs --service");
    const project = values.project ?? process.env.STRATA_PROJECT;
    if (!project) throw new UsageError("baseline show needs --project or STRATA_PROJECT");
    const redis = new Redis(redisUrls(values.redis ? [values.redis] : undefined)[0]!, {
      maxRetriesPerRequest: 1,
    });
    try {
      const [active] = await loadActiveBaselines(redis, project, [values.service]);
      if (!active) {
        throw new StrataError("STRATA_E_NO_BASELINE", `no active baseline for ${values.service}`, {
          feature_service: values.service,
        });
      }
      console.log(JSON.stringify(active, null, 2));
      return 0;
    } finally {
      redis.disconnect();
    }
  }
  throw new UsageError(`unknown baseline command ${sub ?? "(none)"}`);
}

async function createBaseline(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      service: { type: "string" },
      model: { type: "string" },
      "model-version": { type: "string", default: "1" },
      from: { type: "string" },
      repo: { type: "string" },
      buckets: { type: "string", default: "10" },
      "top-k": { type: "string", default: "20" },
      out: { type: "string" },
    },
  });
  if (!values.service || !values.model || !values.from) {
    throw new UsageError("baseline create needs --service, --model and --from");
  }
  const repo = values.repo ?? process.env.STRATA_REPO;
  if (!repo)
    throw new UsageError("baseline create needs --repo or STRATA_REPO (the feature repo module)");
  const registry = await loadRegistry(repo);
  const refs = registry.service(values.service);
  const { columns, skipped } = await readTrainingColumns(values.from, refs);
  const built = buildBaseline({
    project: registry.project,
    model: values.model,
    modelVersion: values["model-version"],
    featureService: values.service,
    source: values.from,
    columns,
    buckets: Number(values.buckets),
    topK: Number(values["top-k"]),
  });
  const out = values.out ?? `${values.service}.baseline.json`;
  writeFileSync(out, `${JSON.stringify(built, null, 2)}\n`);
  for (const s of skipped) console.error(`not monitored: ${s.feature}: ${s.reason}`);
  console.log(
    `baseline ${built.baselineVersion} of ${built.featureService} (model ${built.model} ${built.modelVersion}): ${built.features.length} feature(s) from ${built.rows} rows, written to ${out}`,
  );
  return 0;
}

function redisUrls(given: string[] | undefined): string[] {
  const urls = given ?? (process.env.REDIS_URL ? [process.env.REDIS_URL] : []);
  if (urls.length === 0) throw new UsageError("no Redis: pass --redis <url> or set REDIS_URL");
  return urls;
}

function parseTime(text: string): number {
  const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isFinite(ms)) throw new UsageError(`--at ${text} is not an ISO time or epoch ms`);
  return ms;
}

if (isMainModule(import.meta.url)) process.exitCode = await main(process.argv.slice(2));
