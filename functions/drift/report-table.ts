import { renderTable } from "../../cli/table.js";
import { ALL_REGIONS } from "../../shared/drift/metric-names.js";
import type { DriftReport } from "./drift-run.js";

/** Features shown per model on a terminal: the highest PSI first. The JSON report has them all. */
const SHOWN_FEATURES = 20;

/** The report as a short table per model, for a terminal. */
export function reportTable(report: DriftReport): string {
  const lines = [
    `drift ${report.project} (region ${report.region}): window ${report.window.start} .. ${report.window.end}, ${report.models.length} model(s), queries ${report.queryMs} ms`,
  ];
  if (report.models.length === 0) lines.push("no active baselines: nothing to evaluate");
  for (const m of report.models) {
    lines.push(
      "",
      `${m.model} ${m.modelVersion} (service ${m.featureService}, baseline ${m.baselineVersion}): ${m.status.toUpperCase()}: ${m.reason}`,
    );
    if (m.trigger) {
      const t = m.trigger;
      lines.push(
        `  retraining: ${t.result}${"detail" in t && t.detail ? `: ${t.detail}` : ""}${"error" in t && t.error ? `: ${t.error.code} ${t.error.message}` : ""}`,
      );
    }
    if (m.unmatched > 0)
      lines.push(`  ${Math.round(m.unmatched)} value(s) in buckets this baseline does not have`);
    if (m.status === "empty") continue;
    const shown = [...m.features]
      .sort((a, b) => (b.regions[ALL_REGIONS]?.psi ?? -1) - (a.regions[ALL_REGIONS]?.psi ?? -1))
      .slice(0, SHOWN_FEATURES);
    const fixed = (n: number | undefined) => (n === undefined ? "-" : n.toFixed(4));
    const rows = shown.map((f) => {
      const all = f.regions[ALL_REGIONS];
      const regions = Object.entries(f.regions)
        .filter(([r]) => r !== ALL_REGIONS)
        .map(([r, s]) => `${r}:${s.level}`)
        .join(" ");
      return [
        f.name,
        String(Math.round(all?.count ?? 0)),
        fixed(all?.psi),
        fixed(all?.js),
        fixed(all?.kl),
        f.level,
        regions,
      ].map((text) => ({ text }));
    });
    lines.push(
      renderTable(["feature", "values", "psi", "js", "kl", "level", "regions"], rows)
        .split("\n")
        .map((l) => `  ${l}`)
        .join("\n"),
    );
    if (m.features.length > shown.length)
      lines.push(`  ... and ${m.features.length - shown.length} more (see --json)`);
  }
  for (const e of report.errors) lines.push("", `error: ${e.model}: ${e.code}: ${e.message}`);
  return lines.join("\n");
}
