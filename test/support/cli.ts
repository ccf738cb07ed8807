// Running the strata command in tests: in this process (captured streams, a fake terminal when
// asked) or as a child process through bin/strata.js, as a user runs it.
import { spawn } from "node:child_process";
import path from "node:path";
import { repoRoot } from "../../dev/stack/paths.js";
import type { OutStream } from "../../cli/output.js";
import { runCli } from "../../cli/program.js";

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

class Capture implements OutStream {
  text = "";
  constructor(
    readonly isTTY: boolean,
    readonly columns = 100,
  ) {}
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}

/** Runs `strata <argv>` in this process; `tty` makes both streams look like a terminal. */
export async function runInProcess(
  argv: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; tty?: boolean } = {},
): Promise<CliRun> {
  const stdout = new Capture(options.tty === true);
  const stderr = new Capture(options.tty === true);
  const { code } = await runCli(argv, {
    stdout,
    stderr,
    env: options.env ?? {},
    cwd: options.cwd ?? repoRoot,
  });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

export const STRATA_BIN = path.join(repoRoot, "bin", "strata.js");

/** Runs `strata <args>` as a child process (node bin/strata.js) and waits for its exit. */
export function runStrata(
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<CliRun> {
  return runStrataAt(STRATA_BIN, args, options);
}

/** As runStrata, with the launcher at `bin` (a copy of the checkout laid out otherwise). */
export function runStrataAt(
  bin: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      cwd: options.cwd ?? repoRoot,
      env: options.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 120_000);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}
