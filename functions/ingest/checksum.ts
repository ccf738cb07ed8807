// Per-view checksums of a region's online state, and a comparison of two:
//   npm run checksum -- <target> [<other target>]
// where a target is redis://host:port or cluster://host:port,host:port; STRATA_REPO names the
// feature repo. With two targets it exits 1 when any view differs. See docs/changelog.md.
import { isStrataError } from "../../shared/errors.js";
import {
  connectFailFast,
  diffChecksums,
  regionChecksum,
  type ViewChecksum,
} from "../../shared/online-store/index.js";
import { EnvReader } from "../../shared/config/env.js";
import { loadRegistry } from "../../shared/registry/index.js";
import { parseRedisTarget } from "./redis-target.js";

async function checksumOf(target: string, repoPath: string): Promise<ViewChecksum[]> {
  const registry = await loadRegistry(repoPath);
  const client = connectFailFast(parseRedisTarget(target));
  try {
    return await regionChecksum(client, registry);
  } finally {
    client.disconnect();
  }
}

async function main(): Promise<number> {
  const targets = process.argv.slice(2).filter((a) => a !== "--");
  if (targets.length < 1 || targets.length > 2) {
    console.error(
      "usage: npm run checksum -- <redis://host:port | cluster://host:port,...> [<other>]",
    );
    return 2;
  }
  const repoPath = new EnvReader().required("STRATA_REPO", "the path of the feature repo module");
  const results = await Promise.all(targets.map((t) => checksumOf(t, repoPath)));
  results.forEach((checksums, i) => {
    for (const c of checksums) console.log(`${targets[i]} ${c.view}: ${c.rows} rows ${c.sha256}`);
  });
  if (results.length === 1) return 0;
  const differences = diffChecksums(results[0]!, results[1]!);
  if (differences.length === 0) {
    console.log("identical: every view has the same rows, versions and values");
    return 0;
  }
  for (const d of differences) console.log(`differs: ${d}`);
  return 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(isStrataError(error) ? `${error.code}: ${error.message}` : error);
    process.exit(1);
  },
);
