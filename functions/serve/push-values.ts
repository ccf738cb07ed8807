import { elementType, type FeatureType } from "../../shared/registry/index.js";

/**
 * JSON has no bytes and no 64-bit integers: bytes arrive base64-encoded (as Feast's JSON API
 * sends them) and int64 values past 2^53 as decimal strings (or exact numbers, which the body
 * parser turns into bigints). Anything else is passed on for the registry's type check to
 * accept or name.
 */
export function fromJson(type: FeatureType, value: unknown): unknown {
  const element = elementType(type);
  if (element !== undefined) {
    return Array.isArray(value) ? value.map((item) => fromJson(element, item)) : value;
  }
  if (type === "bytes" && typeof value === "string") return Buffer.from(value, "base64");
  if (type === "int64" && typeof value === "string" && /^-?\d{1,19}$/.test(value)) {
    return BigInt(value);
  }
  // A whole number past 2^53 reaches here exact (a bigint, see shared/exact-json.ts): a float holds it rounded.
  if ((type === "float64" || type === "float32") && typeof value === "bigint") return Number(value);
  return value;
}
