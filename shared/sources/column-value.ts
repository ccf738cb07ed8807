import { show, StrataError } from "../errors.js";
import { elementType, type FeatureType, type ScalarType } from "../registry/feature-types.js";

/**
 * A column value as Debezium's JsonConverter writes it (decimal.handling.mode=string,
 * time.precision.mode=connect) turned into the JavaScript value Strata's codec takes for
 * `type` (shared/registry/feature-types.ts). The codec still checks the result (range, type);
 * this only bridges representations:
 * - numeric/decimal columns arrive as strings: parsed for int and float features;
 * - int8 past 2^53 arrives as a bigint (exact JSON parsing): kept for int64;
 * - timestamp arrives as epoch ms, timestamptz as ISO 8601 text: both become epoch ms;
 * - bytea arrives as base64 text: decoded;
 * - arrays arrive as JSON arrays: converted element by element.
 * Throws STRATA_E_CDC_UNMAPPABLE when the value cannot be read as the type.
 */
export function columnValue(value: unknown, type: FeatureType, where: string): unknown {
  if (value === null || value === undefined) return null;
  const element = elementType(type);
  if (element === undefined) return scalarValue(value, type as ScalarType, where);
  if (!Array.isArray(value)) throw unmappable(value, type, where);
  return value.map((item: unknown) => scalarValue(item, element, where));
}

const INTEGER_TEXT = /^-?\d+$/;
const DECIMAL_TEXT = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;

function scalarValue(value: unknown, type: ScalarType, where: string): unknown {
  switch (type) {
    case "int32":
    case "int64":
      if (typeof value === "number" || typeof value === "bigint") return value;
      if (typeof value === "string" && INTEGER_TEXT.test(value)) {
        const n = Number(value);
        return Number.isSafeInteger(n) ? n : BigInt(value);
      }
      // A numeric column with a zero fraction ("12.00") is an integer all the same.
      if (typeof value === "string" && /^-?\d+\.0*$/.test(value)) {
        return scalarValue(value.slice(0, value.indexOf(".")), type, where);
      }
      break;
    case "float32":
    case "float64":
      if (typeof value === "number") return value;
      if (typeof value === "bigint") return Number(value);
      if (typeof value === "string" && DECIMAL_TEXT.test(value)) return Number(value);
      if (value === "NaN") return NaN;
      break;
    case "string":
      if (typeof value === "string") return value;
      if (typeof value === "number" || typeof value === "bigint" || typeof value === "boolean") {
        return String(value);
      }
      // json/jsonb columns arrive as text already; a struct (e.g. a geometry) as its JSON.
      if (typeof value === "object") return JSON.stringify(value, bigintText);
      break;
    case "bool":
      if (typeof value === "boolean") return value;
      break;
    case "unix_timestamp":
      if (typeof value === "number") return value;
      if (typeof value === "string") {
        const ms = Date.parse(value);
        if (!Number.isNaN(ms)) return ms;
      }
      break;
    case "bytes":
      if (typeof value === "string") return Buffer.from(value, "base64");
      break;
  }
  throw unmappable(value, type, where);
}

function bigintText(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}

function unmappable(value: unknown, type: FeatureType, where: string): StrataError {
  return new StrataError(
    "STRATA_E_CDC_UNMAPPABLE",
    `${where}: column value ${show(value)} cannot be read as ${type}`,
    { type },
  );
}
