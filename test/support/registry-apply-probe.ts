// Applying registries to a running serving process and timing when it serves them: what the
// apply-under-load test and `npm run bench -- registry` share. Each probe apply adds one view
// (`probe_<n>@1`, one feature); "served" is the first request for that feature the server
// answers 200 (before its swap it answers 400 STRATA_E_UNKNOWN_FEATURE).
import type { FeatureRepoDefinition } from "../../shared/registry/index.js";
import { post } from "./serve.js";
import { startServeProcess, type ServeProcess } from "./serve-process.js";

/** `base` with the probe views 1..n added, each its own view of the first entity. */
export function withProbeViews(base: FeatureRepoDefinition, n: number): FeatureRepoDefinition {
  const entity = base.entities[0]!.name;
  return {
    ...base,
    views: [
      ...base.views,
      ...Array.from({ length: n }, (_, i) => ({
        name: `probe_${i + 1}`,
        version: "1.0.0",
        entities: [entity],
        features: { value: "int64" as const },
        maxAgeMs: 60_000,
      })),
    ],
  };
}

/**
 * Milliseconds from `startedAt` (performance.now()) until the server answers 200 for probe
 * view n's feature, polling back to back; throws after `timeoutMs`.
 */
export async function msUntilServed(
  url: string,
  key: string,
  n: number,
  entities: Record<string, unknown[]>,
  startedAt: number,
  timeoutMs: number,
): Promise<number> {
  for (;;) {
    const answer = await post(url, { features: [`probe_${n}:value`], entities }, { key });
    if (answer.status === 200) return performance.now() - startedAt;
    if (answer.status !== 400 || !answer.text.includes("STRATA_E_UNKNOWN_FEATURE")) {
      throw new Error(`probe_${n} answered ${answer.status}: ${answer.text.slice(0, 300)}`);
    }
    if (performance.now() - startedAt > timeoutMs) {
      throw new Error(`probe_${n} was not served within ${timeoutMs} ms of its apply`);
    }
  }
}

export interface ReadLoad {
  /** Stops the readers; every request's outcome so far. */
  stop(): Promise<{ requests: number; failures: string[] }>;
}

/** `connections` readers sending `body` back to back, counting every answer other than 200. */
export function startReadLoad(
  url: string,
  key: string,
  body: unknown,
  connections: number,
): ReadLoad {
  let running = true;
  let requests = 0;
  const failures: string[] = [];
  const loops = Array.from({ length: connections }, async () => {
    while (running) {
      try {
        const answer = await post(url, body, { key });
        requests++;
        if (answer.status !== 200) failures.push(`${answer.status} ${answer.text.slice(0, 200)}`);
      } catch (error) {
        requests++;
        failures.push((error as Error).message);
      }
    }
  });
  return {
    stop: async () => {
      running = false;
      await Promise.all(loops);
      return { requests, failures };
    },
  };
}

/** A serving process of `project` that follows its published registry (no STRATA_REPO). */
export function startFollowingServe(project: string, region = "local"): Promise<ServeProcess> {
  return startServeProcess({
    project,
    topology: "standalone",
    region,
    env: { STRATA_REPO: "", STRATA_PROJECT: project },
  });
}
