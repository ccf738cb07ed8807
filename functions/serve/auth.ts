import { createHash, hash, randomBytes, timingSafeEqual } from "node:crypto";
import { StrataError } from "../../shared/errors.js";

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
  if (!principal) return;
  if (principal.projects && !principal.projects.has(project)) {
    throw new StrataError(
      "STRATA_E_FORBIDDEN",
      `API key "${principal.keyId}" may not read project "${project}"`,
      {
        key: principal.keyId,
        project,
      },
    );
  }
  if (principal.featureServices) {
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
        `API key "${principal.keyId}" may not read feature service "${featureService}"`,
        { key: principal.keyId, feature_service: featureService },
      );
    }
  }
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
