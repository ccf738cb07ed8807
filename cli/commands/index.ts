// Every subcommand of `strata`, in the order --help lists them. A new capability (regions,
// backfill, training sets, drift) adds its file in this folder and one line here.
import type { CommandSpec } from "../command.js";
import { applyCommand } from "./apply.js";
import { checksumCommand } from "./checksum.js";
import { getCommand } from "./get.js";
import { ingestCommand } from "./ingest.js";
import { initCommand } from "./init.js";
import { planCommand } from "./plan.js";
import { pushCommand } from "./push.js";
import { replayCommand } from "./replay.js";
import { serveCommand } from "./serve.js";
import { stackCommand } from "./stack.js";
import { trainingSetCommand } from "./training-set.js";
import { versionCommand } from "./version.js";

export const COMMANDS: readonly CommandSpec[] = [
  // A feature repo and its registry
  initCommand,
  planCommand,
  applyCommand,
  // Running a region
  serveCommand,
  ingestCommand,
  // Data in and out
  pushCommand,
  getCommand,
  trainingSetCommand,
  // Operations
  replayCommand,
  checksumCommand,
  stackCommand,
  versionCommand,
];
