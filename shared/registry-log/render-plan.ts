import type { PlanChange } from "./registry-diff.js";
import type { RegistryPlan } from "./registry-plan.js";

const SYMBOL: Record<PlanChange["action"], string> = { add: "+", change: "~", remove: "-" };

/**
 * A plan as text for people, one line per change like `terraform plan`: `+` added, `~`
 * changed, `-` removed, and `!` lines under an incompatible change giving each reason. No
 * colour: a terminal front end may add it.
 */
export function renderPlan(plan: RegistryPlan): string {
  const short = (hash: string) => hash.slice(0, 12);
  const from = plan.current
    ? `version ${plan.current.version} (${short(plan.current.hash)}, applied by ${plan.current.appliedBy} at ${plan.current.appliedAt} in ${plan.current.region})`
    : "nothing published";
  const lines = [`Registry of project ${plan.project}: ${from}`];
  if (plan.changes.length === 0) {
    lines.push(`No changes: the published registry is this definition (${short(plan.hash)}).`);
    return `${lines.join("\n")}\n`;
  }
  const next = (plan.current?.version ?? 0) + 1;
  lines.push(`Plan for version ${next} (${short(plan.hash)}):`, "");
  for (const change of plan.changes) {
    lines.push(`  ${SYMBOL[change.action]} ${change.kind} ${change.subject}: ${change.detail}`);
    for (const reason of change.incompatible ?? []) lines.push(`      ! incompatible: ${reason}`);
  }
  const count = (action: PlanChange["action"]) =>
    plan.changes.filter((c) => c.action === action).length;
  lines.push(
    "",
    `${count("add")} to add, ${count("change")} to change, ${count("remove")} to remove; ${plan.incompatible} incompatible` +
      (plan.incompatible > 0 ? " (refused without --allow-breaking)." : "."),
  );
  return `${lines.join("\n")}\n`;
}
