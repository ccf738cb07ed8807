/**
 * Feature value types: Feast's scalar types and lists of each. Any feature may be null.
 *
 * JavaScript representations:
 * - int32: integer number; int64: safe-integer number or bigint (decoded as bigint only
 *   beyond 2^53); float32 / float64: number; unix_timestamp: epoch milliseconds (number)
 * - string: string; bytes: Uint8Array (decoded as Buffer); bool: boolean
 * - lists: arrays of the element type, without nulls inside
 */
export const SCALAR_TYPES = [
  "int32",
  "int64",
  "float32",
  "float64",
  "string",
  "bytes",
  "bool",
  "unix_timestamp",
] as const;

export type ScalarType = (typeof SCALAR_TYPES)[number];
export type ListType = `${ScalarType}[]`;
export type FeatureType = ScalarType | ListType;

/** Join keys are integers or strings, as in Feast. */
export const JOIN_KEY_TYPES = ["int32", "int64", "string"] as const;
export type JoinKeyType = (typeof JOIN_KEY_TYPES)[number];

const FEATURE_TYPES = new Set<string>([...SCALAR_TYPES, ...SCALAR_TYPES.map((t) => `${t}[]`)]);

export function isFeatureType(value: unknown): value is FeatureType {
  return typeof value === "string" && FEATURE_TYPES.has(value);
}

export function isJoinKeyType(value: unknown): value is JoinKeyType {
  return typeof value === "string" && (JOIN_KEY_TYPES as readonly string[]).includes(value);
}

export function elementType(type: FeatureType): ScalarType | undefined {
  return type.endsWith("[]") ? (type.slice(0, -2) as ScalarType) : undefined;
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** The check for non-null values of a scalar type, built once per type (the write path runs it per value). */
export function scalarCheck(type: ScalarType): (value: unknown) => boolean {
  switch (type) {
    case "int32":
      return (value) =>
        Number.isInteger(value) && (value as number) >= INT32_MIN && (value as number) <= INT32_MAX;
    case "int64":
      return (value) =>
        Number.isSafeInteger(value) ||
        (typeof value === "bigint" && value >= INT64_MIN && value <= INT64_MAX);
    case "float32":
    case "float64":
      return (value) => typeof value === "number";
    case "unix_timestamp":
      return (value) => Number.isSafeInteger(value);
    case "string":
      return (value) => typeof value === "string";
    case "bytes":
      return (value) => value instanceof Uint8Array;
    case "bool":
      return (value) => typeof value === "boolean";
  }
}

/** The check for values (null included) of a feature type. */
export function valueCheck(type: FeatureType): (value: unknown) => boolean {
  const element = elementType(type);
  if (element === undefined) {
    const check = scalarCheck(type as ScalarType);
    return (value) => value === null || check(value);
  }
  const check = scalarCheck(element);
  return (value) =>
    value === null || (Array.isArray(value) && value.every((item) => item !== null && check(item)));
}

/** Whether a value (possibly null) fits a feature type. */
export function isValueOf(type: FeatureType, value: unknown): boolean {
  return valueCheck(type)(value);
}
