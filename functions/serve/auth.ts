import { createHash, hash, randomBytes, timingSafeEqual } from "node:crypto";
import { isStrataError, show, StrataError } from "../../shared/errors.js";

/** One API key as configured: only its SHA-256 is ever stored. */
export interface ApiKeyRecord {
  id: string;
  /** SHA-256 of the key, 64 lowercase hex digits. */
  sha256: string;
  /** Projects the key may read; absent: all. */
  projects?: string[];
  /** Feature services the key may read; absent: any request. When set, raw feature lists are refused. */
  featureServices?: string[];
  /** Whether the key may write (POST /push) to its projects; false when absent: read keys cannot write. */
  push?: boolean;
}

/** Who is calling, once the key is verified. */
export interface Principal {
  keyId: string;
  projects?: ReadonlySet<string>;
  featureServices?: ReadonlySet<string>;
  push: boolean;
}

interface StoredKey {
  digest: Buffer;
  principal: Principal;
}

export function hashApiKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

/** A new random key (URL-safe) and the record to configure for it. */
export function generateApiKey(
  id: string,
  scope: Omit<ApiKeyRecord, "id" | "sha256"> = {},
): { key: string; record: ApiKeyRecord } {
  const key = `strata_${randomBytes(24).toString("base64url")}`;
  return { key, record: { id, sha256: hashApiKey(key), ...scope } };
}

/**
 * Verifies `Authorization: Bearer <key>` against the configured hashes. The presented key
 * is hashed, then compared with every stored hash in constant time, without stopping at a
 * match, so neither the comparison nor the number of comparisons leaks which key matched.
 */
export class ApiKeyVerifier {
  private readonly keys: StoredKey[];

  constructor(records: readonly ApiKeyRecord[]) {
    this.keys = records.map((r) => ({
      digest: Buffer.from(r.sha256, "hex"),
      principal: {
        keyId: r.id,
        projects: r.projects ? new Set(r.projects) : undefined,
        featureServices: r.featureServices ? new Set(r.featureServices) : undefined,
        push: r.push === true,
      },
    }));
  }

  authenticate(authorization: string | undefined): Principal {
    const match = authorization ? /^Bearer\s+(\S+)\s*$/i.exec(authorization) : null;
    if (!match) {
      throw new StrataError(
        "STRATA_E_UNAUTHENTICATED",
        "send an API key as 'Authorization: Bearer <key>'",
        {},
      );
    }
    // One-shot hash: no Hash object per request.
    const presented = hash("sha256", match[1]!, "buffer");
    let found: Principal | undefined;
    for (const key of this.keys) {
      if (timingSafeEqual(presented, key.digest)) found = key.principal;
    }
    if (!found) throw new StrataError("STRATA_E_UNAUTHENTICATED", "the API key is not valid", {});
    return found;
  }
}

/** Throws STRATA_E_FORBIDDEN unless the principal may read this project (and feature service, if any). */
export function authorize(
  principal: Principal | null,
  project: string,
  featureService: string | undefined,
): void {
  authorizeProject(principal, project);
  authorizeService(principal, featureService);
}

/**
 * Throws STRATA_E_FORBIDDEN unless the principal may read this project. The serving core calls
 * it before it reads the request, so a key of another project learns nothing from the answer.
 */
export function authorizeProject(principal: Principal | null, project: string): void {
  if (principal?.projects && !principal.projects.has(project)) {
    throw new StrataError(
      "STRATA_E_FORBIDDEN",
      `API key "${principal.keyId}" may not read project "${project}"`,
      {
        key: principal.keyId,
        project,
      },
    );
  }
}

/**
 * Throws STRATA_E_FORBIDDEN unless the principal may read this feature service (undefined: a
 * list of features). It compares names only, before any is resolved: a service-scoped key
 * gets the same 403 for a service that exists and one that does not.
 */
export function authorizeService(
  principal: Principal | null,
  featureService: string | undefined,
): void {
  if (!principal?.featureServices) return;
  if (featureService === undefined) {
    throw new StrataError(
      "STRATA_E_FORBIDDEN",
      `API key "${principal.keyId}" may read only feature services (${[...principal.featureServices].join(", ")}), not a list of features`,
      { key: principal.keyId },
    );
  }
  if (!principal.featureServices.has(featureService)) {
    throw new StrataError(
      "STRATA_E_FORBIDDEN",
      `API key "${principal.keyId}" may not read feature service ${show(featureService)}`,
      { key: principal.keyId, feature_service: featureService },
    );
  }
}

/**
 * Whether the principal may see the names of everything in the project it reads (the `known`
 * lists of unknown-name errors): with auth off, or a key without a feature service limit,
 * which may ask for any feature of the project and so could find every name anyway.
 */
export function seesWholeProject(principal: Principal | null): boolean {
  return principal === null || principal.featureServices === undefined;
}

/**
 * The error as a key limited to feature services may see it: `known` lists of names dropped
 * from its details (from nested errors' details too). Other keys and errors pass unchanged.
 */
export function redactForScope(error: unknown, principal: Principal | null): unknown {
  if (seesWholeProject(principal) || !isStrataError(error)) return error;
  return new StrataError(
    error.code,
    error.message,
    withoutKnownLists(error.details, 0) as Record<string, unknown>,
    { cause: error.cause },
  );
}

function withoutKnownLists(value: unknown, depth: number): unknown {
  // Registry errors nest `known` at most inside a list of errors; deeper values are the
  // client's own input, left for rendering to bound.
  if (depth > 4 || typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) return value.map((item) => withoutKnownLists(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (key !== "known") out[key] = withoutKnownLists(item, depth + 1);
  }
  return out;
}

/** Throws STRATA_E_FORBIDDEN unless the principal may push to this project. */
export function authorizePush(principal: Principal | null, project: string): void {
  if (!principal) return;
  if (!principal.push || (principal.projects && !principal.projects.has(project))) {
    throw new StrataError(
      "STRATA_E_FORBIDDEN",
      `API key "${principal.keyId}" may not push to project "${project}"`,
      { key: principal.keyId, project },
    );
  }
}
