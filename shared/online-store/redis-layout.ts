/**
 * Names in Redis (see ../shared/design.md, "Redis layout"):
 * - entity hash          fs:{<project>:<entities>:<encoded key>}   (shared/key-codec.ts)
 * - feature field        <view>@<major>#<gen>:<feature>
 * - row version field    <view>@<major>#<gen>:_v
 * - row clock field      <view>@<major>#<gen>:_cv
 * - generation pointer   fs:{<project>}:gen:<view>@<major>
 * View and feature names are identifiers, so `@`, `#` and `:` separate them unambiguously.
 */
export const VERSION_FIELD = "_v";
export const CLOCK_FIELD = "_cv";

export function fieldPrefix(viewKey: string, generation: number): string {
  return `${viewKey}#${generation}:`;
}

export function generationPointerKey(project: string, viewKey: string): string {
  return `fs:{${project}}:gen:${viewKey}`;
}

/** A view with no pointer yet reads and writes generation 0. */
export const INITIAL_GENERATION = 0;
