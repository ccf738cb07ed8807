import { createHash } from "node:crypto";
import type { Redis } from "ioredis";
import { isStrataError, StrataError } from "../errors.js";
import { isNoScript, LuaScript } from "../online-store/lua-script.js";
import { submitWorkflow, workflowsWithLabel, type ArgoTarget } from "./argo-client.js";

/**
 * Once per model per cooldown, however many regions' drift functions see the same drift:
 * - The claim lives in ONE designated Redis (STRATA_DRIFT_CLAIM_REDIS_URL), key
 *   `fs:{<project>}:drift:claim:<model>`, set with SET NX PX <cooldown>: the first run to set
 *   it submits, every other run in the cooldown sees it and submits nothing.
 * - The claim names its idempotency key (project, model, baseline version, window) and a label derived
 *   from it, which the workflow carries (`strata.io/drift-claim`). A run that crashed between
 *   claiming and recording the submission leaves a claim in state `claimed`; once that is
 *   older than the stale limit, the next run lists Argo's workflows by that label and only
 *   submits if none exists, taking the claim over with a compare-and-set. So a retry never
 *   submits twice.
 * - The claim Redis unreachable: fail closed, STRATA_E_DRIFT_CLAIM_UNAVAILABLE, no submission.
 */
export interface RetrainRequest {
  project: string;
  model: string;
  modelVersion: string;
  featureService: string;
  baselineVersion: string;
  window: { startMs: number; endMs: number };
  /** Drifted features and their across-regions scores. */
  drifted: { feature: string; psi?: number; js?: number; kl?: number }[];
  /** Regions whose scores crossed an alert threshold (`all` for the regions summed). */
  regions: string[];
}

export interface TriggerConfig {
  claimRedis: Redis;
  argo: ArgoTarget;
  /** The WorkflowTemplate to submit. */
  template: string;
  cooldownMs: number;
  /** A claim still `claimed` after this long is taken to be from a crashed run. */
  staleClaimMs: number;
  /** This run's region, recorded in the claim. */
  region: string;
  now?: () => number;
}

export type TriggerResult = "submitted" | "deduplicated" | "recovered";

export interface TriggerOutcome {
  result: TriggerResult;
  idempotencyKey: string;
  label: string;
  /** The workflow submitted, or found (recovered, deduplicated when known). */
  workflow?: string;
  /** Who holds the claim, when deduplicated. */
  claimedBy?: string;
  detail: string;
}

interface StoredClaim {
  key: string;
  label: string;
  state: "claimed" | "submitted";
  region: string;
  claimedAtMs: number;
  workflow?: string;
}

export const CLAIM_LABEL = "strata.io/drift-claim";
export const DEFAULT_COOLDOWN_MS = 24 * 3_600_000;
/** Longer than a submission can take (the Argo call's own timeout), so a live run is never taken over. */
export const DEFAULT_STALE_CLAIM_MS = 120_000;

const swapScript = LuaScript.fromFile("drift-claim-swap");

export function claimRedisKey(project: string, model: string): string {
  return `fs:{${project}}:drift:claim:${model}`;
}

/**
 * (project, model, baseline version, window), as text: what makes two regions' decisions the
 * same decision. The project is in it because one Argo namespace may serve several projects.
 */
export function idempotencyKey(request: RetrainRequest): string {
  const { project, model, baselineVersion, window } = request;
  return `${project}|${model}|${baselineVersion}|${new Date(window.startMs).toISOString()}/${new Date(window.endMs).toISOString()}`;
}

/** The workflow label of an idempotency key: 40 hex digits of its SHA-256 (a valid label value). */
export function claimLabel(key: string): string {
  return createHash("sha256").update(key).digest("hex").slice(0, 40);
}

/** The template's parameters (docs/drift.md lists them). */
export function workflowParameters(request: RetrainRequest, key: string): Record<string, string> {
  return {
    project: request.project,
    model: request.model,
    model_version: request.modelVersion,
    feature_service: request.featureService,
    baseline_version: request.baselineVersion,
    features: request.drifted.map((d) => d.feature).join(","),
    scores: JSON.stringify(
      Object.fromEntries(request.drifted.map(({ feature, ...scores }) => [feature, scores])),
    ),
    regions: request.regions.join(","),
    window_start: new Date(request.window.startMs).toISOString(),
    window_end: new Date(request.window.endMs).toISOString(),
    idempotency_key: key,
  };
}

