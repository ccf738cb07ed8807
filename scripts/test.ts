// npm test: type-checked, linted code first (package.json), then this runner:
//   unit         test/unit (nothing running)
//   infra        test/infra: the Pulumi program under Pulumi's mocks (no cloud, nothing running)
//   integration  brings the local stack up (idempotent) with the regions of STRATA_TEST_REGIONS
//                (default a,b,c), then test/integration against real servers
//   all          both, in one run of node's test runner, so one summary closes the output
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import path from "node:path";
import { resolveEndpoints } from "../dev/stack/endpoints.js";
import { parseRegionList } from "../dev/stack/layout.js";
import { repoRoot } from "../dev/stack/paths.js";
import { stackUp } from "../dev/stack/stack.js";
import { StackError } from "../dev/stack/stack-error.js";

const SUITES = {
  unit: ["test/unit"],
  infra: ["test/infra"],
  integration: ["test/integration"],
  all: ["test/unit", "test/infra", "test/integration"],
};
type Suite = keyof typeof SUITES;

/** The region tests need three regions; the other integration tests use region 0. */
const DEFAULT_TEST_REGIONS = "a,b,c";

/**
 * The regions the integration stack runs: STRATA_TEST_REGIONS, else a,b,c. When the
 * environment names servers of its own (REDIS_URL, KAFKA_BROKERS, ...), the default is those
 * servers alone (one region): a multi-region stack starts its own servers.
 */
function testRegions(env: NodeJS.ProcessEnv): string[] | undefined {
  const explicit = env.STRATA_TEST_REGIONS?.trim();
  if (explicit) return parseRegionList(explicit);
  const endpoints = resolveEndpoints(env);
  const external = [endpoints.redis, endpoints.cluster, endpoints.kafka].some((e) => e.external);
  return external ? undefined : parseRegionList(DEFAULT_TEST_REGIONS);
}

function testFiles(dir: string): string[] {
  const entries = readdirSync(path.join(repoRoot, dir), { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith(".test.ts"))
    .map((entry) => path.relative(repoRoot, path.join(entry.parentPath, entry.name)))
    .sort();
}

async function main(suite: string): Promise<number> {
  if (!(suite in SUITES)) {
    console.error(`usage: tsx scripts/test.ts ${Object.keys(SUITES).join("|")}`);
    return 2;
  }
  const dirs = SUITES[suite as Suite];
  const files = dirs.flatMap(testFiles);
  if (files.length === 0) {
    console.error(`no test files under ${dirs.join(", ")}`);
    return 1;
  }
  if (dirs.includes("test/integration")) {
    const regions = testRegions(process.env);
    console.log(
      `bringing the local stack up for the integration tests (regions: ${regions?.join(",") ?? "as given by the environment"}) ...`,
    );
    await stackUp({ regions });
  }
  const result = spawnSync(
    process.execPath,
    [
      "--import",
      "tsx",
      "--test",
      "--test-reporter=spec",
      // Integration tests share one Redis and one Kafka and measure timings: one file at a time.
      "--test-concurrency=1",
      // Nothing may hang CI: a single test that runs this long has failed.
      "--test-timeout=180000",
      ...files,
    ],
    { cwd: repoRoot, stdio: "inherit" },
  );
  return result.status ?? 1;
}

main(process.argv[2] ?? "all").then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof StackError) {
      console.error(`strata test: ${error.message}${error.hint ? `\n  → ${error.hint}` : ""}`);
    } else {
      console.error("strata test: unexpected failure", error);
    }
    process.exitCode = 1;
  },
);
