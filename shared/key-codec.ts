import { show, StrataError } from "./errors.js";
import type { JoinKey } from "./registry/feature-registry.js";

/**
 * Entity keys → Redis keys, injectively: two different entity keys never map to the same
 * Redis key, whatever characters they contain.
 *
 * Each join key value becomes a typed part: `i<decimal>` for integers, `s<escaped>` for
 * strings, where escaping rewrites `\` `:` `{` `}` as `\\` `\c` `\o` `\e`, and a lone UTF-16
 * surrogate (which UTF-8 cannot carry, so two such strings would collide on the wire) as
 * `\uXXXX`. Parts are joined by `:`, which no part contains. Braces never appear in the
 * encoding, so the hash tag `{project:entities:key}` always spans the whole entity.
 */
export type EntityKeyValue = string | number | bigint;

const NEEDS_ESCAPE =
  /[\\:{}]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const ESCAPE_ALL = new RegExp(NEEDS_ESCAPE.source, "g");
const ESCAPES: Record<string, string> = { "\\": "\\\\", ":": "\\c", "{": "\\o", "}": "\\e" };
const UNESCAPE = /\\(?:([\\ceo])|u([0-9a-f]{4}))|\\/g;
const UNESCAPES: Record<string, string> = { "\\": "\\", c: ":", o: "{", e: "}" };

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * Encodes one entity row's join keys (in the order `joinKeys` gives). Throws
 * STRATA_E_MISSING_JOIN_KEY or STRATA_E_ENTITY_KEY_TYPE naming the key and value.
 */
export function encodeEntityKey(
  joinKeys: readonly JoinKey[],
  row: Record<string, unknown>,
): string {
  let encoded = "";
  for (let i = 0; i < joinKeys.length; i++) {
    const key = joinKeys[i]!;
    const value = row[key.name];
    if (value === undefined || value === null) {
      throw new StrataError(
        "STRATA_E_MISSING_JOIN_KEY",
        `entity row lacks join key ${show(key.name)}`,
        {
          joinKey: key.name,
          needed: joinKeys.map((k) => k.name),
        },
      );
    }
    if (i > 0) encoded += ":";
    encoded += encodePart(key, value);
  }
  return encoded;
}

function encodePart(key: JoinKey, value: unknown): string {
  if (key.type === "string") {
    if (typeof value !== "string") throw wrongType(key, value);
    return "s" + (NEEDS_ESCAPE.test(value) ? value.replace(ESCAPE_ALL, escapeChar) : value);
  }
  if (typeof value === "number") {
    const ok =
      key.type === "int32"
        ? Number.isInteger(value) && value >= INT32_MIN && value <= INT32_MAX
        : Number.isSafeInteger(value);
    if (!ok) throw wrongType(key, value);
    // `${-0}` is "0": one canonical form per integer.
    return `i${value}`;
  }
  if (
    typeof value === "bigint" &&
    key.type === "int64" &&
    value >= INT64_MIN &&
    value <= INT64_MAX
  ) {
    return `i${value}`;
  }
  throw wrongType(key, value);
}

function escapeChar(char: string): string {
  return ESCAPES[char] ?? `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`;
}

function wrongType(key: JoinKey, value: unknown): StrataError {
  return new StrataError(
    "STRATA_E_ENTITY_KEY_TYPE",
    `join key ${show(key.name)} is ${key.type}, but the value ${show(value)} is ${typeof value === "number" ? "not an integer in range" : `a ${typeof value}`}`,
    {
      joinKey: key.name,
      type: key.type,
      value: typeof value === "bigint" ? value.toString() : value,
    },
  );
}

/** The join key values of an encoded key: strings, and integers as number (or bigint past 2^53). */
export function decodeEntityKey(encoded: string): EntityKeyValue[] {
  return encoded.split(":").map((part) => {
    const tag = part[0];
    const body = part.slice(1);
    if (tag === "s") return body.includes("\\") ? body.replace(UNESCAPE, unescapeMatch) : body;
    if (tag === "i" && /^-?\d+$/.test(body)) {
      const n = Number(body);
      return Number.isSafeInteger(n) ? n : BigInt(body);
    }
    throw new StrataError(
      "STRATA_E_BAD_ENTITY_KEY",
      `encoded entity key ${show(encoded)} has a bad part ${show(part)}`,
      {
        key: encoded,
      },
    );
  });
}

function unescapeMatch(match: string, simple?: string, hex?: string): string {
  if (simple !== undefined) return UNESCAPES[simple]!;
  if (hex !== undefined) return String.fromCharCode(parseInt(hex, 16));
  throw new StrataError(
    "STRATA_E_BAD_ENTITY_KEY",
    `dangling escape ${show(match)} in an encoded entity key`,
    {},
  );
}

/** The Redis hash that holds every feature of one entity: `fs:{<project>:<entities>:<key>}`. */
export function entityRedisKey(project: string, entitySet: string, encodedKey: string): string {
  return `fs:{${project}:${entitySet}:${encodedKey}}`;
}
