import { show, StrataError } from "../errors.js";

export interface SemVer {
  major: number;
  minor: number;
  patch: number;
}

const SEMVER = /^(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})$/;

/** Parses `major.minor.patch` (no pre-release or build tags: a feature version is a release). */
export function parseSemVer(text: unknown, where: string): SemVer {
  const match = typeof text === "string" ? SEMVER.exec(text) : null;
  if (!match) {
    throw new StrataError(
      "STRATA_E_BAD_VERSION",
      `${where}: version ${show(text)} is not major.minor.patch (for example "1.2.0")`,
      { version: text },
    );
  }
  return { major: Number(match[1]), minor: Number(match[2]), patch: Number(match[3]) };
}

export function formatSemVer(v: SemVer): string {
  return `${v.major}.${v.minor}.${v.patch}`;
}
