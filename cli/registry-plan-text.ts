import type { Painter } from "./output.js";
import type { RegistryPlan } from "./registry-commands.js";

const MARKS = { added: "+", changed: "~", removed: "-" } as const;

/** A plan as `strata plan` prints it: one line per change, incompatible ones marked and explained. */
export function planText(plan: RegistryPlan, paint: Painter): string[] {
  const current = plan.current
    ? `published version ${plan.current.version} (${plan.current.hash.slice(0, 12)})`
    : "nothing published yet";
  const lines = [`project ${plan.project}: ${current}; repo ${plan.hash.slice(0, 12)}`];
  if (plan.changes.length === 0) {
    lines.push("no changes");
    return lines;
  }
  for (const change of plan.changes) {
    const colour = change.breaking ? "red" : change.action === "removed" ? "yellow" : "green";
    const detail = change.detail ? `: ${change.detail}` : "";
    lines.push(paint(colour, `  ${MARKS[change.action]} ${change.kind} ${change.name}${detail}`));
    if (change.breaking) lines.push(paint("red", `      incompatible: ${change.breaking}`));
  }
  const breaking = plan.changes.filter((c) => c.breaking).length;
  lines.push(
    `${plan.changes.length} change${plan.changes.length === 1 ? "" : "s"}, ${breaking} incompatible`,
  );
  return lines;
}
