import { elementType, type FeatureType, type ScalarType } from "./feature-types.js";

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
export function encodeValue(type: FeatureType, value: unknown): string {
  if (value === null) return "";
  const element = elementType(type);
  if (element === undefined) return encodeScalar(type as ScalarType, value);
  const items = value as unknown[];
  if (isNumeric(element)) return `[${items.map((item) => String(item)).join(",")}]`;
  if (element === "bytes") {
    return JSON.stringify(items.map((item) => Buffer.from(item as Uint8Array).toString("base64")));
  }
  return JSON.stringify(items);
}

export function decodeValue(type: FeatureType, text: string): unknown {
  if (text === "") return null;
  const element = elementType(type);
  if (element === undefined) return decodeScalar(type as ScalarType, text);
  if (isNumeric(element)) {
    if (text === "[]") return [];
    return text
      .slice(1, -1)
      .split(",")
      .map((item) => decodeScalar(element, item));
  }
  const items = JSON.parse(text) as unknown[];
  return element === "bytes" ? items.map((item) => Buffer.from(item as string, "base64")) : items;
}

function encodeScalar(type: ScalarType, value: unknown): string {
  switch (type) {
    case "string":
      return `=${value as string}`;
    case "bytes":
      return `=${Buffer.from(value as Uint8Array).toString("base64")}`;
    case "bool":
      return value ? "1" : "0";
    default:
      return String(value);
  }
}

function decodeScalar(type: ScalarType, text: string): unknown {
  switch (type) {
    case "string":
      return text.slice(1);
    case "bytes":
      return Buffer.from(text.slice(1), "base64");
    case "bool":
      return text === "1";
    case "int64": {
      const n = Number(text);
      return Number.isSafeInteger(n) ? n : BigInt(text);
    }
    default:
      return Number(text);
  }
}

function isNumeric(type: ScalarType): boolean {
  return type !== "string" && type !== "bytes" && type !== "bool";
}
