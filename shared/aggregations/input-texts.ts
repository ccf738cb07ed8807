import { show, StrataError } from "../errors.js";
import type { ResolvedAggregationView } from "../registry/feature-registry.js";

const INTEGER_TYPES = new Set(["int32", "int64", "unix_timestamp"]);

/**
 * The view's input texts from an event's value-codec texts by column ("" or absent: null),
 * checked, with integers made canonical: the apply script compares integer texts as text.
 */
export function canonicalTexts(
  view: ResolvedAggregationView,
  values: Record<string, unknown>,
): string[] {
  return view.aggregation.inputs.map((input) => {
    const text = values[input.name];
    if (text === undefined || text === "") return "";
    if (typeof text !== "string" || !input.codec.acceptsText(text)) {
      throw new StrataError(
        "STRATA_E_BAD_AGGREGATION_EVENT",
        `aggregation event of ${view.key}: input ${input.name} is ${show(text)}, not the value-codec text of a ${input.type}`,
        { view: view.key, input: input.name },
      );
    }
    return INTEGER_TYPES.has(input.type) ? BigInt(text).toString() : text;
  });
}

/**
 * The view's input texts from plain JSON-like values by column (a topic source's record, a
 * pushed row): null or absent is null; int64 may be a decimal string (JSON numbers lose
 * digits past 2^53); bytes are base64 text.
 */
export function textsFromValues(
  view: ResolvedAggregationView,
  values: Record<string, unknown>,
): string[] {
  return view.aggregation.inputs.map((input) => {
    let value = values[input.name];
    if (value === undefined || value === null) return "";
    if (input.type === "int64" && typeof value === "string" && /^-?\d{1,19}$/.test(value)) {
      const big = BigInt(value);
      value = Number.isSafeInteger(Number(big)) ? Number(big) : big;
    } else if (input.type === "bytes" && typeof value === "string") {
      value = Buffer.from(value, "base64");
    }
    if (!input.codec.accepts(value)) {
      throw new StrataError(
        "STRATA_E_VALUE_TYPE",
        `input ${input.name} of ${view.key} is ${show(value)}, not a ${input.type}`,
        { view: view.key, input: input.name, type: input.type },
      );
    }
    const text = input.codec.encode(value);
    return INTEGER_TYPES.has(input.type) ? BigInt(text).toString() : text;
  });
}
