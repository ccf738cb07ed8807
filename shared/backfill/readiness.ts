import { execBatch, type RedisClient } from "../online-store/pipeline.js";
import {
  backfillKeys,
  generationPointerKey,
  INITIAL_GENERATION,
} from "../online-store/redis-layout.js";
import type { FeatureRegistry } from "../registry/feature-registry.js";

/** One view major a feature service reads, as readiness judges it. */
export interface ViewReadiness {
  view: string;
  activeGeneration: number;
  /** The generation a flip (or a completed replay prewarm) certified as holding the view's history. */
  populatedGeneration: number | null;
  ready: boolean;
  reasons: string[];
}

export interface ServiceReadiness {
  service: string;
  ready: boolean;
  views: ViewReadiness[];
  /** The region's consumer backlog in records (every source topic), or why it is unknown. */
  consumerLag:
    { records: number; maxRecords: number; ready: boolean } | { error: string; ready: false };
}

/**
 * Whether a feature service can take traffic in this region: every view major it reads has a
 * populated marker for its active generation (a backfill's flip or a replay prewarm set it), and
 * the region's consumer is caught up (backlog at most `maxLagRecords`). What a model rollout
 * gates on (docs/backfill.md, "Readiness").
 */
export async function serviceReadiness(
  client: RedisClient,
  registry: FeatureRegistry,
  service: string,
  consumerLag: () => Promise<number>,
  maxLagRecords: number,
): Promise<ServiceReadiness> {
  const viewKeys = [...new Set(registry.service(service).map((ref) => ref.view.key))];
  const project = registry.project;
  const commands = viewKeys.flatMap((viewKey) => {
    const pointer = generationPointerKey(project, viewKey);
    const marker = backfillKeys.populated(project, viewKey);
    return [
      { key: pointer, argv: ["get", pointer] },
      { key: marker, argv: ["get", marker] },
    ];
  });
  const replies = await execBatch(client, commands);
  const views = viewKeys.map((view, i): ViewReadiness => {
    const [pointerError, pointer] = replies[2 * i]!;
    const [markerError, marker] = replies[2 * i + 1]!;
    if (pointerError || markerError) {
      return {
        view,
        activeGeneration: -1,
        populatedGeneration: null,
        ready: false,
        reasons: [`redis: ${(pointerError ?? markerError)!.message}`],
      };
    }
    const activeGeneration = pointer === null ? INITIAL_GENERATION : Number(pointer);
    const populatedGeneration = marker === null ? null : Number(marker);
    const reasons: string[] = [];
    if (populatedGeneration === null)
      reasons.push("not populated: no backfill or replay prewarm has been flipped for it");
    else if (populatedGeneration !== activeGeneration)
      reasons.push(
        `the active generation ${activeGeneration} is not the populated one (${populatedGeneration})`,
      );
    return { view, activeGeneration, populatedGeneration, ready: reasons.length === 0, reasons };
  });
  let lag: ServiceReadiness["consumerLag"];
  try {
    const records = await consumerLag();
    lag = { records, maxRecords: maxLagRecords, ready: records <= maxLagRecords };
  } catch (error) {
    lag = { error: error instanceof Error ? error.message : String(error), ready: false };
  }
  return { service, ready: views.every((v) => v.ready) && lag.ready, views, consumerLag: lag };
}
