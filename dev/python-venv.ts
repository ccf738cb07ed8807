// A Python virtual environment made from a pinned lockfile and cached by that file's hash, for
// the test tools written in Python (Feast's SDK, PyIceberg): a machine that made it once reuses
// it, a lockfile change makes a new one and removes the old.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";

/** Runs a command to completion with its output shown; throws when it fails. */
function run(command: string, args: string[]): void {
  const result = spawnSync(command, args, { stdio: "inherit" });
  if (result.error) throw new Error(`${command} could not run: ${result.error.message}`);
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(" ")} failed (exit ${result.status ?? result.signal})`);
  }
}

/**
 * The venv of `lockfile` under `cacheRoot` (`venv-<hash>`): reused when complete, else built
 * with pip from the lockfile (fails loudly); older venvs of the same cache are removed.
 * Returns the venv's folder.
 */
export function cachedVenv(
  lockfile: string,
  cacheRoot: string,
  log: (line: string) => void = () => {},
): string {
  const hash = createHash("sha256").update(readFileSync(lockfile)).digest("hex").slice(0, 16);
  const venv = path.join(cacheRoot, `venv-${hash}`);
  // Written last: a venv without it was cut short and is built again.
  const ready = path.join(venv, ".ready");
  if (existsSync(ready)) {
    log(`reusing the Python venv ${venv}`);
    return venv;
  }
  const started = performance.now();
  log(`creating the Python venv ${venv} from ${lockfile} ...`);
  mkdirSync(cacheRoot, { recursive: true });
  rmSync(venv, { recursive: true, force: true });
  run("python3", ["-m", "venv", venv]);
  run(path.join(venv, "bin/pip"), [
    "install",
    "--quiet",
    "--disable-pip-version-check",
    "-r",
    lockfile,
  ]);
  writeFileSync(ready, `${new Date().toISOString()}\n`);
  log(`venv ready in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  for (const entry of readdirSync(cacheRoot)) {
    if (entry.startsWith("venv-") && entry !== `venv-${hash}`) {
      rmSync(path.join(cacheRoot, entry), { recursive: true, force: true });
    }
  }
  return venv;
}
