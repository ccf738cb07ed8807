// Kubernetes Job (or any container) entry point: runs one backfill to the end. Configuration
// from the environment: STRATA_BACKFILL_VIEW (view@major), one of STRATA_BACKFILL_FILE,
// STRATA_BACKFILL_SQL or STRATA_BACKFILL_REPLAY=on, STRATA_BACKFILL_FLIP=on to flip once
// verified, plus the coordinator's variables (./config.ts). A Job restarted after a crash
// resumes from the state in Redis. Exit 0 done, 1 failed, 2 bad configuration.
import { badConfig, EnvReader } from "../../shared/config/env.js";
import { isStrataError } from "../../shared/errors.js";
import { isMainModule } from "../../shared/main-module.js";
import type { BackfillSource } from "../../shared/backfill/index.js";
import { loadBackfillConfig } from "./config.js";
import { runCommand, withCoordinator } from "./core.js";

export function jobSource(env: NodeJS.ProcessEnv): BackfillSource {
  const read = new EnvReader(env);
  const file = read.get("STRATA_BACKFILL_FILE");
  const sql = read.get("STRATA_BACKFILL_SQL");
  const replay = read.get("STRATA_BACKFILL_REPLAY") === "on";
  const given = [file, sql, replay || undefined].filter((v) => v !== undefined).length;
  if (given !== 1) {
    throw badConfig(
      "STRATA_BACKFILL_FILE",
      file,
      "exactly one of STRATA_BACKFILL_FILE, STRATA_BACKFILL_SQL, STRATA_BACKFILL_REPLAY=on",
    );
  }
  return file ? { kind: "file", path: file } : sql ? { kind: "sql", sql } : { kind: "replay" };
}

export async function runJob(env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const config = loadBackfillConfig(env);
  const read = new EnvReader(env);
  const view = read.required("STRATA_BACKFILL_VIEW", "view@major");
  const source = jobSource(env);
  const flip = read.get("STRATA_BACKFILL_FLIP") === "on";
  const result = await withCoordinator(
    config,
    view,
    (c) => runCommand(c, { action: "run", view, source, flip }, config.graceMs),
    (state) =>
      console.log(
        JSON.stringify({ message: "backfill progress", stage: state.stage, ...state.progress }),
      ),
  );
  console.log(
    JSON.stringify({ message: "backfill", stage: result.state?.stage, id: result.state?.id }),
  );
  return 0;
}

if (isMainModule(import.meta.url)) {
  runJob().then(
    (code) => (process.exitCode = code),
    (error: unknown) => {
      console.error(
        JSON.stringify({
          message: "backfill failed",
          error: isStrataError(error) ? error.toJSON() : String(error),
        }),
      );
      process.exitCode = isStrataError(error) && error.code === "STRATA_E_BAD_CONFIG" ? 2 : 1;
    },
  );
}
