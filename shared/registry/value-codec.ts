import { elementType, valueCheck, type FeatureType, type ScalarType } from "./feature-types.js";

/**
 * How feature values are stored in Redis hash fields. The registry knows every field's
 * type, so values carry no type tags: numbers are their decimal text, booleans "1"/"0",
 * strings their text behind a one-character "=" marker (so that the empty string differs
 * from null, which is stored as ""), bytes base64 behind the same marker (the form Feast's
 * JSON API uses anyway), numeric lists "[1,2,3]", other lists JSON.
 *
 * Chosen by measurement against JSON and MessagePack: see docs/value-encoding.md and
 * `npm run bench -- store` (value_codec).
 */
export interface ValueCodec {
  /** Whether a value (or null) fits the type. */
  accepts(value: unknown): boolean;
  encode(value: unknown): string;
  decode(text: string): unknown;
  /**
   * The value's JSON text taken straight from its stored text, when that text is JSON
   * already (numbers and numeric lists, whose stored text is their decimal form; booleans;
   * null); undefined when the value must be formatted from its decoded form. Serving writes
   * this verbatim: formatting a float back to its shortest text costs more than anything
   * else in rendering a response of many values. Lists of strings and bytes are rare enough
   * to be formatted from their decoded form. Only for text that `decode` accepted.
   */
  json(text: string): string | undefined;
  /**
   * Whether every text `encode` gives holds no character that JSON escapes in a string (a
   * quote, a backslash, a control character): numbers, booleans, numeric lists and base64
   * bytes. The changelog writer quotes such texts itself instead of through JSON.stringify.
   */
  readonly plainText: boolean;
  /**
   * Whether a stored text decodes to a value of the type: what the regional consumer checks of
   * every value a changelog record carries. Text that decodes to NaN or an infinity must be
   * exactly what encoding gives (see textDecodesToValue).
   */
  acceptsText(text: string): boolean;
}

/** A JSON number literal (what String(number) gives for finite numbers, and bigint digits). */
const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
/** A JSON array of number literals, as numeric lists are stored. */
const JSON_NUMBER_LIST =
  /^\[(?:-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?(?:,-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)*)?\]$/;
const numberJson = (text: string) =>
  text === "" ? "null" : JSON_NUMBER.test(text) ? text : undefined;
const noJson = (text: string) => (text === "" ? "null" : undefined);

const codecs = new Map<FeatureType, ValueCodec>();

/** The codec of a feature type, built once per type: the hot paths call it per value. */
export function codecFor(type: FeatureType): ValueCodec {
  let codec = codecs.get(type);
  if (!codec) codecs.set(type, (codec = buildCodec(type)));
  return codec;
}

export function encodeValue(type: FeatureType, value: unknown): string {
  return codecFor(type).encode(value);
}

export function decodeValue(type: FeatureType, text: string): unknown {
  return codecFor(type).decode(text);
}

function buildCodec(type: FeatureType): ValueCodec {
  const accepts = valueCheck(type);
  const element = elementType(type);
  if (element === undefined) {
    const encode = scalarEncoder(type as ScalarType);
    const decode = scalarDecoder(type as ScalarType);
    return withTextCheck(
      {
        accepts,
        encode: (value) => (value === null ? "" : encode(value)),
        decode: (text) => (text === "" ? null : decode(text)),
        json: scalarJson(type as ScalarType),
        plainText: type !== "string",
      },
      plainNumberCheck(type as ScalarType),
    );
  }
  if (isNumeric(element)) {
    const decodeItem = scalarDecoder(element);
    const encodeItem = scalarEncoder(element);
    return withTextCheck({
      accepts,
      encode: (value) =>
        value === null
          ? ""
          : element === "float32"
            ? `[${(value as unknown[]).map(encodeItem).join(",")}]`
            : `[${(value as unknown[]).join(",")}]`,
      decode: (text) => {
        if (text === "") return null;
        if (text === "[]") return [];
        return text.slice(1, -1).split(",").map(decodeItem);
      },
      json: (text) => (text === "" ? "null" : JSON_NUMBER_LIST.test(text) ? text : undefined),
      plainText: true,
    });
  }
  if (element === "bytes") {
    return withTextCheck({
      accepts,
      encode: (value) =>
        value === null
          ? ""
          : JSON.stringify(
              (value as Uint8Array[]).map((item) => Buffer.from(item).toString("base64")),
            ),
      decode: (text) =>
        text === ""
          ? null
          : (JSON.parse(text) as string[]).map((item) => Buffer.from(item, "base64")),
      json: noJson,
      plainText: false,
    });
  }
  return withTextCheck({
    accepts,
    encode: (value) => (value === null ? "" : JSON.stringify(value)),
    decode: (text) => (text === "" ? null : (JSON.parse(text) as unknown)),
    json: noJson,
    plainText: false,
  });
}

