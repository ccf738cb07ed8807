import type { Painter } from "./output.js";
import type { RegistryPlan } from "./registry-commands.js";

const MARKS = { add: "+", change: "~", remove: "-" } as const;

/**
 * A plan as `strata plan` prints it: where it starts, one line per change (`+` added, `~`
 * changed, `-` removed), each incompatible one followed by its reasons, and the counts.
 */
export function planText(plan: RegistryPlan, paint: Painter): string[] {
  const short = (hash: string) => hash.slice(0, 12);
  const from = plan.current
    ? `version ${plan.current.version} (${short(plan.current.hash)}, applied by ${plan.current.appliedBy} at ${plan.current.appliedAt} in ${plan.current.region})`
    : "nothing published";
  const lines = [`registry of project ${plan.project}: ${from}`];
  if (plan.changes.length === 0) {
    lines.push(`no changes: the published registry is this definition (${short(plan.hash)})`);
    return lines;
  }
  lines.push(`plan for version ${(plan.current?.version ?? 0) + 1} (${short(plan.hash)}):`);
  for (const change of plan.changes) {
    const colour = change.incompatible ? "red" : change.action === "remove" ? "yellow" : "green";
    lines.push(
      paint(colour, `  ${MARKS[change.action]} ${change.kind} ${change.subject}: ${change.detail}`),
    );
    for (const reason of change.incompatible ?? []) {
      lines.push(paint("red", `      ! incompatible: ${reason}`));
    }
  }
  const count = (action: keyof typeof MARKS) =>
    plan.changes.filter((c) => c.action === action).length;
  lines.push(
    `${count("add")} to add, ${count("change")} to change, ${count("remove")} to remove; ${plan.incompatible} incompatible` +
      (plan.incompatible > 0 ? " (refused without --allow-breaking)" : ""),
  );
  return lines;
}
