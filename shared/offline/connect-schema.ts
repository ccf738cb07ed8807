import { elementType, type FeatureType, type ScalarType } from "../registry/feature-types.js";

/** A Kafka Connect schema, as JsonConverter writes and reads it (schemas.enable=true). */
export interface ConnectSchema {
  type: string;
  optional: boolean;
  field?: string;
  name?: string;
  version?: number;
  items?: ConnectSchema;
  fields?: ConnectSchema[];
}

const TIMESTAMP = "org.apache.kafka.connect.data.Timestamp";

/**
 * Connect's type for a Strata scalar. The sink maps these to Iceberg: int32 -> int,
 * int64 -> long, float -> float, double -> double, string, bytes -> binary, boolean, and the
 * Timestamp logical type (epoch milliseconds) -> timestamptz.
 */
export function scalarSchema(type: ScalarType, optional: boolean): ConnectSchema {
  switch (type) {
    case "int32":
      return { type: "int32", optional };
    case "int64":
      return { type: "int64", optional };
    case "float32":
      return { type: "float", optional };
    case "float64":
      return { type: "double", optional };
    case "string":
      return { type: "string", optional };
    case "bytes":
      return { type: "bytes", optional };
    case "bool":
      return { type: "boolean", optional };
    case "unix_timestamp":
      return { type: "int64", optional, name: TIMESTAMP, version: 1 };
  }
}

/** How one feature's value-codec text becomes JSON in the payload (null for ""). */
export type PayloadWriter = (text: string) => string;

/** Numbers (and numeric lists) are stored as their JSON text: exact for int64 past 2^53. */
const verbatim: PayloadWriter = (text) => (text === "" ? "null" : text);
/**
 * Floats and float lists: stored as JSON numbers too, except NaN and the infinities, written
 * by name. Kafka Connect's JsonConverter refuses those tokens (its parser does not allow
 * non-numeric numbers), which would stop the sink; such a value (or a list holding one) is
 * written as null instead (docs/offline-store.md).
 */
const float: PayloadWriter = (text) => (text === "" || NON_FINITE.test(text) ? "null" : text);
const NON_FINITE = /NaN|Infinity/;
/** Strings and bytes are stored behind a one-character marker; bytes are base64 already, as JsonConverter expects. */
const marked: PayloadWriter = (text) => (text === "" ? "null" : JSON.stringify(text.slice(1)));
const bool: PayloadWriter = (text) => (text === "" ? "null" : text === "1" ? "true" : "false");

export function payloadWriter(type: FeatureType): PayloadWriter {
  const element = elementType(type);
  const scalar = element ?? type;
  if (scalar === "float32" || scalar === "float64") return float;
  if (element !== undefined) return verbatim; // lists are stored as JSON arrays of their items
  if (type === "string" || type === "bytes") return marked;
  if (type === "bool") return bool;
  return verbatim;
}
