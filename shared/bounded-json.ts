/**
 * Rendering any value for an error, bounded. Error messages and details quote what a client
 * sent, and a client can send anything JSON can hold: 10,000 nested arrays, a megabyte string.
 * JSON.stringify recurses without limit and copies whole strings, so it overflows the stack or
 * echoes the megabyte back; these walk at most a fixed depth and length, never throw, and stop
 * at cycles, getters that throw and proxies.
 */

/** How much of a value a bounded copy keeps. */
export interface CopyBounds {
  /** Containers nested deeper than this become a summary such as "[array of 3]". */
  maxDepth: number;
  /** Items (or keys) kept per array (or object); the rest are counted in a last item. */
  maxItems: number;
  /** Characters kept per string (and per object key). */
  maxString: number;
  /** Values visited in all; past this every value becomes "[truncated]". */
  maxNodes: number;
}

/**
 * What error details keep: deep enough for a batch's rejected rows and a list of errors with
 * their own details, and every rejected row of a batch of the default request limits.
 */
export const DETAIL_BOUNDS: CopyBounds = {
  maxDepth: 8,
  maxItems: 1_000,
  maxString: 1_000,
  maxNodes: 10_000,
};

/**
 * A JSON-safe copy of `value` within `bounds`: strings cut (their length said), long arrays
 * and objects cut (how many items were left out said), deep containers summarised, bigints as
 * decimal strings, non-finite numbers by name, cycles and unreadable values marked. Never throws.
 */
export function boundedCopy(value: unknown, bounds: CopyBounds = DETAIL_BOUNDS): unknown {
  let nodes = 0;
  const ancestors = new Set<object>();

  const copy = (item: unknown, depth: number): unknown => {
    if (++nodes > bounds.maxNodes) return "[truncated]";
    switch (typeof item) {
      case "string":
        return cutString(item, bounds.maxString);
      case "number":
        return Number.isFinite(item) ? item : String(item);
      case "boolean":
      case "undefined":
        return item;
      case "bigint":
        return item.toString();
      case "symbol":
      case "function":
        return `[${typeof item}]`;
    }
    if (item === null) return null;
    const object = item as object;
    if (ancestors.has(object)) return "[circular]";
    try {
      if (depth >= bounds.maxDepth) return summary(object);
      ancestors.add(object);
      try {
        return copyContainer(object, depth);
      } finally {
        ancestors.delete(object);
      }
    } catch {
      // A getter or proxy trap threw: the value cannot be read, so say so.
      return "[unreadable]";
    }
  };

  const copyContainer = (object: object, depth: number): unknown => {
    if (ArrayBuffer.isView(object)) return summary(object);
    const toJSON = (object as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === "function") {
      // What JSON.stringify would render (a Date's ISO text, an error's fields); one level
      // deeper, so that a toJSON returning ever new objects still ends.
      return copy(toJSON.call(object) as unknown, depth + 1);
    }
    if (Array.isArray(object)) {
      const length = object.length;
      const kept = Math.min(length, bounds.maxItems);
      const out: unknown[] = new Array<unknown>(kept);
      for (let i = 0; i < kept; i++) out[i] = copy(object[i], depth + 1) ?? null;
      if (length > kept) out.push(`[${length - kept} more items]`);
      return out;
    }
    const out: Record<string, unknown> = {};
    let kept = 0;
    let left = 0;
    for (const key in object) {
      if (!Object.hasOwn(object, key)) continue;
      if (kept === bounds.maxItems) {
        left++;
        // Counting every key of a huge object costs as much as copying it: stop counting.
        if (left === bounds.maxItems) break;
        continue;
      }
      kept++;
      out[cutString(key, bounds.maxString)] = copy(
        (object as Record<string, unknown>)[key],
        depth + 1,
      );
    }
    if (left > 0) out["[more keys]"] = left === bounds.maxItems ? `${left}+` : left;
    return out;
  };

  return copy(value, 0);
}

/**
 * JSON-like text of `value`, at most `maxChars` long (longer text is cut, ending in "..."):
 * writing stops once that many characters are written, so the work is bounded by `maxChars`
 * whatever the value's size, depth or cycles. Bigints are written `12n`, non-finite numbers
 * by name, functions as "[function]". Never throws.
 */
export function previewText(value: unknown, maxChars: number): string {
  let out = "";
  const full = () => out.length > maxChars;

  const write = (item: unknown, inArray: boolean): void => {
    switch (typeof item) {
      case "string":
        // Quote only what can be shown: a prefix's JSON is a prefix of the whole string's.
        out += JSON.stringify(item.length > maxChars + 2 ? item.slice(0, maxChars + 2) : item);
        return;
      case "number":
        out += Number.isFinite(item) ? JSON.stringify(item) : String(item);
        return;
      case "boolean":
        out += String(item);
        return;
      case "bigint":
        out += `${item}n`;
        return;
      case "undefined":
        out += inArray ? "null" : "undefined";
        return;
      case "symbol":
        out += item.toString();
        return;
      case "function":
        out += "[function]";
        return;
    }
    if (item === null) {
      out += "null";
      return;
    }
    try {
      writeContainer(item as object);
    } catch {
      out += "[unreadable]";
    }
  };

  const writeContainer = (object: object): void => {
    if (ArrayBuffer.isView(object)) {
      out += summary(object);
      return;
    }
    const toJSON = (object as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === "function") {
      const replaced = toJSON.call(object) as unknown;
      // A toJSON that returns an object with a toJSON again is written as it stands.
      if (typeof replaced !== "object" || replaced === null) write(replaced, false);
      else writePlain(replaced);
      return;
    }
    writePlain(object);
  };

  const writePlain = (object: object): void => {
    if (Array.isArray(object)) {
      out += "[";
      // Every item writes at least one character, so this stops once the text is full.
      for (let i = 0; i < object.length && !full(); i++) {
        if (i > 0) out += ",";
        write(object[i], true);
      }
      out += "]";
      return;
    }
    out += "{";
    let first = true;
    let visited = 0;
    for (const key in object) {
      // Keys whose value is undefined write nothing: bound the loop by keys visited too.
      if (full() || ++visited > maxChars) break;
      if (!Object.hasOwn(object, key)) continue;
      const item = (object as Record<string, unknown>)[key];
      if (item === undefined || typeof item === "function" || typeof item === "symbol") continue;
      out += `${first ? "" : ","}${JSON.stringify(key.length > maxChars ? key.slice(0, maxChars) : key)}:`;
      first = false;
      write(item, false);
    }
    out += "}";
  };

  write(value, false);
  if (out.length <= maxChars) return out;
  // Never end on half a surrogate pair.
  const end = isHighSurrogate(out.charCodeAt(maxChars - 4)) ? maxChars - 4 : maxChars - 3;
  return `${out.slice(0, end)}...`;
}

function cutString(text: string, max: number): string {
  if (text.length <= max) return text;
  // Never end on half a surrogate pair: the cut text must still be valid UTF-16 text.
  const end = isHighSurrogate(text.charCodeAt(max - 1)) ? max - 1 : max;
  return `${text.slice(0, end)}... (${text.length} characters)`;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function summary(object: object): string {
  if (Array.isArray(object)) return `[array of ${object.length}]`;
  if (ArrayBuffer.isView(object)) {
    return `[${object.constructor.name} of ${object.byteLength} bytes]`;
  }
  return "[object]";
}
