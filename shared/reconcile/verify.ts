import type { ResolvedView } from "../registry/feature-registry.js";
import { compareVersions, decodeVersion } from "../versions/version.js";
import type { RegionDigest } from "./region-digest.js";
import { readVersions } from "./stored-rows.js";

/**
 * Polls every region until each re-published key stores the winner's version or a newer one
 * (a live write may land meanwhile), or until the timeout. Consumers apply the re-published
 * records at their own pace: this is what turns "re-published" into "converged".
 */
export async function verifyConverged(
  digests: readonly RegionDigest[],
  published: readonly { view: ResolvedView; key: string; version: string }[],
  timeoutMs: number,
): Promise<{ converged: number; unconverged: number }> {
  const deadline = Date.now() + timeoutMs;
  let pending = [...published];
  for (;;) {
    const byView = new Map<ResolvedView, typeof pending>();
    for (const p of pending) byView.set(p.view, [...(byView.get(p.view) ?? []), p]);
    const still: typeof pending = [];
    for (const [view, list] of byView) {
      const keys = list.map((p) => p.key);
      const versions = await Promise.all(
        digests.map((d) => readVersions(d.region.client, view, d.generations.get(view.key)!, keys)),
      );
      list.forEach((p, i) => {
        const winner = decodeVersion(p.version);
        const done = versions.every((perRegion) => {
          const stored = perRegion[i];
          return stored != null && compareVersions(decodeVersion(stored), winner) >= 0;
        });
        if (!done) still.push(p);
      });
    }
    pending = still;
    if (pending.length === 0 || Date.now() >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { converged: published.length - pending.length, unconverged: pending.length };
}
