import { spawn, execFile } from "node:child_process";
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import net from "node:net";
import path from "node:path";
import { promisify } from "node:util";
import { stackPaths } from "./paths.js";
import { StackError } from "./stack-error.js";
import { sleep } from "./wait.js";

const execFileAsync = promisify(execFile);

function pidFile(name: string): string {
  return path.join(stackPaths.pids, `${name}.pid`);
}

/**
 * The pid recorded for `name`, if that process is alive and is still ours: its working
 * directory must be `workDir` (a folder under .stack that only we use), so a recycled pid
 * is never mistaken for one of our servers and `down` never signals a stranger. The
 * working directory, not the command line, because redis-server rewrites its argv.
 */
export function ourRunningPid(name: string, workDir: string): number | undefined {
  const file = pidFile(name);
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, "utf8").trim());
  if (Number.isInteger(pid) && pid > 0 && isAlive(pid) && workingDirectory(pid) === workDir) {
    return pid;
  }
  rmSync(file, { force: true });
  return undefined;
}

function workingDirectory(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return undefined;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // A zombie still answers signal 0; /proc tells us it is gone.
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    return false;
  }
}

export interface DetachedSpec {
  name: string;
  command: string;
  args: string[];
  /** The server's working directory: also how we recognise it later (see ourRunningPid). */
  workDir: string;
  logFile: string;
  env?: NodeJS.ProcessEnv;
}

/** Starts a server that outlives this CLI, output appended to its log file, pid recorded. */
export function startDetached(spec: DetachedSpec): number {
  mkdirSync(stackPaths.pids, { recursive: true });
  mkdirSync(path.dirname(spec.logFile), { recursive: true });
  const log = openSync(spec.logFile, "a");
  try {
    const child = spawn(spec.command, spec.args, {
      cwd: spec.workDir,
      detached: true,
      stdio: ["ignore", log, log],
      env: spec.env ?? process.env,
    });
    if (child.pid === undefined) {
      throw new StackError(`could not start ${spec.command} for ${spec.name}`);
    }
    child.unref();
    writeFileSync(pidFile(spec.name), `${child.pid}\n`);
    return child.pid;
  } finally {
    closeSync(log);
  }
}

/**
 * Stops the process recorded for `name` (SIGTERM, then SIGKILL after `graceMs`) and
 * removes its pid file. Returns whether there was one of ours to stop.
 */
export async function stopRecorded(
  name: string,
  workDir: string,
  graceMs: number,
): Promise<boolean> {
  const pid = ourRunningPid(name, workDir);
  if (pid === undefined) return false;
  signal(pid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(100);
  if (isAlive(pid)) {
    signal(pid, "SIGKILL");
    while (isAlive(pid)) await sleep(50);
  }
  rmSync(pidFile(name), { force: true });
  return true;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone: nothing to stop.
  }
}

/** True when nothing listens on host:port (we can bind it ourselves). */
export function isPortFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once("error", () => resolve(false));
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve(true)));
  });
}

export async function requireFreePort(
  port: number,
  host: string,
  service: string,
  envVar?: string,
) {
  if (!(await isPortFree(port, host))) {
    const elsewhere = envVar ? `, point Strata at an existing server with ${envVar},` : "";
    throw new StackError(
      `port ${host}:${port} for ${service} is already taken by a process the stack did not start`,
      `stop that process${elsewhere} or shift the whole stack with STRATA_STACK_PORT_OFFSET (e.g. 1000)`,
    );
  }
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

/** Runs a short command to completion with a hard timeout; failures become StackErrors. */
export async function runCommand(
  command: string,
  args: string[],
  what: string,
  timeoutMs: number,
  env?: NodeJS.ProcessEnv,
): Promise<RunResult> {
  try {
    const { stdout, stderr } = await execFileAsync(command, args, {
      timeout: timeoutMs,
      killSignal: "SIGKILL",
      maxBuffer: 16 * 1024 * 1024,
      env: env ?? process.env,
    });
    return { stdout, stderr };
  } catch (error) {
    const e = error as NodeJS.ErrnoException & {
      killed?: boolean;
      stderr?: string;
      stdout?: string;
    };
    if (e.code === "ENOENT") throw new StackError(`${what}: ${command} is not installed`);
    if (e.killed)
      throw new StackError(`${what}: ${command} did not finish within ${timeoutMs / 1000}s`);
    throw new StackError(
      `${what} failed: ${summarizeOutput(`${e.stderr ?? ""}\n${e.stdout ?? ""}`) || e.message}`,
    );
  }
}

const ESC = String.fromCharCode(27);
const ANSI_COLOUR = new RegExp(`${ESC}\\[[0-9;]*m`, "g");

function stripAnsi(line: string): string {
  return line.replace(ANSI_COLOUR, "");
}

/** The first few error lines of a tool's output (Maven and friends put the cause first). */
export function summarizeOutput(output: string): string {
  const lines = output
    .split("\n")
    .map((line) => stripAnsi(line).trim())
    .filter((line) => line.length > 0);
  const errors = lines.filter((line) => /error|exception/i.test(line));
  return (errors.length > 0 ? errors.slice(0, 3) : lines.slice(-3)).join(" | ");
}

/** SIGKILLs the process recorded for `name` (a crash, for fault tests) and waits until it is gone. */
export async function killRecorded(name: string, workDir: string): Promise<boolean> {
  const pid = ourRunningPid(name, workDir);
  if (pid === undefined) return false;
  signal(pid, "SIGKILL");
  while (isAlive(pid)) await sleep(50);
  rmSync(pidFile(name), { force: true });
  return true;
}