/**
 * The codec with its acceptsText: `plain` first when the type has one (a check that may say
 * false where decoding would accept, never true where it would not), then decoding.
 */
function withTextCheck(
  codec: Omit<ValueCodec, "acceptsText">,
  plain?: (text: string) => boolean,
): ValueCodec {
  const decodes = (text: string) => textDecodesToValue(codec, text);
  return {
    ...codec,
    acceptsText: plain ? (text) => plain(text) || decodes(text) : decodes,
  };
}

/** Whether `text` decodes to a value the codec accepts, finite numbers only unless written by name. */
export function textDecodesToValue(codec: Omit<ValueCodec, "acceptsText">, text: string): boolean {
  try {
    const value = codec.decode(text);
    if (!codec.accepts(value)) return false;
    // NaN is what Number() makes of garbage ("fast", "[1,x]"), and Infinity of an overflowing
    // literal ("1e400", which would otherwise reach clients as number text no JSON reader can
    // hold). A number written as NaN or an infinity is encoded by name, so text that decodes
    // to one must be exactly what encoding gives.
    return !hasNonFinite(value) || codec.encode(value) === text;
  } catch {
    return false;
  }
}

function hasNonFinite(value: unknown): boolean {
  if (typeof value === "number") return !Number.isFinite(value);
  return Array.isArray(value) && value.some((v) => typeof v === "number" && !Number.isFinite(v));
}

/**
 * For the scalar number types, a check without decoding of the texts numbers are mostly
 * written as: plain decimals short enough to be numbers of the type whatever their digits
 * (at most 9 digits for int32, 15 for int64 and timestamps, 20 with a fraction for floats).
 * Number() parses the whole text into a double; this only scans a short decimal's characters,
 * which is much cheaper, and the consumer checks every number value of every record.
 */
function plainNumberCheck(type: ScalarType): ((text: string) => boolean) | undefined {
  switch (type) {
    case "float32":
    case "float64":
      return (text) => isPlainDecimal(text, 20, true);
    case "int32":
      return (text) => isPlainDecimal(text, 9, false);
    case "int64":
    case "unix_timestamp":
      return (text) => isPlainDecimal(text, 15, false);
    default:
      return undefined;
  }
}

const ZERO = 0x30;
const NINE = 0x39;
const MINUS = 0x2d;
const DOT = 0x2e;

/**
 * `-?\d+(\.\d+)?` (the fraction only when `fraction`), with at most `maxDigits` digits. Any
 * such text is a finite number to Number(), and an integer below 10^maxDigits without one.
 */
function isPlainDecimal(text: string, maxDigits: number, fraction: boolean): boolean {
  let i = text.charCodeAt(0) === MINUS ? 1 : 0;
  const start = i;
  let dot = -1;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === DOT && fraction && dot < 0 && i > start) dot = i;
    else if (c < ZERO || c > NINE) return false;
  }
  const digits = i - start - (dot < 0 ? 0 : 1);
  return digits > 0 && digits <= maxDigits && dot !== i - 1;
}

function scalarEncoder(type: ScalarType): (value: unknown) => string {
  switch (type) {
    case "string":
      return (value) => `=${value as string}`;
    case "bytes":
      return (value) => `=${Buffer.from(value as Uint8Array).toString("base64")}`;
    case "bool":
      return (value) => (value ? "1" : "0");
    case "float32":
      // Stored as a float32 holds it (0.1 is 0.10000000149011612), as Feast stores and
      // serves Float32: the same value whichever server a client reads it from.
      return (value) => String(Math.fround(value as number));
    default:
      return (value) => String(value);
  }
}

function scalarJson(type: ScalarType): (text: string) => string | undefined {
  switch (type) {
    case "string":
    case "bytes":
      return noJson;
    case "bool":
      return (text) => (text === "" ? "null" : text === "1" ? "true" : "false");
    default:
      return numberJson;
  }
}

function scalarDecoder(type: ScalarType): (text: string) => unknown {
  switch (type) {
    case "string":
      return (text) => text.slice(1);
    case "bytes":
      return (text) => Buffer.from(text.slice(1), "base64");
    case "bool":
      return (text) => text === "1";
    case "int64":
      return (text) => {
        const n = Number(text);
        return Number.isSafeInteger(n) ? n : BigInt(text);
      };
    default:
      return Number;
  }
}

function isNumeric(type: ScalarType): boolean {
  return type !== "string" && type !== "bytes" && type !== "bool";
}
