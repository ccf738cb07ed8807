import { show, StrataError } from "./errors.js";
import type { JoinKey } from "./registry/feature-registry.js";
import type { JoinKeyType } from "./registry/feature-types.js";

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
  if (key.type === "int64") {
    if (typeof value === "bigint" && value >= INT64_MIN && value <= INT64_MAX) return `i${value}`;
    if (typeof value === "string") {
      const digits = int64Text(value);
      if (digits !== undefined) return `i${digits}`;
    }
  }
  throw wrongType(key, value);
}

/**
 * Int64 as a decimal string, as Feast clients send it (protobuf's JSON form of int64) and
 * Feast coerces: an optional "-", then "0" or digits without a leading zero, within int64.
 * Its canonical text is the string itself ("-0" is "0"), exactly what the number or bigint
 * of that value encodes to, beyond 2^53 included. Anything else: undefined.
 */
function int64Text(text: string): string | undefined {
  if (!INT64_TEXT.test(text)) return undefined;
  if (text === "-0") return "0";
  const digits = text.charCodeAt(0) === 0x2d ? text.length - 1 : text.length;
  // 18 digits are within int64 whatever they are; 19 may not be.
  if (digits === 19) {
    const value = BigInt(text);
    if (value < INT64_MIN || value > INT64_MAX) return undefined;
  }
  return text;
}

const INT64_TEXT = /^-?(?:0|[1-9]\d{0,18})$/;

function escapeChar(char: string): string {
  return ESCAPES[char] ?? `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`;
}

function wrongType(key: JoinKey, value: unknown): StrataError {
  const what =
    typeof value === "number" || typeof value === "bigint"
      ? "not an integer in range"
      : key.type === "int64" && typeof value === "string"
        ? "not a decimal integer in range"
        : `${typeof value === "object" ? "an" : "a"} ${typeof value}`;
  return new StrataError(
    "STRATA_E_ENTITY_KEY_TYPE",
    `join key ${show(key.name)} is ${key.type}, but the value ${show(value)} is ${what}`,
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

/**
 * Each join key type's parts that need no decoding to be checked: integers of at most 9 or 18
 * digits (within int32 or int64 whatever they are) without a leading zero or "-0", and strings
 * without a character that encodePart escapes and without surrogates (paired ones included).
 * Exactly what encodePart writes for such values, so a part that matches is in its one
 * canonical form.
 */
const PLAIN_PART: Record<JoinKeyType, string> = {
  int32: "i(?:0|-?[1-9]\\d{0,8})",
  int64: "i(?:0|-?[1-9]\\d{0,17})",
  string: "s[^\\\\:{}\\uD800-\\uDFFF]*",
};

const plainKeyPatterns = new WeakMap<readonly JoinKey[], RegExp>();

/**
 * A pattern that an encoded key matches only when it is what encodeEntityKey writes for some
 * row of these join keys: one plain part per key, of the key's type. Keys it does not match
 * (escaped strings, integers of more digits, or keys that do not fit) need decoding and
 * re-encoding to tell. The regional consumer checks the entity of every record, and one
 * regular-expression test costs it far less than decoding and re-encoding the key, which
 * allocates every part. Built once per list of join keys.
 */
export function plainEntityKeyPattern(joinKeys: readonly JoinKey[]): RegExp {
  let pattern = plainKeyPatterns.get(joinKeys);
  if (!pattern) {
    pattern = new RegExp(`^${joinKeys.map((key) => PLAIN_PART[key.type]).join(":")}$`);
    plainKeyPatterns.set(joinKeys, pattern);
  }
  return pattern;
}

/** The Redis hash that holds every feature of one entity: `fs:{<project>:<entities>:<key>}`. */
export function entityRedisKey(project: string, entitySet: string, encodedKey: string): string {
  return `fs:{${project}:${entitySet}:${encodedKey}}`;
}
