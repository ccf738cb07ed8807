// Per-view checksums of a region's online state, and a comparison of two:
//   npm run checksum -- <target> [<other target>]   (= strata checksum)
// where a target is redis://host:port or cluster://host:port,host:port; STRATA_REPO names the
// feature repo. With two targets it exits 1 when any view differs. See docs/changelog.md.
import { isStrataError } from "../../shared/errors.js";
import { isMainModule } from "../../shared/main-module.js";
import {
  connectFailFast,
  diffChecksums,
  regionChecksum,
  type ViewChecksum,
} from "../../shared/online-store/index.js";
import { EnvReader } from "../../shared/config/env.js";
import { loadRegistry } from "../../shared/registry/index.js";
import { parseRedisTarget } from "./redis-target.js";

export interface ChecksumOutcome {
  /** Each target's per-view checksums, in the order given. */
  targets: { target: string; views: ViewChecksum[] }[];
  /** With two targets: what differs (empty when identical); absent with one. */
  differences?: string[];
}

/** The checksums `npm run checksum` and `strata checksum` compute, with STRATA_REPO from `env`. */
export async function runChecksum(
  targets: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<ChecksumOutcome> {
  const repoPath = new EnvReader(env).required(
    "STRATA_REPO",
    "the path of the feature repo module",
  );
  const registry = await loadRegistry(repoPath);
  const results = await Promise.all(
    targets.map(async (target) => {
      const client = connectFailFast(parseRedisTarget(target));
      try {
        return { target, views: await regionChecksum(client, registry) };
      } finally {
        client.disconnect();
      }
    }),
  );
  return results.length === 2
    ? { targets: results, differences: diffChecksums(results[0]!.views, results[1]!.views) }
    : { targets: results };
}

/** The lines `npm run checksum` has always printed. */
export function checksumSummary(outcome: ChecksumOutcome): string[] {
  const lines = outcome.targets.flatMap(({ target, views }) =>
    views.map((c) => `${target} ${c.view}: ${c.rows} rows ${c.sha256}`),
  );
  if (outcome.differences === undefined) return lines;
  if (outcome.differences.length === 0) {
    lines.push("identical: every view has the same rows, versions and values");
  }
  for (const d of outcome.differences) lines.push(`differs: ${d}`);
  return lines;
}

async function main(): Promise<number> {
  const targets = process.argv.slice(2).filter((a) => a !== "--");
  if (targets.length < 1 || targets.length > 2) {
    console.error(
      "usage: npm run checksum -- <redis://host:port | cluster://host:port,...> [<other>]",
    );
    return 2;
  }
  const outcome = await runChecksum(targets);
  for (const line of checksumSummary(outcome)) console.log(line);
  return (outcome.differences?.length ?? 0) > 0 ? 1 : 0;
}

if (isMainModule(import.meta.url)) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(isStrataError(error) ? `${error.code}: ${error.message}` : error);
      process.exit(1);
    },
  );
}
