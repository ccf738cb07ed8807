// CPU time of the processes a benchmark runs on, from /proc: on this 2-core machine the
// write path is CPU-bound end to end, so where the CPU goes per row says more than any
// single rate. Linux only; elsewhere the figures are left out.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { stackStatus } from "../dev/stack/stack.js";

/** Processes to account, by role: undefined pids (not known, not local) are skipped. */
export type ProcessRoles = Record<string, number | undefined>;

let ticksPerSecond: number | undefined;

/** User + system CPU of a process so far, in microseconds; undefined when /proc cannot say. */
export function processCpuMicros(pid: number): number | undefined {
  try {
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    ticksPerSecond ??= Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }));
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / ticksPerSecond;
  } catch {
    return undefined;
  }
}

/** The local stack's servers (from `npm run stack`): none when the endpoints are external. */
export function stackServerPids(): { redis?: number; kafka?: number } {
  const pidOf = (name: string) => stackStatus().find((s) => s.name === name)?.pids[0];
  return { redis: pidOf("redis"), kafka: pidOf("kafka") };
}

/**
 * Starts accounting: the returned function gives each role's CPU microseconds per unit of
 * work (per row, per record) since the call, and their total.
 */
export function startCpuAccount(roles: ProcessRoles): (units: number) => Record<string, number> {
  const before = new Map<string, number>();
  for (const [role, pid] of Object.entries(roles)) {
    const micros = pid === undefined ? undefined : processCpuMicros(pid);
    if (micros !== undefined) before.set(role, micros);
  }
  return (units) => {
    const perUnit: Record<string, number> = {};
    let total = 0;
    for (const [role, start] of before) {
      const now = processCpuMicros(roles[role]!);
      if (now === undefined) continue;
      perUnit[role] = Number(((now - start) / units).toFixed(1));
      total += (now - start) / units;
    }
    if (Object.keys(perUnit).length > 0) perUnit.total = Number(total.toFixed(1));
    return perUnit;
  };
}
