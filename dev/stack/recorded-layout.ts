import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { DEFAULT_REGIONS, stackLayout, type StackLayout } from "./layout.js";
import { stackPaths } from "./paths.js";
import { StackError } from "./stack-error.js";

/**
 * The layout `up` started, in .stack/regions.json. Written before the first service starts,
 * so that `down` after a failed `up` still knows what to stop.
 */
export function recordLayout(layout: StackLayout): void {
  mkdirSync(path.dirname(stackPaths.regionsFile), { recursive: true });
  writeFileSync(stackPaths.regionsFile, `${JSON.stringify(layout, null, 2)}\n`);
}

/** The recorded layout, if any. */
export function recordedLayout(): StackLayout | undefined {
  if (!existsSync(stackPaths.regionsFile)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(stackPaths.regionsFile, "utf8"));
  } catch {
    throw new StackError(
      `${stackPaths.regionsFile} is not valid JSON`,
      "stop the stack's servers by hand if any run, then delete the file",
    );
  }
  if (!isLayout(parsed)) {
    throw new StackError(
      `${stackPaths.regionsFile} does not describe a stack layout`,
      "stop the stack's servers by hand if any run, then delete the file",
    );
  }
  // Recompute from the recorded names and offset: the file names what runs, the code the ports.
  return stackLayout(
    parsed.regions.map((region) => region.name),
    parsed.portOffset,
  );
}

/** The recorded layout, or the single-region default of this environment's offset. */
export function currentLayout(): StackLayout {
  return recordedLayout() ?? stackLayout(DEFAULT_REGIONS);
}

export function forgetLayout(): void {
  rmSync(stackPaths.regionsFile, { force: true });
}

function isLayout(value: unknown): value is StackLayout {
  if (typeof value !== "object" || value === null) return false;
  const candidate = value as Partial<StackLayout>;
  return (
    typeof candidate.portOffset === "number" &&
    Array.isArray(candidate.regions) &&
    candidate.regions.every((region) => typeof region?.name === "string")
  );
}
