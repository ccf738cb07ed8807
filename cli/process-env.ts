import type { Command } from "commander";
import type { CliContext } from "./command.js";

/**
 * The environment `strata serve` and `strata ingest` run with. strata.json's `repo` is the file
 * that plan and apply publish; when the project is named too (strata.json's `project` or
 * STRATA_PROJECT), the processes follow the project's published registry, as they do in
 * production, and pick up every apply without a restart. A --repo flag, or STRATA_REPO in the
 * environment itself, still makes them load the file (a registry that never changes).
 */
export function processEnv(
  context: CliContext,
  command: Command,
  flags: Record<string, string | undefined>,
): NodeJS.ProcessEnv {
  const env = context.env(command, flags);
  const repoAsked = flags.STRATA_REPO !== undefined || Boolean(context.io.env.STRATA_REPO);
  if (!repoAsked && env.STRATA_PROJECT) delete env.STRATA_REPO;
  return env;
}
