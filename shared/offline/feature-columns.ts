import { StrataError } from "../errors.js";
import type { ResolvedFeatureRef } from "../registry/index.js";

/**
 * The output column of each requested feature, named as Strata's Feast-compatible serving
 * names them: `feature` (Feast's default), or with full names `view__feature`, a pinned
 * reference `view@2__feature` so two majors of one view never share a name. Two features
 * with one name, or a feature named like one of the entity file's columns, are refused
 * (STRATA_E_FEATURE_NAME_COLLISION) rather than one silently hiding the other.
 */
export function featureColumnNames(
  refs: readonly ResolvedFeatureRef[],
  fullFeatureNames: boolean,
  inputColumns: readonly string[],
): string[] {
  const names = refs.map((ref) =>
    fullFeatureNames
      ? `${ref.view.name}${ref.ref.includes("@") ? `@${ref.view.major}` : ""}__${ref.feature.name}`
      : ref.feature.name,
  );
  const taken = new Set(inputColumns.map((c) => c.toLowerCase()));
  for (const name of names) {
    // DuckDB and Parquet readers treat column names case-insensitively.
    const folded = name.toLowerCase();
    if (taken.has(folded)) {
      const input = inputColumns.some((c) => c.toLowerCase() === folded);
      throw new StrataError(
        "STRATA_E_FEATURE_NAME_COLLISION",
        input
          ? `feature column "${name}" would replace the entity file's column of that name; rename the column or ask with full feature names (--full-names)`
          : `two requested features are both named "${name}"; ask with full feature names (--full-names)`,
        { feature: name },
      );
    }
    taken.add(folded);
  }
  return names;
}
