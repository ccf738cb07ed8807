import { planLines, type PlanLine, type RegistryPlan } from "../shared/registry-log/index.js";
import type { Painter } from "./output.js";

const COLOUR = {
  add: "green",
  change: "yellow",
  remove: "yellow",
  incompatible: "red",
} as const satisfies Record<Exclude<PlanLine["tone"], "plain">, string>;

/** A plan as `strata plan` and `strata apply` print it: the library's lines, coloured on a terminal. */
export function planOutput(plan: RegistryPlan, paint: Painter): string[] {
  return planLines(plan).map((line) =>
    line.tone === "plain" ? line.text : paint(COLOUR[line.tone], line.text),
  );
}
