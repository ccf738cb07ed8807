import { isInteger, parse, stringify } from "lossless-json";

/**
 * Sixteen digits in a row: the only way a body can hold an integer JSON.parse would round
 * (2^53 has sixteen). Feast's SDK sends int64 join keys and values as plain JSON numbers,
 * 2^53 + 1 included.
 */
const LONG_DIGIT_RUN = /\d{16}/;

/**
 * JSON with integers beyond 2^53 - 1 kept exact as bigints (the registry's int64 checks and
 * the key codec take them); every other number is a double, as JSON.parse gives it. Texts
 * without a long digit run, nearly all of them, go through JSON.parse itself: the exact parser
 * is slower and only needed for those. Throws SyntaxError (or RangeError, for nesting too deep
 * to parse) on bad input.
 */
export function parseExactJson(text: string): unknown {
  if (!LONG_DIGIT_RUN.test(text)) return JSON.parse(text) as unknown;
  return parse(text, null, exactNumber);
}

/** Integers outside the safe range (2^53 itself included: a double cannot tell it from 2^53 + 1) as bigints. */
function exactNumber(text: string): number | bigint {
  const value = Number(text);
  return isInteger(text) && !Number.isSafeInteger(value) ? BigInt(text) : value;
}

/** JSON text of `value` with bigints written as the exact integers they are (JSON.stringify throws on them). */
export function stringifyExactJson(value: unknown): string {
  return stringify(value) ?? "null";
}