/** Claims the retraining of a model and submits it, or says who already did. */
export async function triggerRetraining(
  config: TriggerConfig,
  request: RetrainRequest,
): Promise<TriggerOutcome> {
  const now = config.now ?? Date.now;
  const key = idempotencyKey(request);
  const label = claimLabel(key);
  const redisKey = claimRedisKey(request.project, request.model);
  const mine: StoredClaim = {
    key,
    label,
    state: "claimed",
    region: config.region,
    claimedAtMs: now(),
  };
  const mineText = JSON.stringify(mine);
  for (let attempt = 0; attempt < 3; attempt++) {
    const set = await claimCall(() =>
      config.claimRedis.set(redisKey, mineText, "PX", config.cooldownMs, "NX"),
    );
    if (set === "OK") return submitClaimed(config, request, redisKey, mine, mineText);
    const storedText = await claimCall(() => config.claimRedis.get(redisKey));
    if (storedText === null) continue; // expired between the two calls
    const stored = parseClaim(storedText);
    const base = { idempotencyKey: key, label };
    if (stored.state === "submitted") {
      return {
        ...base,
        result: "deduplicated",
        workflow: stored.workflow,
        claimedBy: stored.region,
        detail: `already submitted for ${stored.key} (workflow ${stored.workflow ?? "?"}, by ${stored.region}); cooldown in force`,
      };
    }
    if (now() - stored.claimedAtMs < config.staleClaimMs) {
      return {
        ...base,
        result: "deduplicated",
        claimedBy: stored.region,
        detail: `claimed by ${stored.region} for ${stored.key}, submission in progress`,
      };
    }
    // A claim left by a run that stopped between claiming and recording its submission.
    const existing = await workflowsWithLabel(config.argo, CLAIM_LABEL, stored.label);
    if (existing.length > 0) {
      const recorded: StoredClaim = { ...stored, state: "submitted", workflow: existing[0] };
      await swap(config.claimRedis, redisKey, storedText, JSON.stringify(recorded));
      return {
        ...base,
        result: "recovered",
        workflow: existing[0],
        claimedBy: stored.region,
        detail: `a stale claim's workflow ${existing[0]} exists (label ${stored.label}); recorded, not resubmitted`,
      };
    }
    if (await swap(config.claimRedis, redisKey, storedText, mineText)) {
      return submitClaimed(config, request, redisKey, mine, mineText);
    }
    // Another run took the stale claim over first: look again.
  }
  return {
    idempotencyKey: key,
    label,
    result: "deduplicated",
    detail: "the claim kept changing under this run; another run holds it",
  };
}

async function submitClaimed(
  config: TriggerConfig,
  request: RetrainRequest,
  redisKey: string,
  claim: StoredClaim,
  claimText: string,
): Promise<TriggerOutcome> {
  let workflow: string;
  try {
    workflow = await submitWorkflow(config.argo, {
      template: config.template,
      parameters: workflowParameters(request, claim.key),
      labels: { [CLAIM_LABEL]: claim.label },
    });
  } catch (error) {
    // Refused: nothing was created, so free the claim for the next run. Unanswered: it may have
    // been created; the claim stays and goes stale, and the label check settles it.
    if (isStrataError(error, "STRATA_E_ARGO_REJECTED")) {
      await swap(config.claimRedis, redisKey, claimText, "").catch(() => undefined);
    }
    throw error;
  }
  await swap(
    config.claimRedis,
    redisKey,
    claimText,
    JSON.stringify({ ...claim, state: "submitted", workflow }),
  );
  return {
    result: "submitted",
    idempotencyKey: claim.key,
    label: claim.label,
    workflow,
    detail: `submitted workflow ${workflow} from template ${config.template}`,
  };
}

async function swap(redis: Redis, key: string, expected: string, next: string): Promise<boolean> {
  const result = await claimCall(async () => {
    try {
      return await redis.evalsha(swapScript.sha, 1, key, expected, next);
    } catch (error) {
      if (!isNoScript(error as Error)) throw error;
      return redis.eval(swapScript.source, 1, key, expected, next);
    }
  });
  return result === 1;
}

async function claimCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw new StrataError(
      "STRATA_E_DRIFT_CLAIM_UNAVAILABLE",
      `the drift claim Redis did not answer (${(error as Error).message}); nothing was submitted`,
      {},
      { cause: error },
    );
  }
}

function parseClaim(text: string): StoredClaim {
  try {
    const claim = JSON.parse(text) as StoredClaim;
    if (typeof claim.label === "string" && typeof claim.claimedAtMs === "number") return claim;
  } catch {
    // fall through
  }
  // Unreadable: treat as a fresh claim by someone else, never as free (fail closed).
  return {
    key: "?",
    label: "",
    state: "claimed",
    region: "?",
    claimedAtMs: Number.MAX_SAFE_INTEGER,
  };
}
