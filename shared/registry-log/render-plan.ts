import type { PlanChange } from "./registry-diff.js";
import type { RegistryPlan } from "./registry-plan.js";

const SYMBOL: Record<PlanChange["action"], string> = { add: "+", change: "~", remove: "-" };

/** One line of a rendered plan, with what it is, so that a terminal front end can colour it. */
export interface PlanLine {
  text: string;
  tone: "plain" | "add" | "change" | "remove" | "incompatible";
}

/**
 * A plan for people, one line per change like `terraform plan`: `+` added, `~` changed, `-`
 * removed, and `!` lines under an incompatible change giving each reason, then the counts.
 */
export function planLines(plan: RegistryPlan): PlanLine[] {
  const short = (hash: string) => hash.slice(0, 12);
  const plain = (text: string): PlanLine => ({ text, tone: "plain" });
  const from = plan.current
    ? `version ${plan.current.version} (${short(plan.current.hash)}, applied by ${plan.current.appliedBy} at ${plan.current.appliedAt} in ${plan.current.region})`
    : "nothing published";
  const lines = [plain(`Registry of project ${plan.project}: ${from}`)];
  if (plan.changes.length === 0) {
    lines.push(
      plain(`No changes: the published registry is this definition (${short(plan.hash)}).`),
    );
    return lines;
  }
  const next = (plan.current?.version ?? 0) + 1;
  lines.push(plain(`Plan for version ${next} (${short(plan.hash)}):`), plain(""));
  for (const change of plan.changes) {
    lines.push({
      text: `  ${SYMBOL[change.action]} ${change.kind} ${change.subject}: ${change.detail}`,
      tone: change.incompatible ? "incompatible" : change.action,
    });
    for (const reason of change.incompatible ?? []) {
      lines.push({ text: `      ! incompatible: ${reason}`, tone: "incompatible" });
    }
  }
  const count = (action: PlanChange["action"]) =>
    plan.changes.filter((c) => c.action === action).length;
  lines.push(
    plain(""),
    plain(
      `${count("add")} to add, ${count("change")} to change, ${count("remove")} to remove; ${plan.incompatible} incompatible` +
        (plan.incompatible > 0 ? " (refused without --allow-breaking)." : "."),
    ),
  );
  return lines;
}

/** planLines as text, without colour. */
export function renderPlan(plan: RegistryPlan): string {
  return `${planLines(plan)
    .map((line) => line.text)
    .join("\n")}\n`;
}
