import type { Version } from "../versions/version.js";

/** A record read in its canonical form: its fields as JSON.parse would give them, unvalidated. */
export interface CanonicalRecord<View> {
  view: View;
  entity: string;
  version: Version;
  clock: string;
  /** The values in the view's feature order. */
  values: string[];
}

/**
 * What the reader needs to know about the view a record names: its own result for the caller,
 * and the text before each value (`"<feature>":`, a comma before all but the first), in the
 * order encodeChangelogRecord writes them.
 */
export type CanonicalViewLookup<View> = (
  name: string,
  major: number,
) => { view: View; valuePrefixes: readonly string[] } | undefined;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const ZERO = 0x30;
const NINE = 0x39;
/** 15 decimal digits are below 2^53, so exact; every integer field of a record is below 2^48. */
const MAX_DIGITS = 15;

/**
 * Reads a schema-1 record written exactly as encodeChangelogRecord writes it: no whitespace,
 * its keys in its order, integers as plain digits, strings without escapes, and every feature
 * of the named view in the view's order. That is every record Strata writes, and reading it
 * here is cheaper than JSON.parse, with no object of values by name to build
 * (`npm run bench -- record`: canonical_reader against floor_json_parse; docs/benchmarks.md).
 *
 * Anything else returns undefined and the caller parses the text as JSON: this is a fast path,
 * never a second definition of the format. What it returns is what JSON.parse gives for the
 * same text (test/unit/changelog/canonical-record.test.ts checks that on arbitrary text).
 */
export function readCanonicalRecord<View>(
  record: string,
  lookup: CanonicalViewLookup<View>,
): CanonicalRecord<View> | undefined {
  const cursor = new Cursor(record);
  if (!cursor.literal('{"schema":1,"view":')) return undefined;
  const viewName = cursor.string();
  if (viewName === undefined || !cursor.literal(',"major":')) return undefined;
  const major = cursor.integer();
  if (major < 0 || !cursor.literal(',"entity":')) return undefined;
  const entity = cursor.string();
  if (entity === undefined || !cursor.literal(',"version":{"eventTsMs":')) return undefined;
  const eventTsMs = cursor.integer();
  if (eventTsMs < 0 || !cursor.literal(',"epoch":')) return undefined;
  const epoch = cursor.integer();
  if (epoch < 0 || !cursor.literal(',"hlc":{"wallMs":')) return undefined;
  const wallMs = cursor.integer();
  if (wallMs < 0 || !cursor.literal(',"counter":')) return undefined;
  const counter = cursor.integer();
  if (counter < 0 || !cursor.literal('},"originRegion":')) return undefined;
  const originRegion = cursor.string();
  if (originRegion === undefined || !cursor.literal('},"clock":')) return undefined;
  const clock = cursor.string();
  if (clock === undefined || !cursor.literal(',"values":{')) return undefined;
  const found = lookup(viewName, major);
  if (!found) return undefined;
  const prefixes = found.valuePrefixes;
  const values = new Array<string>(prefixes.length);
  for (let i = 0; i < prefixes.length; i++) {
    if (!cursor.literal(prefixes[i]!)) return undefined;
    const value = cursor.string();
    if (value === undefined) return undefined;
    values[i] = value;
  }
  if (!cursor.literal("}}") || !cursor.atEnd()) return undefined;
  return {
    view: found.view,
    entity,
    version: { eventTsMs, epoch, hlc: { wallMs, counter }, originRegion },
    clock,
    values,
  };
}

/** Where the reader is in one record's text. */
class Cursor {
  private at = 0;

  constructor(private readonly text: string) {}

  atEnd(): boolean {
    return this.at === this.text.length;
  }

  literal(expected: string): boolean {
    if (!this.text.startsWith(expected, this.at)) return false;
    this.at += expected.length;
    return true;
  }

  /** A JSON string without escapes (any other, or a control character, is left to JSON.parse). */
  string(): string | undefined {
    const { text } = this;
    if (text.charCodeAt(this.at) !== QUOTE) return undefined;
    const start = this.at + 1;
    for (let i = start; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === QUOTE) {
        this.at = i + 1;
        return text.slice(start, i);
      }
      if (c === BACKSLASH || c < 0x20) return undefined;
    }
    return undefined;
  }

  /** A non-negative JSON integer of at most MAX_DIGITS digits, or -1 (a leading zero, a sign, a fraction: JSON.parse's job). */
  integer(): number {
    const { text } = this;
    const start = this.at;
    if (text.charCodeAt(start) === ZERO) {
      this.at = start + 1;
      return isDigit(text.charCodeAt(this.at)) ? -1 : 0;
    }
    let value = 0;
    let i = start;
    for (; i < text.length && isDigit(text.charCodeAt(i)); i++) {
      if (i - start === MAX_DIGITS) return -1;
      value = value * 10 + (text.charCodeAt(i) - ZERO);
    }
    if (i === start) return -1;
    this.at = i;
    return value;
  }
}

function isDigit(c: number): boolean {
  return c >= ZERO && c <= NINE;
}
